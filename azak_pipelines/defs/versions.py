"""Data versions: what a table's slice holds, so the automation follows a change, not a run.

A collector polls every 10 minutes around the clock and most polls at night find nothing new; each
run still materializes its assets. Without a data version of its own, Dagster stamps every
materialization with a new one (derived from the run), and the automation
(``azak_pipelines/defs/automation.py``: ``DEPS_CHANGED``) rebuilt every mart below after every
poll. The assets that poll report the digest of the slice they wrote instead: the same rows, the
same version, and nothing downstream is requested.
"""

from datetime import date
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql

from azak_pipelines.lib.warehouse import TableSpec


def slice_version(conn: psycopg.Connection[Any], spec: TableSpec, start: date, end: date,
                  ignore: tuple[str, ...] = ()) -> dg.DataVersion:
    """The data version of ``spec``'s rows in ``[start, end)``: an append-only table's row count (its
    rows never change), any other table's row count and an md5 of its rows in natural-key order,
    every column but ``ignore`` (the stamps a rewrite of the same rows renews, such as when a copy
    was fetched or a link was made: no model reads them)."""
    if spec.partition_column is None:
        raise ValueError(f"{spec.key} is not partitioned: a slice version needs a window")
    bounds = sql.SQL("{col} >= %s AND {col} < %s").format(col=sql.Identifier(spec.partition_column))
    if spec.append_only:
        query = sql.SQL("SELECT count(*), '' FROM {} WHERE ").format(spec.ident) + bounds
    else:
        kept = [c for c in spec.column_names if c not in ignore]
        query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(ROW({cols})::text, '|' ORDER BY {key}), '')) "
                        "FROM {table} WHERE ").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, kept)), table=spec.ident,
            key=sql.SQL(", ").join(map(sql.Identifier, spec.natural_key))) + bounds
    row = conn.execute(query, (start, end)).fetchone()
    count, digest = row if row is not None else (0, "")
    return dg.DataVersion(f"{count}:{digest}" if digest else str(count))


# where Dagster keeps a materialization's data version (its DATA_VERSION_TAG, named in the private
# dagster._core.definitions.data_version; tests/cli/test_simulate_quiet.py fails if it changes)
DATA_VERSION_TAG = "dagster/data_version"


def written_by(run_id: str) -> dict[str, str]:
    """The tags of a materialization an op logs itself (``context.log_event(AssetMaterialization(...))``:
    a backfill, an onboarding) for data it wrote: a version of its own run, as Dagster gives an
    asset's output that reports none. Without it the materialization has no data version, and the
    automation (which follows changed versions) would not follow the write."""
    return {DATA_VERSION_TAG: f"run:{run_id}"}
