"""Dagster's PostgreSQL event log, tuned for runs that record thousands of partition events.

A single-run backfill over ten years writes one materialization per calendar day. The stock
dagster-postgres storage opens a new connection for every call (and a second one per event to ask
whether a tags table exists), which makes such runs spend most of their time authenticating.
This subclass keeps a small pool and remembers which tables exist. It is selected in
``dagster.yaml`` and in the Kubernetes values (deploy/dagster-values.yaml) and changes nothing else.
"""

from collections.abc import Mapping
from typing import Any

from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    # ``inst_data`` is Dagster's ConfigurableClassData, a type Dagster keeps private: it is only
    # passed through to dagster-postgres. ``_engine`` is dagster-postgres' own attribute;
    # tests/pipelines/test_instance_storage.py fails if an upgrade renames it.
    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: Any = None, token_provider: Any = None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self._engine.dispose()
        self._engine = create_pg_engine(
            postgres_url, token_provider, isolation_level="AUTOCOMMIT", pool_size=2,
            max_overflow=4, pool_recycle=300, pool_pre_ping=True)
        self._existing_tables: set[str] = set()

    @classmethod
    def from_config_value(cls, inst_data: Any,
                          config_value: Mapping[str, Any]) -> "PooledPostgresEventLogStorage":
        return cls(
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )

    def has_table(self, table_name: str) -> bool:
        # tables are only ever added by migrations, so a "yes" can be remembered
        if table_name in self._existing_tables:
            return True
        exists = super().has_table(table_name)
        if exists:
            self._existing_tables.add(table_name)
        return exists
