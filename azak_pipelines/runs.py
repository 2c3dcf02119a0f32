"""Launching and following runs of the code location: the CLI, the demo and the tests use this.

A run executes in this process, or, when the job's executor is another one (``AZAK_EXECUTOR=celery``),
with that executor's workers running its steps. What a finished run reports is read here too: the
metadata of an asset's materialization, the results of its checks, why it failed.
"""

import contextlib
import sys
import warnings
from typing import Any

import dagster as dg

from azak_core import runs as names
from azak_core import settings_registry
from azak_pipelines.defs.common import asset_key
from azak_pipelines.lib.warehouse import TableSpec
from azak_pipelines.run_monitor import job_pools, process_tags, wait_for_pools

# a command's standard output is its answer: the run logs warnings and errors only
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
FAILURE_EVENTS = {"STEP_FAILURE", "RUN_FAILURE"}
# how often a run waiting for a pool slot looks again (AZAK_POOL_POLL_SECONDS)
POOL_POLL_SECONDS = 5.0


def dagster_instance() -> dg.DagsterInstance:
    """The real Dagster instance (``DAGSTER_HOME``, the project's dagster.yaml), with the pools'
    limits in place."""
    from azak_pipelines.defs.pools import ensure_pool_limits

    instance = dg.DagsterInstance.get()
    ensure_pool_limits(instance)
    return instance


def range_tags(partition_range: tuple[str, str] | None) -> dict[str, str]:
    """The tags that make one run cover a range of partitions (first and last key, inclusive)."""
    return {} if partition_range is None else names.range_tags(*partition_range)


def op_config(spec: TableSpec, config: dict[str, Any]) -> dict[str, Any]:
    """Run config for the asset that writes ``spec``: its op is named after its key."""
    return names.op_config((spec.schema, spec.name), config)


def execute_in_process(job: dg.JobDefinition, instance: dg.DagsterInstance,
                       partition_range: tuple[str, str] | None = None,
                       run_config: dict[str, Any] | None = None, tags: dict[str, str] | None = None,
                       raise_on_error: bool = False, assets: list[str] | None = None) -> Any:
    """Execute ``job`` in this process (only ``assets`` of it, when given), recorded in ``instance``;
    the run's tags name this process, so that its death is seen (:mod:`azak_pipelines.run_monitor`)."""
    return job.execute_in_process(
        instance=instance, run_config=run_config or {},
        tags={**(tags or {}), **range_tags(partition_range), **process_tags()},
        raise_on_error=raise_on_error,
        asset_selection=[dg.AssetKey.from_user_string(a) for a in assets] if assets else None)


def _execute_on_executor(job_name: str, instance: dg.DagsterInstance, run_config: dict[str, Any],
                         tags: dict[str, str], assets: list[str] | None = None) -> Any:
    """Another executor runs steps in other processes, which load the job again from
    ``azak_pipelines.definitions.job``."""
    reconstructable = dg.build_reconstructable_job("azak_pipelines.definitions", "job",
                                                   reconstructable_args=(job_name,))
    with warnings.catch_warnings():
        # dagster-celery registers its task again for every step it submits; Celery keeps the
        # first registration (the same function) and warns each time
        warnings.filterwarnings("ignore", message="Task name 'execute_plan' is already registered")
        return dg.execute_job(reconstructable, instance, run_config=run_config, tags=tags, raise_on_error=False,
                              asset_selection=[dg.AssetKey.from_user_string(a) for a in assets] if assets else None)


def _to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run_job(definitions: dg.Definitions, instance: dg.DagsterInstance, job_name: str,
            partition_range: tuple[str, str] | None = None, run_config: dict[str, Any] | None = None,
            tags: dict[str, str] | None = None, assets: list[str] | None = None) -> Any:
    """Execute a job of the code location (only ``assets`` of it, when given), recorded in
    ``instance``: in this process, or with the configured executor's workers running its steps.

    What the run prints (dbt's log lines) goes to standard error: standard output is the command's
    answer, which ``--json`` callers parse. While a pool the job claims is full, it waits before the
    run starts, saying which runs hold the pool (:func:`~azak_pipelines.run_monitor.wait_for_pools`).
    """
    config = {**QUIET_LOGS, **(run_config or {})}
    job = definitions.resolve_job_def(job_name)
    pools = job_pools(job)
    if pools:
        wait_for_pools(instance, pools, _to_stderr,
                       float(settings_registry.read_or("AZAK_POOL_POLL_SECONDS", str(POOL_POLL_SECONDS))))
    with contextlib.redirect_stdout(sys.stderr):
        if job.executor_def.name == "in_process":
            return execute_in_process(job, instance, partition_range, config, tags, assets=assets)
        return _execute_on_executor(job_name, instance, config,
                                    {**(tags or {}), **range_tags(partition_range), **process_tags()}, assets)


def materialization(result: Any, asset: str | TableSpec) -> dict[str, Any] | None:
    """The metadata of the (last) materialization of ``asset`` in a run; None if it was not
    materialized."""
    name = asset_key(asset).to_user_string() if isinstance(asset, TableSpec) else asset
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == name]
    if not events:
        return None
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def checks(result: Any) -> dict[str, Any]:
    """Each asset check's evaluation in a run, by check name."""
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def failure(result: Any) -> str:
    """Why a run failed: its failure messages, one a line."""
    messages = [e.message for e in result.all_events if e.event_type_value in FAILURE_EVENTS and e.message]
    return "\n  ".join(messages) or "see the run in Dagit"


def require_success(result: Any, run: str) -> None:
    """Raise the failure of ``run`` ("the import run"; a ``RuntimeError``, which the CLI exits
    with 1 on) unless it succeeded."""
    if not result.success:
        raise RuntimeError(f"{run} {result.run_id} failed:\n  {failure(result)}")
