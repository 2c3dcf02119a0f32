"""Each dbt build leaves its parse state for the next one (``keep_partial_parse``): dagster-dbt runs
every invocation in a target folder of its own, seeded with the project's state, and that state
used to carry ``dbt parse``'s default connection, so every build parsed the whole project again
("profile has changed"; 3.6-4.3 s against 1.1-1.4 s a build at load 2-3). The state is kept per
connection too (``invocation_target``), so that builds against two warehouses in turn (the suite,
a simulation beside the demo) each start from their own."""

import shutil
import sys
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource

from azak_pipelines.defs.dbt.project import DBT_PROJECT, invocation_target, keep_partial_parse, parse_state
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR, MANIFEST, dbt_env

A, B = (dbt_env(f"postgresql://postgres@127.0.0.1:5432/azak_parse_state_{name}") for name in "ab")


def parse_log(dbt: DbtCliResource, target: Path | None = None) -> tuple[Path, str]:
    invocation = dbt.cli(["parse"], raise_on_error=True, target_path=target)
    invocation.wait()
    return invocation.target_path, (invocation.target_path / "dbt.log").read_text()


def test_a_build_leaves_its_parse_state_for_the_next_on_its_connection(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"  # a copy: other tests' builds share the real project's state
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    dbt = DbtCliResource(project_dir=str(project), profiles_dir=str(project),
                         dbt_executable=str(Path(sys.executable).with_name("dbt")))

    def parse(env: dict[str, str]) -> tuple[Path, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return parse_log(dbt, invocation_target("parse", env, project))

    first, log = parse(A)
    assert "Unable to do partial parsing" in log  # nothing to start from
    keep_partial_parse(first, project, env=A)
    second, log = parse(B)
    assert "Unable to do partial parsing because profile has changed" in log  # A's state does not fit B
    keep_partial_parse(second, project, env=B)
    _, log = parse(A)
    assert "Unable to do partial parsing" not in log and "Nothing changed, skipping partial parsing" in log


def test_an_invocation_starts_from_its_connections_state(tmp_path):
    project = tmp_path / "dbt_project"
    assert not invocation_target("x", A, project).exists()  # no state yet: dagster-dbt seeds the folder
    done = tmp_path / "done"
    done.mkdir()
    for env, content in ((A, b"state of a"), (B, b"state of b")):
        (done / "partial_parse.msgpack").write_bytes(content)
        keep_partial_parse(done, project, env=env)
    assert (invocation_target("x", A, project) / "partial_parse.msgpack").read_bytes() == b"state of a"
    assert (project / "target" / "partial_parse.msgpack").read_bytes() == b"state of b"  # the last one kept


@pytest.mark.parametrize("other", ["host", "port", "user", "database"])
def test_each_connection_keeps_its_own_state(tmp_path, other):
    url = {"host": "postgresql://postgres@10.0.0.1:5432/azak", "port": "postgresql://postgres@127.0.0.1:5433/azak",
           "user": "postgresql://other@127.0.0.1:5432/azak", "database": "postgresql://postgres@127.0.0.1:5432/x"}
    base = dbt_env("postgresql://postgres@127.0.0.1:5432/azak")
    assert parse_state(base, tmp_path) != parse_state(dbt_env(url[other]), tmp_path)
    assert parse_state(base, tmp_path) == parse_state(dbt_env("postgresql://postgres:secret@127.0.0.1:5432/azak"),
                                                      tmp_path)  # dbt's profile hash leaves the password out


def test_the_manifest_is_where_dagster_dbt_reads_it():
    """``lib/dbt_files`` names the manifest without importing dagster-dbt (the demo checks it, and
    starts ``dbt parse``, before Dagster is imported): it must be DbtProject's own path."""
    assert DBT_PROJECT.manifest_path == MANIFEST


def test_a_state_parsed_without_the_password_fits_the_connection_with_it(tmp_path, monkeypatch):
    """``azak demo`` parses before its embedded PostgreSQL has a password (``DbtParse.early``); the
    warehouse's first build starts from that state only because dbt's profile hash leaves the
    password out."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    dbt = DbtCliResource(project_dir=str(project), profiles_dir=str(project),
                         dbt_executable=str(Path(sys.executable).with_name("dbt")))
    without, with_password = (dbt_env(f"postgresql://postgres{secret}@127.0.0.1:5999/azak")
                              for secret in ("", ":a-password"))
    for name, value in without.items():
        monkeypatch.setenv(name, value)
    first, _ = parse_log(dbt, invocation_target("parse", without, project))
    keep_partial_parse(first, project, env=without)
    for name, value in with_password.items():
        monkeypatch.setenv(name, value)
    _, log = parse_log(dbt, invocation_target("parse", with_password, project))
    assert "Unable to do partial parsing" not in log and "Nothing changed, skipping partial parsing" in log
