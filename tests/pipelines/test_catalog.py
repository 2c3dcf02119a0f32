"""What Dagit and the data dictionary say about the tables comes from one place: the table specs
(Python assets), the dbt ``.yml`` (models), and the specs again for dbt's sources."""

import json
from pathlib import Path

import dagster as dg

from azak_pipelines.defs.catalog import TABLES_BY_KEY, column_schema
from azak_pipelines.defs.dbt.project import ensure_manifest
from azak_pipelines.dictionary import render
from azak_pipelines.lib.warehouse import Column, TableSpec
from tests.pipelines.runs import definitions

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "dictionary.md"


def test_a_table_spec_becomes_dagits_column_schema():
    spec = TableSpec("raw", "things", (Column("code", "text", nullable=False, comment="the id"),
                                       Column("note", "text")), natural_key=("code",))
    schema = column_schema(spec)
    assert [(c.name, c.type, c.description, c.constraints.nullable, c.constraints.unique)
            for c in schema.columns] == [("code", "text", "the id", False, True), ("note", "text", None, True, False)]


def test_dbt_sources_describe_the_raw_columns_as_their_table_specs_do():
    sources = json.loads(ensure_manifest().read_text())["sources"].values()
    assert len(sources) >= 16
    for source in sources:
        spec = TABLES_BY_KEY[dg.AssetKey(source["meta"]["dagster"]["asset_key"])]
        assert source["description"], source["name"]
        described = {name: column["description"] for name, column in source["columns"].items()}
        assert described == {c.name: c.comment for c in spec.columns}, source["name"]


def test_the_committed_dictionary_is_the_generated_one():
    text = render(definitions())
    assert DICTIONARY.read_text(encoding="utf-8") == text, "docs/dictionary.md is stale: run `azak docs dictionary`"
    graph = definitions().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert f"## `{key.to_user_string()}`" in text
    assert "| `rsi_14` | double precision |  | RSI(14), Wilder smoothing, 0–100 |" in text


@dg.asset(key=["computed", "example"])
def example() -> None:
    """An asset to link."""


def test_code_links_are_local_files_or_the_configured_repository(monkeypatch):
    from azak_pipelines.defs.catalog import PROJECT_ROOT, with_code_links

    monkeypatch.delenv("AZAK_GIT_URL", raising=False)
    [local] = with_code_links([example])
    [reference] = local.specs_by_key[example.key].metadata["dagster/code_references"].code_references
    assert reference.file_path == __file__
    monkeypatch.setenv("AZAK_GIT_URL", "https://github.com/example/azak")
    [linked] = with_code_links([example])
    [url] = linked.specs_by_key[example.key].metadata["dagster/code_references"].code_references
    relative = Path(__file__).relative_to(PROJECT_ROOT)
    assert url.url.startswith(f"https://github.com/example/azak/tree/main/{relative}")
