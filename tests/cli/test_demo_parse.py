"""`azak demo`'s one ``dbt parse`` (``steps.DbtParse``): started first on a fresh clone, it gives
the code location its manifest and the first dbt step its parse state, so the project is parsed
once, not twice (6 s of CPU each, on a two-core machine also starting PostgreSQL, Milvus and
Dagster's imports)."""

import json

from azak_cli.demo.steps import DbtParse
from azak_pipelines.defs.dbt.project import ensure_manifest
from azak_pipelines.lib import dbt_files


def _nodes(manifest: dict) -> dict[str, tuple[str, str]]:
    return {key: (node["database"], node["schema"]) for key, node in manifest["nodes"].items()}


def test_the_early_parse_puts_the_manifest_the_code_location_reads_in_place(tmp_path, monkeypatch):
    project_manifest = json.loads(ensure_manifest().read_text())
    missing = tmp_path / "target" / "manifest.json"  # as in a fresh clone (the shared one stays)
    missing.parent.mkdir()
    monkeypatch.setattr(dbt_files, "MANIFEST", missing)
    parse = DbtParse.early("postgresql://postgres@127.0.0.1:5999/azak")  # no password yet
    assert parse is not None
    parse.finish()
    parse.finish()  # whoever asks second (the first dbt step after the preloading thread) waits for nothing
    assert dbt_files.manifest_is_current()
    made = json.loads(missing.read_text())
    assert _nodes(made) == _nodes(project_manifest) and made["sources"].keys() == project_manifest["sources"].keys()
    assert not parse.target.exists()  # its folder is gone
    assert DbtParse.early("postgresql://postgres@127.0.0.1:5999/azak") is None  # current now: nothing to parse


def test_an_abandoned_parse_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(dbt_files, "MANIFEST", tmp_path / "manifest.json")
    parse = DbtParse.early("postgresql://postgres@127.0.0.1:5999/azak")
    assert parse is not None
    parse.abandon()
    parse.finish()  # after abandon: nothing to wait for, nothing put in place
    assert parse.process.returncode is not None and not parse.target.exists()
    assert not (tmp_path / "manifest.json").exists()


def test_a_parse_for_a_warehouse_of_another_name_leaves_the_manifest_to_the_code_location(tmp_path, monkeypatch):
    """The manifest's relation names carry the database it was parsed for: a demo on
    ``AZAK_DATABASE_URL=…/other`` keeps its parse state but does not replace the project's manifest."""
    missing = tmp_path / "manifest.json"
    monkeypatch.setattr(dbt_files, "MANIFEST", missing)
    parse = DbtParse.early("postgresql://postgres@127.0.0.1:5999/other")
    assert parse is not None
    parse.finish()
    assert not missing.exists() and not parse.target.exists()
