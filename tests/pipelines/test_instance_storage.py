"""The pooled event log of dagster.yaml (azak_pipelines/instance_storage.py) builds on
dagster-postgres' storage: it replaces the engine the parent keeps in ``_engine`` and answers the
parent's ``has_table`` calls from memory. These tests fail on the upgrade that renames either."""

import dagster as dg
from sqlalchemy.pool import QueuePool

from azak_pipelines.instance_storage import PooledPostgresEventLogStorage


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
