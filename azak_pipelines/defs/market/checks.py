"""Quality checks on the market tables, shown in Dagit beside each asset."""

import itertools
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
import psycopg

from azak_pipelines.defs.market import tables
from azak_pipelines.defs.market.sectors import COMPOSITES, sector_codes
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.markdown import markdown_table
from azak_pipelines.lib.sql_files import load_queries
from azak_pipelines.lib.warehouse import table_exists

QUERIES = Path(__file__).with_name("checks.sql")
DAILY = dg.AssetKey(["raw", "daily_prices"])


# the days a run wrote (its partition range), or every day (a check run on its own)
Days = Mapping[str, date]
EVERY_DAY: Days = {"first": date.min, "last": date.max}


def _rows(conn: Any, name: str, params: Mapping[str, Any] = EVERY_DAY) -> tuple[list[str], list[tuple[Any, ...]]]:
    with conn.cursor() as cursor:
        cursor.execute(load_queries(QUERIES)[name], params)
        columns = [c.name for c in cursor.description or []]
        return columns, cursor.fetchall()


def _table(columns: list[str], rows: list[tuple[Any, ...]], limit: int = 20) -> dg.MetadataValue:
    more = f"\n\n…and {len(rows) - limit} more" if len(rows) > limit else ""
    return dg.MetadataValue.md(markdown_table(columns, rows[:limit]) + more)


class _Verdict(NamedTuple):
    passed: bool
    severity: dg.AssetCheckSeverity
    description: str
    metadata: dict[str, Any]


def _listed(conn: Any, query: str, severity: dg.AssetCheckSeverity, what: str,
            days: Days = EVERY_DAY) -> _Verdict:
    """Passed when ``query`` finds no rows; else the rows it found (the first 20) and their count."""
    columns, rows = _rows(conn, query, days)
    metadata: dict[str, Any] = {"count": len(rows)}
    if rows:
        metadata["rows"] = _table(columns, rows)
    return _Verdict(not rows, severity, f"{len(rows)} {what}" if rows else f"no {what}", metadata)


def _ohlc(conn: Any) -> _Verdict:
    verdict = _listed(conn, "ohlc_violations", dg.AssetCheckSeverity.ERROR, "bars break OHLC order")
    columns, rounding = _rows(conn, "ohlc_rounding")
    verdict.metadata["adjustment_rounding"] = len(rounding)
    if rounding:
        verdict.metadata["rounding_rows"] = _table(columns, rounding)
    return verdict


def _unique_keys(conn: Any) -> _Verdict:
    """Passed without a scan when a valid unique index holds the table to one row per key (at
    whole-market size the scan grouped 5.6 M rows, seconds of every import); else the scan."""
    spec = tables.DAILY_PRICES
    _, enforced = _rows(conn, "key_enforced", {"table": spec.key, "key": sorted(spec.natural_key)})
    if enforced:
        return _Verdict(True, ERROR, f"no duplicated keys: the unique constraint {enforced[0][0]} refuses them",
                        {"count": 0, "enforced_by": enforced[0][0]})
    return _listed(conn, "duplicate_keys", ERROR, "duplicated keys")


class _Check(NamedTuple):
    description: str
    blocking: bool
    evaluate: Callable[[Any, Days], _Verdict]
    cost: int  # scans of the table it makes for a run over every day: how the connections share the checks


WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR
CHECKS = {
    "ohlc_sanity": _Check(
        "low ≤ open, close ≤ high and volume ≥ 0 on every bar (halt days have no OHLC). Adjusted bars "
        "that miss by 1 KRW — the vendor rounds each adjusted price on its own — are listed, not failed.",
        True, lambda conn, days: _ohlc(conn), 2),
    "no_duplicate_keys": _Check(
        "One row per (stock, day, price basis) — the database enforces it with a unique constraint; "
        "this proves it (the constraint valid on every partition, else a scan for duplicates).",
        True, lambda conn, days: _unique_keys(conn), 0),
    "complete_against_calendar": _Check(
        "Every KRX session between a watch-list stock's first and last bar has a bar; the missing "
        "sessions are listed.",
        False, lambda conn, days: _listed(conn, "missing_sessions", WARN, "sessions missing"), 1),
    # the two review lists judge the days the run wrote: a halt or a jump reviewed once does not
    # fail every later run of the table (in the daemon, twice every trading day, forever)
    "halts_flagged": _Check(
        "Zero-volume days (trading halts) are kept, not dropped; this lists them for review — those "
        "of the days the run wrote (every day when the check runs on its own).",
        False, lambda conn, days: _listed(conn, "halts", WARN, "halt days (kept)", days), 1),
    "probable_corporate_actions": _Check(
        "Day-over-day moves beyond KRX's ±30% price limit cannot be trades: probably a split, merger "
        "or spin-off the adjustment missed. Listed for review — those of the days the run wrote "
        "(every day when the check runs on its own).",
        False, lambda conn, days: _listed(conn, "limit_breaches", WARN, "moves beyond ±30%", days), 3),
}


# the checks' queries share out over this many connections: their cost is the database's work over
# the whole table, which two cores do in about half the time of one
CHECK_CONNECTIONS = 2


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name, asset=DAILY, description=check.description, blocking=check.blocking)
           for name, check in CHECKS.items()],
    name="daily_prices_checks", can_subset=True,
    description="The checks on raw/daily_prices in one step, their queries on two connections at once: "
                "one step per check cost each its own step events and Dagster's listing of every "
                "partition key since 1990 (the checks' input is the whole partitioned asset), 0.1 s of "
                "CPU each.")
def daily_prices_checks(context: dg.AssetCheckExecutionContext,
                        warehouse: Warehouse) -> Iterator[dg.AssetCheckResult]:
    selected = sorted(key.name for key in context.selected_asset_check_keys)
    days = EVERY_DAY
    if context.has_partition_key_range or context.has_partition_key:  # a range of days, or one
        written = context.partition_key_range
        days = {"first": date.fromisoformat(written.start), "last": date.fromisoformat(written.end)}

    def evaluate_all(names: list[str]) -> list[tuple[str, _Verdict]]:
        with warehouse.connect() as conn:
            return [(name, _evaluate(conn, name, days)) for name in names]

    with ThreadPoolExecutor(CHECK_CONNECTIONS, "daily-prices-checks") as pool:
        groups = _share(selected, CHECK_CONNECTIONS)
        verdicts = dict(itertools.chain.from_iterable(pool.map(evaluate_all, [g for g in groups if g])))
    for name in selected:
        verdict = verdicts[name]
        yield dg.AssetCheckResult(asset_key=DAILY, check_name=name, passed=verdict.passed,
                                  severity=verdict.severity, description=verdict.description,
                                  metadata=verdict.metadata)


def _share(names: list[str], connections: int) -> list[list[str]]:
    """The checks dealt to the connections, costliest first, each to the least loaded: the step
    lasts as long as its busiest connection (the whole-market decade's windowed sort alone on one)."""
    groups: list[list[str]] = [[] for _ in range(connections)]
    loads = [0] * connections
    for name in sorted(names, key=lambda n: -CHECKS[n].cost):
        least = loads.index(min(loads))
        groups[least].append(name)
        loads[least] += CHECKS[name].cost
    return groups


def _evaluate(conn: Any, name: str, days: Days) -> _Verdict:
    """One check's verdict; "not checked" when a table it reads does not exist yet."""
    try:
        return CHECKS[name].evaluate(conn, days)
    except psycopg.errors.UndefinedTable as exc:
        table = (exc.diag.message_primary or "a table").replace("relation ", "").replace(" does not exist", "")
        return _Verdict(False, WARN, f"not checked: {table} does not exist yet "
                                     "(materialize the reference assets)", {})


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
