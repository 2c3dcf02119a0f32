"""Each dbt build leaves its parse state for the next one (``keep_partial_parse``): dagster-dbt runs
every invocation in a target folder of its own, seeded with the project's state, and that state
used to carry ``dbt parse``'s default connection, so every build parsed the whole project again
("profile has changed"; 3.6-4.3 s against 1.1-1.4 s a build at load 2-3)."""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from azak_pipelines.defs.dbt.project import DBT_PROJECT_DIR, dbt_env, keep_partial_parse


def parse_log(dbt: DbtCliResource) -> tuple[Path, str]:
    invocation = dbt.cli(["parse"], raise_on_error=True)
    invocation.wait()
    return invocation.target_path, (invocation.target_path / "dbt.log").read_text()


def test_a_build_leaves_its_parse_state_for_the_next(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"  # a copy: other tests' builds share the real project's state
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    for name, value in dbt_env("postgresql://postgres@127.0.0.1:5432/azak_parse_state").items():
        monkeypatch.setenv(name, value)
    dbt = DbtCliResource(project_dir=str(project), profiles_dir=str(project),
                         dbt_executable=str(Path(sys.executable).with_name("dbt")))

    first, log = parse_log(dbt)
    assert "Unable to do partial parsing" in log  # nothing to start from
    _, log = parse_log(dbt)
    assert "Unable to do partial parsing" in log  # the finished state stayed in its own folder

    keep_partial_parse(first, project)
    _, log = parse_log(dbt)
    assert "Unable to do partial parsing" not in log and "Nothing changed, skipping partial parsing" in log
