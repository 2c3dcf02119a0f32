"""Running the real code location in-process against the test database (through
``azak_pipelines.runs``, as the CLI does)."""

import os
from functools import lru_cache
from typing import Any

import dagster as dg

from azak_pipelines import runs
from azak_pipelines.definitions import defs
from azak_pipelines.runs import checks

__all__ = ["checks", "definitions", "materialization", "run"]


@lru_cache(maxsize=4)
def _definitions(environment: frozenset[tuple[str, str]]) -> dg.Definitions:
    return defs()


def definitions() -> dg.Definitions:
    """The code location as the current ``AZAK_*`` environment configures its resources (a test that
    changes a variable gets definitions loaded with it, as a restarted code server would)."""
    return _definitions(frozenset((k, v) for k, v in os.environ.items() if k.startswith(("AZAK_", "DAGSTER_"))))


def run(job: str, partition_range: tuple[str, str] | None = None, run_config: dict | None = None,
        instance: dg.DagsterInstance | None = None, raise_on_error: bool = True,
        assets: list[str] | None = None) -> Any:
    """Execute a job of the code location in this process, in an ephemeral instance unless given one."""
    return runs.execute_in_process(definitions().resolve_job_def(job), instance or dg.DagsterInstance.ephemeral(),
                                   partition_range, run_config, raise_on_error=raise_on_error, assets=assets)


def materialization(result: Any, asset: str) -> dict[str, Any]:
    """The metadata of the (last) materialization of ``asset`` in a run."""
    found = runs.materialization(result, asset)
    assert found is not None, f"{asset} was not materialized"
    return found
