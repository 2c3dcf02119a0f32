"""The API's queries at size: the plans PostgreSQL picks for them, keyset pagination and estimated
totals — on a copy of the API warehouse (marts built by dbt, with the indexes their .yml files
declare) whose marts hold synthetic rows (benchmarks/scale_fill.sql: 300 listings × two years of
daily bars, 30,000 articles with many ties on published_at), analyzed as autovacuum would.

The plans are those of the statements the API's own query functions send (captured on the way
out), so a query reworded later is checked as it is, not as a copy of it here.
"""

import base64
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from azak_api.admin import run_migrations
from azak_api.db import EXACT_TOTAL_LIMIT
from azak_api.news import queries as news_queries
from azak_api.news.cursor import Position
from azak_api.stocks import queries as stock_queries
from azak_cli.runtime.postgres import PgUrl, drop_database
from benchmarks.api_scale import fill
from tests.api.conftest import account, bearer, settings_for, sql
from tests.conftest import _worker

SIZE = {"stocks": 300, "years": 2, "articles": 30_000, "news_days": 365, "minute_stocks": 5, "minute_days": 2}


@pytest.fixture(scope="module")
def scaled_warehouse(api_warehouse: str, pg_server: PgUrl) -> Iterator[str]:
    source = PgUrl.parse(api_warehouse)
    url = pg_server.with_database(f"{_worker()}_api_scaled")
    drop_database(url)
    with psycopg.connect(pg_server.render(), autocommit=True) as conn:
        # a template must have no sessions: earlier tests' pools may still hold some
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                     (source.database,))
        conn.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            pgsql.Identifier(url.database), pgsql.Identifier(source.database)))
    run_migrations(url.render())  # the app schema (the universe's watch-list), as the app's start-up would
    fill(url.render(), **SIZE)
    yield url.render()
    drop_database(url)


@pytest.fixture
def app_settings(scaled_warehouse: str):
    return settings_for(scaled_warehouse)


@pytest.fixture
async def user(client, scaled_warehouse):
    return await account(client, scaled_warehouse)


async def plans(url: str, call: Callable[[AsyncConnection], Awaitable[Any]]) -> list[dict[str, Any]]:
    """The plans of the SELECTs (plain or WITH) ``call`` sends (EXPLAIN with the same parameters)."""
    engine = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    sent: list[tuple[str, Any]] = []

    class Recording(psycopg.AsyncCursor[Any]):  # what reaches psycopg, through SQLAlchemy or not (json_sql.py)
        async def execute(self, query: Any, params: Any = None, **options: Any) -> "Recording":
            sent.append((query, params))
            await super().execute(query, params, **options)
            return self

    try:
        async with engine.connect() as conn:
            (await conn.get_raw_connection()).driver_connection.cursor_factory = Recording
            await call(conn)
            selects = [(s, p) for s, p in sent if s.lstrip().upper().startswith(("SELECT", "WITH"))]
            return [(await conn.exec_driver_sql(f"EXPLAIN (VERBOSE, FORMAT JSON) {s}", p)).scalar_one()[0]["Plan"]
                    for s, p in selects]
    finally:
        await engine.dispose()


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def scans(plan: dict[str, Any], table: str) -> list[tuple[str, str | None]]:
    """(node type, index definition) of each scan of ``table`` (schema.table) in the plan."""
    found = []
    for node in nodes(plan):
        if f"{node.get('Schema')}.{node.get('Relation Name')}" == table or (
                "Index Name" in node and node.get("Node Type") == "Bitmap Index Scan"):
            found.append((node["Node Type"], node.get("Index Name")))
    return found


def index_columns(url: str, found: list[tuple[str, str | None]]) -> set[str]:
    """The definitions (``USING btree (stock_code, trade_date)``) of the indexes the scans used."""
    names = [name for _, name in found if name]
    rows = sql(url, "SELECT pg_get_indexdef(format('marts.%%I', n)::regclass) FROM unnest(%s::text[]) AS n",
               (names,))
    return {r[0].split(" USING ", 1)[1] for r in rows}


def assert_indexed(url: str, plan: dict[str, Any], table: str, expected: str) -> None:
    found = scans(plan, table)
    assert found and not any(kind == "Seq Scan" for kind, _ in found), (table, found)
    assert expected in index_columns(url, found), (expected, found)


async def test_a_year_of_prices_reads_the_code_and_date_index(scaled_warehouse):
    [(code,)] = sql(scaled_warehouse, "SELECT stock_code FROM marts.stocks ORDER BY stock_code OFFSET 150 LIMIT 1")
    for start, end in ((date(2024, 6, 1), date(2025, 5, 31)), (None, None)):  # the default window: its newest bar
        [prices] = await plans(scaled_warehouse, lambda c, start=start, end=end: stock_queries.price_series(
            c, code, "daily", start, end, 364, 7320, date(2025, 6, 1)))
        assert_indexed(scaled_warehouse, prices, "marts.daily_prices", "btree (stock_code, trade_date)")


async def test_a_stocks_news_counts_read_its_links_index(scaled_warehouse):
    [(code,)] = sql(scaled_warehouse, "SELECT stock_code FROM marts.news_stock_matches WHERE salient "
                                      "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    now = datetime.now().astimezone()
    [counts] = await plans(scaled_warehouse, lambda c: stock_queries.detail(c, code, now, now.date()))
    assert_indexed(scaled_warehouse, counts, "marts.news_stock_matches", "btree (stock_code, salient, published_at)")


@pytest.mark.parametrize("ascending", [False, True])
async def test_news_pages_follow_the_time_index_first_and_deep(scaled_warehouse, ascending):
    [(at, news_id)] = sql(scaled_warehouse, "SELECT published_at, news_id FROM marts.news_articles "
                                            "ORDER BY published_at DESC, news_id DESC OFFSET 20000 LIMIT 1")
    for after in (None, Position(at, news_id)):
        page, *_ = await plans(scaled_warehouse, lambda c, after=after: news_queries.page(
            c, stock=None, mentioned=False, source=None, q=None, start=None, end=None, ascending=ascending,
            after=after, offset=0, limit=20))
        assert_indexed(scaled_warehouse, page, "marts.news_articles", "btree (published_at, news_id)")
        assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes(page))


@pytest.mark.parametrize("mentioned", [False, True])
async def test_one_stocks_news_uses_an_index(scaled_warehouse, mentioned):
    ranked = [r[0] for r in sql(scaled_warehouse, "SELECT stock_code FROM marts.news_stock_matches WHERE salient "
                                                  "GROUP BY 1 ORDER BY count(*) DESC")]
    for code in (ranked[0], ranked[len(ranked) // 2]):  # the most covered and a middling one
        sent = await plans(scaled_warehouse, lambda c, code=code: news_queries.page(
            c, stock=code, mentioned=mentioned, source=None, q=None, start=None, end=None, ascending=False,
            after=None, offset=0, limit=20))  # the page, and the count when the estimate is small
        found = [scan for plan in sent for scan in scans(plan, "marts.news_articles")]
        assert found and not any(kind == "Seq Scan" for kind, _ in found), (code, found)


async def test_a_text_search_reads_the_trigram_indexes(scaled_warehouse):
    # one synthetic article's title holds "기사 12345 " (benchmarks/scale_fill.sql); titles and
    # summaries are searched for it anywhere, so only a trigram index can avoid reading every row
    sent = await plans(scaled_warehouse, lambda c: news_queries.page(
        c, stock=None, mentioned=False, source=None, q="기사 12345 ", start=None, end=None, ascending=False,
        after=None, offset=0, limit=20))  # the page, and the count when the estimate is small
    for plan in sent:
        found = scans(plan, "marts.news_articles")
        assert found and not any(kind == "Seq Scan" for kind, _ in found), found
        assert {"gin (title gin_trgm_ops)", "gin (summary gin_trgm_ops)"} <= {
            definition.replace("public.", "") for definition in index_columns(scaled_warehouse, found)}, found


def ordered_ids(url: str, where: str, params: tuple, ascending: bool) -> list[str]:
    order = "ASC" if ascending else "DESC"
    return [str(r[0]) for r in sql(url, f"SELECT news_id FROM marts.news_articles WHERE {where} "
                                        f"ORDER BY published_at {order}, news_id {order}", params)]


@pytest.mark.parametrize("sort", ["-published_at", "published_at"])
async def test_cursor_pages_neither_overlap_nor_skip_across_tied_timestamps(client, user, scaled_warehouse, sort):
    """Disclosures carry only a day: every one of a day shares 00:00 KST. Seven a page cuts through
    those ties; walking next_cursor must give exactly the database's order."""
    params = {"source": "dart", "from": "2025-03-01", "to": "2025-03-31", "page_size": 7, "sort": sort}
    expected = ordered_ids(scaled_warehouse, "'dart' = ANY(sources) AND published_at >= %s AND published_at < %s",
                           ("2025-03-01 00:00+09", "2025-04-01 00:00+09"), sort == "published_at")
    [(stamps,)] = sql(scaled_warehouse, "SELECT count(DISTINCT published_at) FROM marts.news_articles "
                                        "WHERE 'dart' = ANY(sources) AND published_at >= '2025-03-01 00:00+09' "
                                        "AND published_at < '2025-04-01 00:00+09'")
    assert len(expected) > 3 * stamps > 0  # ties, several a page boundary
    seen: list[str] = []
    cursor = None
    while True:
        answer = await client.get("/api/news", params={**params, **({"cursor": cursor} if cursor else {})},
                                  headers=bearer(user.token))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += [a["id"] for a in body["items"]]
        assert body["total"] == len(expected) and not body["total_is_estimate"]
        assert body["page"] == (None if cursor else 1)
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 7
    assert seen == expected


async def test_page_numbers_and_cursors_agree(client, user):
    first = (await client.get("/api/news", params={"page_size": 30}, headers=bearer(user.token))).json()
    second = (await client.get("/api/news", params={"page": 2, "page_size": 30}, headers=bearer(user.token))).json()
    after = (await client.get("/api/news", params={"cursor": first["next_cursor"], "page_size": 30},
                              headers=bearer(user.token))).json()
    assert [a["id"] for a in after["items"]] == [a["id"] for a in second["items"]] and len(second["items"]) == 30


async def test_a_large_total_is_the_planners_estimate_and_says_so(client, user, scaled_warehouse):
    [(articles,)] = sql(scaled_warehouse, "SELECT count(*) FROM marts.news_articles")
    everything = (await client.get("/api/news", headers=bearer(user.token))).json()
    assert articles > EXACT_TOTAL_LIMIT and everything["total_is_estimate"] is True
    assert abs(everything["total"] - articles) <= articles * 0.05
    assert everything["pages"] == -(-everything["total"] // 20) and len(everything["items"]) == 20

    [(code, salient)] = sql(scaled_warehouse, "SELECT stock_code, count(*) FROM marts.news_stock_matches WHERE salient "
                                              "GROUP BY 1 HAVING count(*) < 5000 ORDER BY count(*) DESC LIMIT 1")
    one = (await client.get("/api/news", params={"stock": code}, headers=bearer(user.token))).json()
    assert one["total"] == salient and one["total_is_estimate"] is False


def forged(document: bytes) -> str:
    return base64.urlsafe_b64encode(document).rstrip(b"=").decode()


async def test_bad_cursors_and_deep_pages_are_refused_with_a_reason(client, user):
    first = (await client.get("/api/news", params={"page_size": 5}, headers=bearer(user.token))).json()
    for params, says in [
        ({"cursor": "abc"}, "not a cursor this API issued"),
        ({"cursor": forged(b'["yesterday", "1", "desc"]')}, "not a cursor this API issued"),
        ({"cursor": forged(b'["2025-06-01T00:00:00", "1", "desc"]')}, "out of range"),
        ({"cursor": forged(b'["2025-06-01T00:00:00+09:00", "0", "desc"]')}, "out of range"),
        ({"cursor": forged(b'["2025-06-01T00:00:00+09:00", "99999999999999999999", "desc"]')}, "out of range"),
        ({"cursor": first["next_cursor"], "sort": "published_at"}, "sorted by -published_at"),
        ({"cursor": first["next_cursor"], "page": 2}, "either cursor or page"),
        ({"cursor": "not/base64"}, "cursor"),
        ({"page": 501}, "page through with cursor"),
    ]:
        response = await client.get("/api/news", params=params, headers=bearer(user.token))
        assert response.status_code == 400 and says in response.text, (params, response.text)
    last_offset_page = await client.get("/api/news", params={"page": 500}, headers=bearer(user.token))
    assert last_offset_page.status_code == 200 and len(last_offset_page.json()["items"]) == 20
