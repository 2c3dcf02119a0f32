"""How a Dagster run is named and tagged, for the pipelines and the API alike (the API launches
runs through Dagit and cannot import the pipelines)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

# Runs launched for an API caller never hold up the platform's own work: the daemon's queued run
# coordinator dequeues higher priorities first (the platform's runs have 0), and dagster.yaml's
# tag_concurrency_limits cap how many runs tagged azak/origin=api run at once. The API's own
# launches and the runs the daemon starts for the API's requests (a stock's onboarding) carry them.
API_RUN_TAGS = {"azak/origin": "api", "dagster/priority": "-1"}

# the longest window a model's onboarding backfill may cover (ten years: longer is a typo)
MODEL_BACKFILL_MAX_DAYS = 3660


def backfill_window_problem(start: date | None, end: date | None) -> str | None:
    """What is wrong with a model backfill's window (either end may be left to the default), or None."""
    if start and end and start > end:
        return "the backfill's start must not be after its end"
    if start and end and (end - start).days >= MODEL_BACKFILL_MAX_DAYS:
        return f"the backfill's window may span at most {MODEL_BACKFILL_MAX_DAYS} days"
    return None

# one run over a range of partitions: the first and the last key, inclusive
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

# the per-stock reports an API user can refresh: the asset's key and the job that runs it
STOCK_REPORTS_KEY = ("computed", "stock_reports")
STOCK_REPORTS_JOB = "stock_reports_job"


def range_tags(first: str, last: str) -> dict[str, str]:
    """The tags that make one run cover the partitions ``first`` … ``last`` (inclusive)."""
    return {RANGE_START: first, RANGE_END: last}


def op_name(key: Sequence[str]) -> str:
    """The op of the asset with ``key``: Dagster names it ``schema__table``."""
    return "__".join(key)


def op_config(key: Sequence[str], config: dict[str, Any]) -> dict[str, Any]:
    """Run config for the op of the asset with ``key``."""
    return {"ops": {op_name(key): {"config": config}}}
