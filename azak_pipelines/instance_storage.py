"""Dagster's PostgreSQL event log and run storage, tuned for runs that record thousands of
partition events and for processes that execute hundreds of short runs.

A single-run backfill over ten years plans and records one materialization per calendar day, so
that Dagit keeps each day's status. The stock dagster-postgres storage writes each of those events
with its own statement and commit (about 10 ms each, 3,650 twice over for a decade), and it plans
every asset check of the run once per partition of the range: 3,650 rows per check, each carrying
the whole serialized event, although the project's checks query the whole table and are evaluated
once per run (their evaluation has no partition, so those per-day rows stayed "planned" forever).
This subclass:

* keeps a small connection pool and remembers which tables and asset-key columns exist (the parent
  opens a connection per call, asks per event whether a table exists and reflects the asset-key
  table's columns twice per asset-record look-up);
* writes a batch of planned or recorded materializations as one insert compiled once (each day
  still gets its own event: Dagit's per-day status is intact, including "failed" for the days of a
  run that fails); dagster-postgres plans them one statement each, and records them in a multi-row
  ``VALUES`` that SQLAlchemy compiles parameter by parameter (a third of a decade's event cost);
* plans a check once per run, as it is evaluated (no check of the project declares partitions:
  tests/pipelines/test_instance_storage.py fails when one does);
* turns Dagster's event batching on (``DAGSTER_EVENT_BATCH_SIZE``, which Dagster reads per event) in
  any process whose instance uses it, unless the environment sets it.

The run storage (``PooledPostgresRunStorage``) keeps a pool too: dagster-postgres opens a new
connection for each of its queries (``NullPool``), about 20 per run (the run's creation, each run
event, each look-up of the run), and a new PostgreSQL connection costs a server process; it was a
tenth of a quiet simulated hour's CPU (``azak simulate``, docs/figures.md).

Both are selected in ``dagster.yaml`` and in the Kubernetes values (deploy/dagster-values.yaml).
"""

import itertools
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import dagster as dg
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

T = TypeVar("T", "PooledPostgresRunStorage", "PooledPostgresEventLogStorage")
# events per batch insert; a run's planned and recorded materializations come in batches this size
EVENT_BATCH_SIZE = "1000"
PLANNED = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
# what a ranged run writes once per partition day, in batches
BATCHED = {PLANNED, dg.DagsterEventType.ASSET_MATERIALIZATION}
CHECK_PLANNED = dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED


def pooled_engine(postgres_url: str, token_provider: Any) -> Any:
    """A small pool in place of dagster-postgres' connection per call; a connection is checked
    (``pool_pre_ping``) before each use, so one left from before a database restart is replaced."""
    return create_pg_engine(postgres_url, token_provider, isolation_level="AUTOCOMMIT", pool_size=2,
                            max_overflow=4, pool_recycle=300, pool_pre_ping=True)


def _remembered(found: set[str], name: str, ask: Any) -> bool:
    """Whether ``name`` exists: from ``found``, or ``ask``ed and, if it does, added to ``found``."""
    if name in found:
        return True
    exists = bool(ask(name))
    if exists:
        found.add(name)
    return exists


def _from_config(cls: type[T], inst_data: Any, config_value: Mapping[str, Any]) -> T:
    return cls(postgres_url=pg_url_from_config(config_value),
               should_autocreate_tables=config_value.get("should_autocreate_tables", True),
               inst_data=inst_data, token_provider=get_token_provider_from_config(config_value))


class PooledPostgresRunStorage(PostgresRunStorage):
    """dagster-postgres' run storage with a connection pool (``_engine`` is Dagster's own, pinned by
    tests/pipelines/test_instance_storage.py)."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: Any = None, token_provider: Any = None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self._engine.dispose()
        self._engine = pooled_engine(postgres_url, token_provider)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> "PooledPostgresRunStorage":
        return _from_config(cls, inst_data, config_value)


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    # ``inst_data`` is Dagster's ConfigurableClassData, a type Dagster keeps private: it is only
    # passed through to dagster-postgres. ``has_asset_key_col`` (undocumented), ``_engine``,
    # ``_event_to_row``, ``_store_asset_event_tags``, ``_store_asset_event`` and the event table (from
    # ``prepare_insert_event_batch``) are Dagster's own; tests/pipelines/test_instance_storage.py
    # fails if an upgrade renames or changes them.
    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: Any = None, token_provider: Any = None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self._engine.dispose()
        self._engine = pooled_engine(postgres_url, token_provider)
        self._existing_tables: set[str] = set()
        self._existing_columns: set[str] = set()
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)

    @classmethod
    def from_config_value(cls, inst_data: Any,
                          config_value: Mapping[str, Any]) -> "PooledPostgresEventLogStorage":
        return _from_config(cls, inst_data, config_value)

    # tables and columns are only ever added by migrations, so a "yes" can be remembered: the parent
    # asks per event whether a table exists, and reflects the asset-key table's columns (catalog
    # queries) twice for every ``get_asset_records``, which the automation and each step's input
    # versions call all the time
    def has_table(self, table_name: str) -> bool:
        return _remembered(self._existing_tables, table_name, super().has_table)

    def has_asset_key_col(self, column_name: str) -> bool:
        return _remembered(self._existing_columns, column_name, super().has_asset_key_col)

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        # runs of consecutive planned or recorded materializations in one insert each, the rest as
        # Dagster stores them: storage ids keep the order the events happened in
        for kind, run in itertools.groupby(events, key=lambda e: e.dagster_event_type):
            if kind in BATCHED:
                self._store_batch(list(run))
            else:
                super().store_event_batch(list(run))

    def _store_batch(self, events: list[dg.EventLogEntry]) -> None:
        """Events in one ``INSERT`` compiled once (SQLAlchemy's "insertmanyvalues": a multi-row
        ``VALUES`` compiled per row, as Dagster builds it, cost as much as serializing the events),
        their tags, and each asset's row pointing at its last one."""
        rows = [self._event_to_row(event) for event in events]
        # the event table (a name of Dagster's private modules), from the insert Dagster builds itself
        table = self.prepare_insert_event_batch(events[:1]).table
        insert = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        with self._connect() as conn:
            ids = [int(row[0]) for row in conn.execute(insert, rows).fetchall()]
        last: dict[dg.AssetKey, tuple[dg.EventLogEntry, int]] = {}
        for event, event_id in zip(events, ids, strict=True):
            key = event.dagster_event.asset_key if event.dagster_event else None
            if key is not None:
                last[key] = (event, event_id)
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, events, ids)
            for event, event_id in last.values():
                self._store_asset_event(conn, event, event_id)

    def store_asset_check_event(self, event: dg.EventLogEntry, event_id: int | None) -> None:
        dagster_event = event.dagster_event
        if dagster_event is not None and event.dagster_event_type == CHECK_PLANNED:
            planned: Any = dagster_event.event_specific_data
            if planned.partitions_subset is not None:
                once = type(planned)(asset_key=planned.asset_key, check_name=planned.check_name)
                event = event._replace(dagster_event=dagster_event._replace(event_specific_data=once))
        super().store_asset_check_event(event, event_id)
