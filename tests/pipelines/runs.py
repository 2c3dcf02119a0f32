"""Running the real code location in-process against the test database."""

import os
from functools import lru_cache
from typing import Any

import dagster as dg

from azak_pipelines.definitions import defs


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
    """Execute a job of the code location, as the CLI and the daemon would."""
    tags = {}
    if partition_range:
        tags = {"dagster/asset_partition_range_start": partition_range[0],
                "dagster/asset_partition_range_end": partition_range[1]}
    return definitions().resolve_job_def(job).execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(), tags=tags, run_config=run_config or {},
        raise_on_error=raise_on_error,
        asset_selection=[dg.AssetKey.from_user_string(a) for a in assets] if assets else None)


def materialization(result: Any, asset: str) -> dict[str, Any]:
    """The metadata of the (last) materialization of ``asset`` in a run."""
    events = [e for e in result.get_asset_materialization_events()
              if e.asset_key.to_user_string() == asset]
    assert events, f"{asset} was not materialized"
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def checks(result: Any) -> dict[str, Any]:
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
