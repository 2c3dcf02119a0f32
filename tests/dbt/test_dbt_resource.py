"""``AzakDbtCliResource`` starts dbt without dagster-dbt's ``dbt --version`` subprocess and without a
dbt adapter in the run's process unless row counts or column lineage need one. Both replace members
dagster-dbt does not document: these tests fail on an upgrade that renames or stops using them,
rather than letting every marts run quietly pay for them again (docs/figures.md)."""

import inspect
from functools import cached_property
from importlib import metadata
from typing import Any

import pytest
from dagster_dbt import DbtCliResource
from dagster_dbt.core import resource as dagster_dbt_resource
from packaging import version

from azak_pipelines.defs.dbt.resources import DBT_EXECUTABLE, AzakDbtCliResource
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR


def test_the_replaced_members_are_still_dagster_dbts_own():
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    assert list(inspect.signature(DbtCliResource._initialize_dbt_core_adapter).parameters) == ["self", "args"]
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source and "self._initialize_dbt_core_adapter(args)" in source


@pytest.fixture
def started(monkeypatch) -> list[dict[str, Any]]:
    """What ``cli`` would start dbt with (no subprocess); ``dbt --version`` fails the test."""
    def no_version(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError(f"dagster-dbt ran {args}")

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_version)
    monkeypatch.setattr(dagster_dbt_resource.DbtCliInvocation, "run", lambda **kwargs: calls.append(kwargs))
    return calls


def resource() -> AzakDbtCliResource:
    return AzakDbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                              dbt_executable=DBT_EXECUTABLE)


def test_dbt_starts_without_its_version_subprocess_or_an_adapter(started):
    resource().cli(["build"])
    assert started[0]["cli_version"] == version.parse(metadata.version("dbt-core"))
    assert started[0]["adapter"] is None


def test_an_invocation_fetching_metadata_gets_the_adapter(started):
    dbt = resource()
    dbt.cli(["build"], metadata=True)
    dbt.cli(["build"])
    assert started[0]["adapter"] is not None  # fetch_row_counts / fetch_column_metadata query with it
    assert started[1]["adapter"] is None
