"""sqlfluff over the dbt project (`make lint`): `python scripts/sqlfluff_dbt.py [lint|fix] [options]`.

The dbt templater compiles each model as dbt does, which needs a database, and renders one branch of
`{% if is_incremental() %}`. So sqlfluff runs twice, against a throw-away database `<warehouse>_sqlfluff`
on the warehouse's server (AZAK_DATABASE_URL, or the embedded PostgreSQL, started if needed): empty
(every model as a full build), then with an empty table standing for each incremental model (its
incremental run). The exit status is non-zero when either pass finds a violation.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

from azak_cli.runtime import environment
from azak_cli.runtime.postgres import drop_database, ensure_database
from azak_pipelines.defs.dbt.project import ensure_manifest
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR, dbt_env

SQLFLUFF = Path(sys.executable).with_name("sqlfluff")


def incremental_models() -> list[tuple[str, str]]:
    """(schema, table) of every incremental model, from dbt's manifest."""
    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    return [(n["schema"], n["alias"]) for n in nodes
            if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"]


def stand_in_for_incremental_models(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for schema, table in incremental_models():
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE TABLE {}.{} ()").format(sql.Identifier(schema), sql.Identifier(table)))


def main(args: list[str]) -> int:
    command = args or ["lint"]
    warehouse = environment.resolve().database
    database = warehouse.with_database(f"{warehouse.database}_sqlfluff")
    drop_database(database)
    ensure_database(database)
    env = {**os.environ, **dbt_env(database.render())}
    try:
        full = subprocess.run([str(SQLFLUFF), *command, str(DBT_PROJECT_DIR)], env=env).returncode
        stand_in_for_incremental_models(database.render())
        incremental = subprocess.run([str(SQLFLUFF), *command, str(DBT_PROJECT_DIR)], env=env).returncode
    finally:
        drop_database(database)
    return full or incremental


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
