"""Incremental marts: a run resumes each stock where its raw bars changed, rewrites nothing else,
and ends exactly where a full rebuild ends."""

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from azak_pipelines.defs.market.tables import DAILY_PRICES
from azak_pipelines.lib.warehouse import connect, replace_slice
from tests.pipelines.runs import run

INCREMENTAL = ("daily_prices", "index_daily", "minute_prices")
FULL_REFRESH = {"ops": {"dbt_models": {"config": {"full_refresh": True}}}}


def stored_versions(conn: psycopg.Connection) -> dict[tuple[str, date], str]:
    """Each mart row's transaction id: it changes only when the row is rewritten."""
    return {(code, day): xmin for code, day, xmin in conn.execute(
        "SELECT stock_code, trade_date, xmin::text FROM marts.daily_prices")}


def rewrite_raw(conn: psycopg.Connection, code: str, start: date, end: date, change) -> None:
    """Replace one stock's adjusted bars in [start, end) with ``change`` applied to them, through
    the warehouse writer, as a re-fetch would."""
    columns = DAILY_PRICES.column_names
    rows = conn.execute(
        f"SELECT {', '.join(columns)} FROM raw.daily_prices WHERE stock_code = %s AND price_basis = 'adjusted' "
        "AND trade_date >= %s AND trade_date < %s ORDER BY trade_date", (code, start, end)).fetchall()
    rows = [r for r in (change(dict(zip(columns, row, strict=True))) for row in rows) if r is not None]
    replace_slice(conn, DAILY_PRICES, [[r[c] for c in columns] for r in rows], start, end,
                  scope={"stock_code": [code], "price_basis": ["adjusted"]})


def split(bar: dict) -> dict:
    """A 2-for-1 split announced later re-adjusts this history."""
    for column in ("open", "high", "low", "close"):
        if bar[column] is not None:
            bar[column] = (bar[column] / 2).quantize(Decimal("0.01"))
    bar["volume"] *= 2
    return bar


def differences(conn: psycopg.Connection, left: str, right: str) -> int:
    return conn.execute(f"SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right}) d").fetchone()[0]


@pytest.mark.slow
def test_an_incremental_run_rewrites_only_what_changed_and_equals_a_full_rebuild(warehouse_with_stocks, replay):
    run("market_raw_job", ("2023-12-05", "2024-12-30"))
    run("minute_prices_job", ("2025-06-16", "2025-06-16"))
    run("market_marts_job")
    with connect(warehouse_with_stocks) as conn:
        before = stored_versions(conn)
        assert len({code for code, _ in before}) == 20
        # new sessions for every stock, a split re-adjusting one stock's history from September,
        # and a bar that disappeared from another's
        minutes_before = conn.execute("SELECT count(*), min(xmin::text) FROM marts.minute_prices").fetchone()
        run("market_raw_job", ("2025-01-02", "2025-03-31"))
        run("minute_prices_job", ("2025-06-17", "2025-06-17"))
        rewrite_raw(conn, "000660", date(2024, 9, 2), date(2025, 1, 1), split)
        rewrite_raw(conn, "035420", date(2024, 11, 1), date(2024, 11, 30),
                    lambda bar: None if bar["trade_date"] == date(2024, 11, 15) else bar)
        run("market_marts_job")
        after = stored_versions(conn)

        rewritten = {key for key, version in after.items() if before.get(key) != version}
        changed_from = {"000660": date(2024, 9, 2), "035420": date(2024, 11, 15)}
        for code, day in rewritten:
            assert day >= changed_from.get(code, date(2025, 1, 1)), f"{code} {day} was rewritten"
        assert (("035420", date(2024, 11, 15))) not in after
        assert len(rewritten) == sum(1 for code, day in after if day >= changed_from.get(code, date(2025, 1, 1)))
        untouched = sum(1 for key in after if key not in rewritten)
        assert untouched > 0.75 * len(after)

        assert conn.execute("SELECT count(*) FILTER (WHERE trade_date = '2025-06-16'), "
                            "min(xmin::text) FILTER (WHERE trade_date = '2025-06-16') "
                            "FROM marts.minute_prices").fetchone() == minutes_before
        assert conn.execute("SELECT count(*) FROM marts.index_daily WHERE trade_date > '2025-01-01'").fetchone()[0]

        incremental = {name: f"public.incremental_{name}" for name in INCREMENTAL}
        for name, copy in incremental.items():
            conn.execute(f"CREATE TABLE {copy} AS SELECT * FROM marts.{name}")
        run("market_marts_job", run_config=FULL_REFRESH)
        rebuilt = stored_versions(conn)
        assert all(rebuilt[key] != version for key, version in after.items())  # really rebuilt
        assert len(rebuilt) == len(after)
        for name, copy in incremental.items():
            assert differences(conn, copy, f"marts.{name}") == 0, name
            assert differences(conn, f"marts.{name}", copy) == 0, name


def test_a_mart_stored_without_a_declared_column_or_index_is_rebuilt_in_full(warehouse_with_stocks, replay):
    run("daily_prices_job", ("2025-01-02", "2025-03-31"))
    run("market_marts_job")
    with connect(warehouse_with_stocks) as conn:
        full = conn.execute("SELECT count(*), count(macd_signal) FROM marts.daily_prices").fetchone()
        # as a table built by the release before incremental marts was
        conn.execute("ALTER TABLE marts.daily_prices DROP COLUMN bar_number, DROP COLUMN gain_state")
        run("market_marts_job")
        assert conn.execute("SELECT count(*), count(macd_signal) FROM marts.daily_prices").fetchone() == full
        assert conn.execute("SELECT count(*) FROM marts.daily_prices WHERE bar_number IS NULL").fetchone()[0] == 0

        # as a table built before a release declared another index
        index = "SELECT indexname FROM pg_indexes WHERE schemaname = 'marts' AND tablename = 'daily_prices' " \
                "AND indexdef LIKE '%%(trade_date)'"
        [(name,)] = conn.execute(index).fetchall()
        conn.execute(f'DROP INDEX marts."{name}"')
        run("market_marts_job")
        assert len(conn.execute(index).fetchall()) == 1
        assert conn.execute("SELECT count(*), count(macd_signal) FROM marts.daily_prices").fetchone() == full



@pytest.mark.slow
def test_news_articles_rewrite_only_the_days_that_changed_and_equal_a_full_rebuild(warehouse_with_stocks, replay):
    run("reference_job")
    run("market_marts_job")  # the price impact model beside it reads the (here empty) price marts
    run("all_news_job", ("2025-05-01", "2025-05-31"))
    run("news_marts_job")
    with connect(warehouse_with_stocks) as conn:
        query = "SELECT news_id, xmin::text FROM marts.news_articles"
        before = dict(conn.execute(query).fetchall())
        run("all_news_job", ("2025-06-01", "2025-06-17"))
        run("news_marts_job")
        after = dict(conn.execute(query).fetchall())
        kept = [news_id for news_id, version in before.items() if after.get(news_id) == version]
        assert len(after) > len(before) and len(kept) > 0.9 * len(before)

        conn.execute("CREATE TABLE public.incremental_news AS SELECT * FROM marts.news_articles")
        run("news_marts_job", run_config=FULL_REFRESH)
        assert all(version not in before.values() for version in dict(conn.execute(query).fetchall()).values())
        assert differences(conn, "public.incremental_news", "marts.news_articles") == 0
        assert differences(conn, "marts.news_articles", "public.incremental_news") == 0
