"""Quality checks on the market tables, shown in Dagit beside each asset."""

from pathlib import Path
from typing import Any

import dagster as dg
import psycopg

from azak_pipelines.defs.market.sectors import COMPOSITES, sector_codes
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.markdown import markdown_table
from azak_pipelines.lib.sql_files import load_queries
from azak_pipelines.lib.warehouse import table_exists

QUERIES = Path(__file__).with_name("checks.sql")
DAILY = dg.AssetKey(["raw", "daily_prices"])


def _rows(warehouse: Warehouse, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with warehouse.connect() as conn, conn.cursor() as cursor:
        cursor.execute(load_queries(QUERIES)[name])
        columns = [c.name for c in cursor.description or []]
        return columns, cursor.fetchall()


def _table(columns: list[str], rows: list[tuple[Any, ...]], limit: int = 20) -> dg.MetadataValue:
    more = f"\n\n…and {len(rows) - limit} more" if len(rows) > limit else ""
    return dg.MetadataValue.md(markdown_table(columns, rows[:limit]) + more)


def _result(name: str, warehouse: Warehouse, severity: dg.AssetCheckSeverity,
            what: str) -> dg.AssetCheckResult:
    try:
        columns, rows = _rows(warehouse, name)
    except psycopg.errors.UndefinedTable as exc:
        table = (exc.diag.message_primary or "a table").replace("relation ", "").replace(" does not exist", "")
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN,
            description=f"not checked: {table} does not exist yet (materialize the reference assets)")
    metadata: dict[str, Any] = {"count": len(rows)}
    if rows:
        metadata["rows"] = _table(columns, rows)
    return dg.AssetCheckResult(passed=not rows, severity=severity, metadata=metadata,
                               description=f"{len(rows)} {what}" if rows else f"no {what}")


@dg.asset_check(asset=DAILY, blocking=True)
def ohlc_sanity(warehouse: Warehouse) -> dg.AssetCheckResult:
    """low ≤ open, close ≤ high and volume ≥ 0 on every bar (halt days have no OHLC). Adjusted bars
    that miss by 1 KRW — the vendor rounds each adjusted price on its own — are listed, not failed."""
    result = _result("ohlc_violations", warehouse, dg.AssetCheckSeverity.ERROR, "bars break OHLC order")
    columns, rounding = _rows(warehouse, "ohlc_rounding")
    metadata: dict[str, Any] = dict(result.metadata)
    metadata["adjustment_rounding"] = len(rounding)
    if rounding:
        metadata["rounding_rows"] = _table(columns, rounding)
    return dg.AssetCheckResult(passed=result.passed, severity=result.severity, metadata=metadata,
                               description=result.description)


@dg.asset_check(asset=DAILY, blocking=True)
def no_duplicate_keys(warehouse: Warehouse) -> dg.AssetCheckResult:
    """One row per (stock, day, price basis) — the database enforces it; this proves it."""
    return _result("duplicate_keys", warehouse, dg.AssetCheckSeverity.ERROR, "duplicated keys")


@dg.asset_check(asset=DAILY)
def complete_against_calendar(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Every KRX session between a watch-list stock's first and last bar has a bar; the missing
    sessions are listed."""
    return _result("missing_sessions", warehouse, dg.AssetCheckSeverity.WARN, "sessions missing")


@dg.asset_check(asset=DAILY)
def halts_flagged(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Zero-volume days (trading halts) are kept, not dropped; this lists them for review."""
    return _result("halts", warehouse, dg.AssetCheckSeverity.WARN, "halt days (kept)")


@dg.asset_check(asset=DAILY)
def probable_corporate_actions(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Day-over-day moves beyond KRX's ±30% price limit cannot be trades: probably a split,
    merger or spin-off the adjustment missed. Listed for review."""
    return _result("limit_breaches", warehouse, dg.AssetCheckSeverity.WARN, "moves beyond ±30%")


@dg.asset_check(asset=dg.AssetKey(["raw", "index_daily"]))
def index_coverage(warehouse: Warehouse) -> dg.AssetCheckResult:
    """The headline indices (KOSPI, KOSDAQ, KOSPI 200) all have data; missing ones are named, and
    so are the sectors of ``seeds/kis_sectors.csv`` without data (listed, not failed)."""
    with warehouse.connect() as conn:
        if not table_exists(conn, "raw.index_daily"):
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.WARN,
                description="not checked: raw.index_daily does not exist yet (materialize raw/index_daily; "
                            "KIS offers it on real accounts only)")
        have = {row[0] for row in conn.execute("SELECT DISTINCT index_code FROM raw.index_daily")}
    missing = [code for code in COMPOSITES if code not in have]
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"present": sorted(have), "missing": missing,
                  "sectors_missing": [code for code in sector_codes() if code not in have]},
        description=f"no data for index codes {missing}" if missing else "all headline indices present",
    )
