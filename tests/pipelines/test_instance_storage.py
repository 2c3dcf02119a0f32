"""The pooled event log of dagster.yaml (azak_pipelines/instance_storage.py) builds on
dagster-postgres' storage: it replaces the engine the parent keeps in ``_engine`` and answers the
parent's ``has_table`` and ``has_asset_key_col`` calls from memory. These tests fail on the upgrade
that renames any of them."""

import os
from typing import Any

import dagster as dg
from sqlalchemy.pool import QueuePool

from azak_pipelines.instance_storage import PLANNED, PooledPostgresEventLogStorage, PooledPostgresRunStorage


@dg.asset
def pooled_probe() -> int:
    """A stand-in asset: its run writes events through the event log."""
    return 1


def test_the_instance_of_dagster_yaml_writes_events_through_a_small_pool(dagster_home):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert type(storage) is PooledPostgresEventLogStorage
        assert storage.inst_data is not None and storage.inst_data.class_name == "PooledPostgresEventLogStorage"
        pool = storage._engine.pool
        assert isinstance(pool, QueuePool) and pool.size() == 2  # not the parent's NullPool engine
        result = dg.materialize([pooled_probe], instance=instance)
        assert result.success
        assert instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        assert pool.checkedin() >= 1  # connections went back to the pool to be reused
        assert storage._existing_tables  # the parent asked has_table, and the answer was kept
        instance.get_asset_records([pooled_probe.key])
        # the parent asked has_asset_key_col (for its status cache and index columns), and the answers were kept
        assert {"cached_status_data", "last_materialization_timestamp"} <= storage._existing_columns
        runs = instance.run_storage
        assert type(runs) is PooledPostgresRunStorage and runs.inst_data.class_name == "PooledPostgresRunStorage"
        assert isinstance(runs._engine.pool, QueuePool) and runs._engine.pool.checkedin() >= 1  # not NullPool
        assert instance.get_run_by_id(result.run_id).is_success


DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def ranged_probe(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """A stand-in for a price asset: one run over a range of days (a failing day fails it)."""
    if "2024-02-29" in context.partition_keys:
        raise dg.Failure("a failing range")
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset_check(asset=ranged_probe)
def ranged_probe_ok() -> dg.AssetCheckResult:
    """A whole-table check, as the project's are: evaluated once per run."""
    return dg.AssetCheckResult(passed=True)


RANGED_JOB = dg.define_asset_job("ranged_probe_job", selection=[ranged_probe])


def _run_range(instance: dg.DagsterInstance, first: str, last: str) -> Any:
    job = dg.Definitions(assets=[ranged_probe], asset_checks=[ranged_probe_ok],
                         jobs=[RANGED_JOB]).resolve_job_def("ranged_probe_job")
    return job.execute_in_process(instance=instance, raise_on_error=False, tags={
        "dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last})


def test_a_ranged_run_keeps_each_days_status_in_batched_writes_and_plans_its_check_once(
        dagster_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    key = ranged_probe.key
    with dg.DagsterInstance.get() as instance:
        assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == "1000"  # the storage turned batching on
        assert _run_range(instance, "2024-01-01", "2024-02-09").success
        planned = instance.all_logs(_last_run(instance), of_type=PLANNED)
        assert sorted(e.dagster_event.partition for e in planned) == [
            f"2024-{m:02}-{d:02}" for m, d in [(1, d) for d in range(1, 32)] + [(2, d) for d in range(1, 10)]]
        assert instance.get_materialized_partitions(key) == {e.dagster_event.partition for e in planned}
        assert instance.get_latest_materialization_event(key).dagster_event.partition == "2024-02-09"
        assert instance.get_asset_records([key])[0].asset_entry.last_run_id == _last_run(instance)
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(key, "ranged_probe_ok"), limit=10)
        assert [(h.status.value, h.partition) for h in history] == [("SUCCEEDED", None)]

        failed = _run_range(instance, "2024-02-20", "2024-02-29")
        assert not failed.success  # its ten days were planned one by one: Dagit marks them failed
        assert len(instance.all_logs(failed.run_id, of_type=PLANNED)) == 10
        assert len(instance.get_materialized_partitions(key)) == 40


def _last_run(instance: dg.DagsterInstance) -> str:
    return instance.get_runs(limit=1)[0].run_id


def test_no_check_of_the_code_location_declares_partitions():
    # the storage plans each check once per run (see its docstring): a partitioned check would
    # need its per-partition rows back
    from azak_pipelines.definitions import defs

    graph = defs().resolve_asset_graph()
    partitioned = [k for k in graph.asset_check_keys if graph.get(k).partitions_def is not None]
    assert graph.asset_check_keys and not partitioned
