"""Incremental marts: a run resumes each stock where its raw bars changed, rewrites nothing else,
and ends exactly where a full rebuild ends."""

from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from azak_pipelines.defs.market.tables import DAILY_PRICES, INDEX_DAILY
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES
from azak_pipelines.lib.warehouse import TableSpec, connect, replace_slice
from tests.pipelines.runs import run

INCREMENTAL = ("daily_prices", "index_daily", "minute_prices")
FULL_REFRESH = {"ops": {"dbt_models": {"config": {"full_refresh": True}}}}


def stored_versions(conn: psycopg.Connection) -> dict[tuple[str, date], str]:
    """Each mart row's transaction id: it changes only when the row is rewritten."""
    return {(code, day): xmin for code, day, xmin in conn.execute(
        "SELECT stock_code, trade_date, xmin::text FROM marts.daily_prices")}


def rewrite(conn: psycopg.Connection, spec: TableSpec, start: date, end: date, change,
            scope: dict | None = None) -> None:
    """Replace the rows of ``spec``'s table in [start, end) (and ``scope``) with ``change`` applied to
    each (None drops it), through the warehouse writer, as a re-fetch or a relink would."""
    columns = spec.column_names
    where = "".join(f" AND {column} = ANY(%s)" for column in scope or {})
    rows = conn.execute(
        f"SELECT {', '.join(columns)} FROM {spec.key} WHERE {spec.partition_column} >= %s "
        f"AND {spec.partition_column} < %s{where}", (start, end, *(scope or {}).values())).fetchall()
    rows = [r for r in (change(dict(zip(columns, row, strict=True))) for row in rows) if r is not None]
    replace_slice(conn, spec, [[r[c] for c in columns] for r in rows], start, end, scope=scope)


def rewrite_raw(conn: psycopg.Connection, code: str, start: date, end: date, change) -> None:
    """One stock's adjusted bars in [start, end), re-fetched with ``change`` applied to them."""
    rewrite(conn, DAILY_PRICES, start, end, change, {"stock_code": [code], "price_basis": ["adjusted"]})


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

        # an incremental run compares only the slices the writer logged: a hand edit of a raw table
        # is not seen (docs/analyst-guide.md says to rebuild with --full-refresh after one)
        conn.execute("UPDATE raw.daily_prices SET close = close + 1 WHERE stock_code = '005930' "
                     "AND trade_date = '2024-06-03'")
        run("market_marts_job")
        assert stored_versions(conn) == rebuilt


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

        # as a table built before a release declared a check (RSI within [0, 100])
        check = "SELECT conname FROM pg_constraint WHERE conrelid = 'marts.daily_prices'::regclass AND contype = 'c'"
        [(name,)] = conn.execute(check).fetchall()
        conn.execute(f'ALTER TABLE marts.daily_prices DROP CONSTRAINT "{name}"')
        run("market_marts_job")
        assert len(conn.execute(check).fetchall()) == 1
        assert conn.execute("SELECT count(*), count(macd_signal) FROM marts.daily_prices").fetchone() == full



def versions(conn: psycopg.Connection, table: str, key: str) -> dict:
    return dict(conn.execute(f"SELECT {key}, xmin::text FROM marts.{table}").fetchall())


@pytest.mark.slow
def test_the_news_and_link_marts_rewrite_only_what_changed_and_equal_a_full_rebuild(warehouse_with_stocks, replay):
    run("reference_job")
    run("market_raw_job", ("2025-01-02", "2025-04-30"))
    run("market_marts_job")
    run("all_news_job", ("2025-03-01", "2025-04-30"))
    run("news_marts_job")
    link = "news_id || ' ' || stock_code"
    with connect(warehouse_with_stocks) as conn:
        articles = versions(conn, "news_articles", "news_id")
        links = versions(conn, "news_stock_matches", link)
        impacts = versions(conn, "news_price_impact", link)
        assert conn.execute("SELECT count(excess_5d) FROM marts.news_price_impact").fetchone()[0] > 100
        # the planner knows each stock's frequency in the link arrays (a rare stock's news list then
        # takes the GIN index: 0.5 ms instead of 210 ms at a million articles)
        assert dict(conn.execute(
            "SELECT attname, attstattarget FROM pg_attribute WHERE attrelid = 'marts.news_articles'::regclass "
            "AND attname IN ('stock_codes', 'mentioned_codes')").fetchall()) == {"stock_codes": 1000,
                                                                              "mentioned_codes": 1000}
        assert conn.execute("SELECT count(*) FROM pg_stats WHERE schemaname = 'marts' AND tablename = 'news_articles' "
                            "AND attname = 'stock_codes' AND most_common_elems IS NOT NULL").fetchone()[0] == 1

        # the daily run: new sessions (KOSPI's too) and new articles with their links
        run("market_raw_job", ("2025-05-02", "2025-05-09"))
        run("all_news_job", ("2025-05-01", "2025-05-09"))
        run("market_marts_job")
        run("news_marts_job")
        for log in ("daily_prices__changes", "index_daily__changes"):
            assert conn.execute(f"SELECT count(*) FROM marts.{log}").fetchone()[0] == 0, f"{log} was not taken"
        # every slice the writer logged for a mart was taken by it
        assert conn.execute("SELECT count(*) FROM raw.written_slices").fetchone()[0] == 0
        assert {tuple(r) for r in conn.execute("SELECT reader, source FROM raw.slice_readers")} == {
            ("marts.daily_prices", "raw.daily_prices"), ("marts.minute_prices", "raw.minute_prices"),
            *((f"marts.{mart}", f"computed.{table}") for mart in ("news_articles", "news_stock_matches",
                                                                   "news_price_impact")
              for table in ("news_articles", "news_stock_matches"))}
        kept = [k for k, v in versions(conn, "news_articles", "news_id").items() if articles.get(k) == v]
        assert len(kept) > 0.9 * len(articles)
        kept = [k for k, v in versions(conn, "news_stock_matches", link).items() if links.get(k) == v]
        assert len(kept) > 0.9 * len(links)
        # a link's row can change only if a new session falls within its 20 sessions after the anchor
        [(first_affected,)] = conn.execute(
            "SELECT b.trading_date FROM marts.trading_days f JOIN marts.trading_days b "
            "ON b.session_number = f.session_number - 20 WHERE f.trading_date = '2025-05-02'").fetchall()
        after = {k: (version, anchor) for k, version, anchor in conn.execute(
            f"SELECT {link}, xmin::text, anchor_date FROM marts.news_price_impact")}
        rewritten = {k: anchor for k, (version, anchor) in after.items() if impacts.get(k) != version}
        assert all(anchor >= first_affected for k, anchor in rewritten.items() if k in impacts)
        assert len(after) > len(impacts) and len(after.keys() - rewritten.keys()) > 0.4 * len(impacts)
        assert sum(1 for k in rewritten if k not in impacts) == len(after) - len(impacts)

        # corrections: a split re-adjusting one stock's history, a revised KOSPI close, a link the
        # linker dropped and one it now scores differently
        rewrite_raw(conn, "000660", date(2025, 4, 1), date(2025, 5, 10), split)
        rewrite(conn, INDEX_DAILY, date(2025, 4, 15), date(2025, 4, 16),
                lambda bar: {**bar, "close": bar["close"] + Decimal("12.5")}, {"index_code": ["0001"]})
        first_links = conn.execute(
            "SELECT published_day, news_id, stock_code FROM computed.news_stock_matches WHERE published_day = ("
            "SELECT published_day FROM computed.news_stock_matches GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) "
            "ORDER BY news_id, stock_code LIMIT 2").fetchall()
        day = first_links[0][0]
        dropped, rescored = [(news_id, code) for _, news_id, code in first_links]

        def relink(link: dict) -> dict | None:
            key = (link["news_id"], link["stock_code"])
            if key == dropped:
                return None
            return {**link, "salient": not link["salient"], "score": Decimal("0.5")} if key == rescored else link
        rewrite(conn, NEWS_STOCK_MATCHES, day, day + timedelta(days=1), relink)
        run("market_marts_job")
        run("news_marts_job")
        assert conn.execute("SELECT score FROM marts.news_stock_matches WHERE news_id = %s AND stock_code = %s",
                            rescored).fetchone()[0] == Decimal("0.5")
        assert conn.execute("SELECT count(*) FROM marts.news_price_impact WHERE news_id = %s AND stock_code = %s",
                            dropped).fetchone()[0] == 0

        copies = {name: f"public.incremental_{name}"
                  for name in ("news_articles", "news_stock_matches", "news_price_impact")}
        for name, copy in copies.items():
            conn.execute(f"CREATE TABLE {copy} AS SELECT * FROM marts.{name}")
        run("news_marts_job", run_config=FULL_REFRESH)
        assert all(v not in articles.values() for v in versions(conn, "news_articles", "news_id").values())
        for name, copy in copies.items():
            assert differences(conn, copy, f"marts.{name}") == 0, name
            assert differences(conn, f"marts.{name}", copy) == 0, name
