"""Routes whose JSON PostgreSQL writes (azak_api/json_sql.py) answer what the former Python path
answered: the same parsed JSON, value for value, and a document that decodes strictly into the
route's declared type (the type the OpenAPI schema is generated from).

The former path is kept here as the oracle: the rows read with psycopg, the response structs built
from them in Python and encoded by msgspec, as the handlers did before.
"""

import gzip
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import psycopg
import pytest

from azak_api.dashboard.schemas import (
    DashboardSummary,
    ImpactFigures,
    MarketFigures,
    Mover,
    NewsFigures,
    NewsLeader,
)
from azak_api.json_sql import json_float, json_time
from azak_api.news.controllers import as_article
from azak_api.news.cursor import Position, encode_cursor
from azak_api.news.queries import ARTICLE, ArticleRow
from azak_api.news.schemas import ArticlePage
from azak_api.settings import DEFAULT_CACHE_TTLS
from azak_api.similar.schemas import Neighbour, Outcome, SearchResults, SimilarNews
from azak_api.stocks.queries import UNIVERSE
from azak_api.stocks.schemas import DailyBar, MinuteBar, PriceSeries
from azak_core.market import KOSPI, RETURN_HORIZONS
from tests.api.conftest import bearer, serving, settings_for, sql
from tests.api.test_frontend import new_credentials
from tests.api.test_similar import article_with_neighbours

SAMSUNG = "005930"


def former(value: Any) -> Any:
    """What the former path answered: the struct as msgspec encodes it, parsed back."""
    return msgspec.json.decode(msgspec.json.encode(value))


def same_answer(body: bytes, declared: type, expected: Any) -> None:
    """``body`` decodes strictly as ``declared`` and parses to the former path's answer."""
    strict = msgspec.json.decode(body, type=declared, strict=True)
    assert former(strict) == msgspec.json.decode(body) == former(expected)


def former_prices(url: str, code: str, interval: str, start: str, end: str) -> PriceSeries:
    with psycopg.connect(url) as conn:
        if interval == "daily":
            rows = conn.execute(
                "SELECT trade_date, open::float8, high::float8, low::float8, close::float8, volume, is_halt, "
                "return_1d, ma_5, ma_20, ma_60, rsi_14, macd, macd_signal, macd_histogram, bollinger_upper, "
                "bollinger_mid, bollinger_lower FROM marts.daily_prices WHERE stock_code = %s "
                "AND trade_date BETWEEN %s AND %s ORDER BY trade_date", (code, start, end)).fetchall()
            return PriceSeries(code, interval, *map(_day, (start, end)), daily=[DailyBar(*r) for r in rows])
        rows = conn.execute(
            "SELECT bar_time, open, high, low, close, volume FROM marts.minute_prices WHERE stock_code = %s "
            "AND trade_date BETWEEN %s AND %s ORDER BY bar_time", (code, start, end)).fetchall()
    return PriceSeries(code, interval, *map(_day, (start, end)), minute=[
        MinuteBar(t, float(o), float(h), float(lo), float(c), v) for t, o, h, lo, c, v in rows])


def _day(text: str) -> Any:
    return datetime.strptime(text, "%Y-%m-%d").date()


@pytest.mark.parametrize(("interval", "start", "end"), [
    ("daily", "2025-03-03", "2025-06-17"),
    ("daily", "2024-01-01", "2025-04-15"),  # starts before the warehouse's first bar
    ("daily", "2020-01-01", "2020-12-31"),  # no bars: an empty list, not null
    ("minute", "2025-06-16", "2025-06-17"),
])
async def test_prices_answer_what_the_python_path_answered(client, user, api_warehouse, interval, start, end):
    response = await client.get(f"/api/stocks/{SAMSUNG}/prices", params={"interval": interval, "from": start,
                                "to": end}, headers=bearer(user.token))
    assert response.status_code == 200, response.text
    expected = former_prices(api_warehouse, SAMSUNG, interval, start, end)
    assert (expected.daily or expected.minute or start.startswith("2020"))  # the case has bars, or is the empty one
    same_answer(response.content, PriceSeries, expected)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Seoul", "America/St_Johns"])
def test_timestamps_are_encoded_as_msgspec_encodes_them(api_warehouse, zone):
    """Whole seconds and fractions, UTC ("Z") and other offsets, in the session's time zone as
    psycopg reads them (the embedded server may run in another zone than a production one)."""
    moments = ["2025-06-16 00:00:00+00", "2025-06-16 09:00:00.5+09", "1999-12-31 23:59:59.000001+00",
               "2025-06-16 12:34:56.123456-03:30"]
    with psycopg.connect(api_warehouse) as conn:
        conn.execute(f"SET TIME ZONE '{zone}'")
        for moment in moments:
            read, written = conn.execute(
                f"SELECT t, {json_time('t')}::text FROM (SELECT CAST(%s AS timestamptz) AS t) m", (moment,)).fetchone()
            assert written == msgspec.json.encode(read).decode(), moment
    assert msgspec.json.encode(datetime(2025, 6, 16, tzinfo=UTC)) == b'"2025-06-16T00:00:00Z"'


@pytest.mark.parametrize("column_type", ["float8", "numeric"])  # the marts hold prices as numeric
def test_floats_are_encoded_as_msgspec_encodes_them(api_warehouse, column_type):
    values = ["0.1", "-2.5", "1e20", "1e-7", "123456789.123", "78700.00", "NaN", "Infinity", "-Infinity", None]
    with psycopg.connect(api_warehouse) as conn:
        for value in values:
            read, written = conn.execute(
                f"SELECT x::float8, json_build_object('v', {json_float('x')})::text "
                f"FROM (SELECT CAST(%s AS {column_type}) AS x) v", (value,)).fetchone()
            assert msgspec.json.decode(written)["v"] == msgspec.json.decode(msgspec.json.encode(read)), value


# the bar as the route rendered it on every request before marts.daily_prices kept it (bar_json)
RENDERED_BAR = {"date": "p.trade_date", **{name: json_float(f"p.{name}") for name in ("open", "high", "low", "close")},
                "volume": "p.volume", "is_halt": "p.is_halt",
                **{name: json_float(f"p.{name}") for name in DailyBar.__struct_fields__[7:]}}


def test_each_stored_bar_is_the_bar_the_route_rendered(api_warehouse):
    """dbt writes each daily bar's JSON with the bar (macros/bar_json.sql): byte for byte the object
    json_agg wrote for the row per request, its keys DailyBar's in order, for every row."""
    assert list(RENDERED_BAR) == list(DailyBar.__struct_fields__)
    columns = ", ".join(f'{expression} AS "{key}"' for key, expression in RENDERED_BAR.items())
    [(rows, differing)] = sql(api_warehouse, f"""
        SELECT count(*), count(*) FILTER (WHERE p.bar_json IS DISTINCT FROM
                                          (SELECT row_to_json(v)::text FROM (SELECT {columns}) v))
        FROM marts.daily_prices p""")
    assert rows > 200 and differing == 0


@pytest.mark.parametrize("value", ["78700.00", "0.1", "1e-7", "NaN", "Infinity", "-Infinity", None])
def test_a_stored_bar_encodes_each_value_as_msgspec_does(api_warehouse, value):
    """Prices (numeric) and indicators (float8) alike: NaN and infinities as null, as msgspec."""
    floats = ", ".join(f"CAST(%(v)s AS float8) AS {name}" for name in DailyBar.__struct_fields__[7:])
    with psycopg.connect(api_warehouse) as conn:
        [(stored, *row)] = conn.execute(f"""
            SELECT marts.daily_bar_json(day, n, n, n, n, 5, NULL, {", ".join(DailyBar.__struct_fields__[7:])}), day,
                   n::float8, n::float8, n::float8, n::float8, 5, NULL, {", ".join(DailyBar.__struct_fields__[7:])}
            FROM (SELECT DATE '2025-06-17' AS day, CAST(%(v)s AS numeric) AS n, {floats}) AS bar""",
            {"v": value}).fetchall()
    assert msgspec.json.decode(stored) == former(DailyBar(*row))


def former_neighbours(url: str, found: list[dict[str, Any]], stock: str | None) -> list[Neighbour]:
    """The neighbours the former path built for the hits the answer lists (ids and similarities are
    checked against computed.similar_news in test_similar.py)."""
    returns = ", ".join(f"i.return_{h}d" for h in RETURN_HORIZONS)
    items = []
    for hit in found:
        rows = sql(url, "SELECT a.title, a.source, a.press, a.url, a.published_at, a.stock_codes, i.stock_code, "
                        f"{returns} FROM marts.news_articles a LEFT JOIN marts.news_price_impact i "
                        "ON i.news_id = a.news_id" + (" AND i.stock_code = %(stock)s" if stock else "")
                        + " WHERE a.news_id = %(id)s ORDER BY i.salient DESC, i.score DESC",
                   {"id": int(hit["id"]), "stock": stock})
        title, source, press, url_, published_at, codes = rows[0][:6]
        items.append(Neighbour(hit["id"], hit["similarity"], title, source, press, url_, published_at, list(codes),
                               [Outcome(r[6], {f"{h}d": v for h, v in zip(RETURN_HORIZONS, r[7:], strict=True)})
                                for r in rows if r[6] is not None]))
    return items


@pytest.mark.parametrize("params", [{}, {"k": 3}, {"stock": "first"}, {"min_similarity": 0.99}])
async def test_similar_answers_what_the_python_path_answered(client, user, api_warehouse, params):
    news_id, _, _ = article_with_neighbours(api_warehouse)
    if params.get("stock") == "first":
        [(codes,)] = sql(api_warehouse, "SELECT stock_codes FROM marts.news_articles WHERE news_id = %s", (news_id,))
        params = {"stock": codes[0]} if codes else {}
    response = await client.get(f"/api/news/{news_id}/similar", params=params, headers=bearer(user.token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"] or params.get("min_similarity")  # neighbours to compare, or the empty case
    expected = SimilarNews(str(news_id), body["embedder"], body["k"], body["min_similarity"],
                           former_neighbours(api_warehouse, body["items"], params.get("stock")))
    same_answer(response.content, SimilarNews, expected)


async def test_search_answers_what_the_python_path_answered(client, user, api_warehouse):
    response = await client.get("/api/news/search", params={"q": "삼성전자 반도체"}, headers=bearer(user.token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"]
    expected = SearchResults("삼성전자 반도체", body["embedder"], former_neighbours(api_warehouse, body["items"], None))
    same_answer(response.content, SearchResults, expected)


@pytest.mark.parametrize("params", [{}, {"stock": SAMSUNG, "page_size": 5}, {"sort": "published_at", "page": 2},
                                    {"q": "no article says this"}])
async def test_news_list_answers_what_the_python_path_answered(client, user, api_warehouse, params):
    response = await client.get("/api/news", params=params, headers=bearer(user.token))
    assert response.status_code == 200, response.text
    body = response.json()
    size, ascending = params.get("page_size", 20), params.get("sort") == "published_at"
    order = "ASC" if ascending else "DESC"
    rows = [ArticleRow(*r) for r in sql(
        api_warehouse, f"SELECT {ARTICLE} FROM marts.news_articles WHERE (%(stock)s::text IS NULL OR "
                       "stock_codes @> ARRAY[%(stock)s::text]) AND (%(q)s::text IS NULL OR title LIKE %(q)s) "
                       f"ORDER BY published_at {order}, news_id {order} LIMIT %(n)s OFFSET %(skip)s",
        {"stock": params.get("stock"), "q": params.get("q"), "n": size + 1,
         "skip": (params.get("page", 1) - 1) * size})]
    assert rows or params.get("q")  # articles to compare, or the empty case
    last = rows[size - 1] if len(rows) > size else None
    expected = ArticlePage(
        items=[as_article(r) for r in rows[:size]], total=body["total"], total_is_estimate=body["total_is_estimate"],
        page=body["page"], page_size=size, pages=body["pages"],
        next_cursor=encode_cursor(Position(last.published_at, last.news_id), ascending) if last else None)
    same_answer(response.content, ArticlePage, expected)


def former_dashboard(url: str) -> DashboardSummary:
    [(total, watchlist)] = sql(url, f"SELECT count(*), count(*) FILTER (WHERE is_watchlist) FROM ({UNIVERSE}) u")
    kospi = sql(url, "SELECT trade_date, close, return_1d FROM marts.index_daily WHERE index_code = %s "
                     "ORDER BY trade_date DESC LIMIT 1", (KOSPI,))
    market = MarketFigures(*(kospi[0][0], float(kospi[0][1]), kospi[0][2] * 100) if kospi else (None,) * 3)
    movers = [Mover(code, name, float(close), change * 100) for code, name, close, change in sql(url, f"""
        WITH latest AS (SELECT max(trade_date) AS day FROM marts.daily_prices)
        SELECT p.stock_code, u.name, p.close, p.return_1d FROM marts.daily_prices p JOIN latest
        ON p.trade_date = latest.day JOIN ({UNIVERSE}) u ON u.code = p.stock_code
        WHERE u.is_watchlist AND p.return_1d IS NOT NULL ORDER BY p.return_1d DESC""")]
    figures = sql(url, "SELECT figure, key, n, mean, as_of FROM marts.news_figures ORDER BY n DESC, key")
    totals = {key: n for figure, key, n, _, _ in figures if figure == "totals"}
    by = {name: {key: n for figure, key, n, _, _ in figures if figure == name} for name in ("source", "content_type")}
    news = NewsFigures(
        next((at for figure, *_, at in figures if figure == "totals"), None), totals.get("total", 0),
        totals.get("day", 0), totals.get("week", 0), totals.get("stories", 0),
        totals.get("with_subject", 0) / totals["total"] * 100 if totals.get("total") else None,
        by["source"], by["content_type"])
    names = dict(sql(url, f"SELECT code, name FROM ({UNIVERSE}) u"))
    horizons = sorted((r for r in figures if r[0] == "impact"), key=lambda r: int(r[1].rstrip("d")))
    return DashboardSummary(
        total, watchlist, market, [m for m in movers if m.change_pct > 0][:5],
        [m for m in reversed(movers) if m.change_pct < 0][:5], news,
        [NewsLeader(key, names.get(key), n) for figure, key, n, _, _ in figures if figure == "most_covered"],
        [ImpactFigures(key, n, mean) for _, key, n, mean, _ in horizons])


async def test_dashboard_answers_what_the_python_path_answered(client, user, api_warehouse):
    response = await client.get("/api/dashboard/summary", headers=bearer(user.token))
    assert response.status_code == 200, response.text
    expected = former_dashboard(api_warehouse)
    assert expected.gainers and expected.most_covered and expected.impact_after_news  # the figures exist
    same_answer(response.content, DashboardSummary, expected)


async def test_the_dashboards_watch_list_follows_admins_as_the_universe_does(client, user, admin, api_warehouse):
    """The dashboard counts the universe and reads the watch-list without building the universe's rows
    (queries.UNIVERSE_SIZE, WATCHLIST); with an admin's row deciding for its code — a new listing, a
    mover taken off, a mover renamed, a listing put on — it still answers what UNIVERSE says."""
    movers = former_dashboard(api_warehouse)
    off, renamed = movers.gainers[0].code, movers.losers[0].code
    [(put_on,)] = sql(api_warehouse, "SELECT stock_code FROM marts.stocks WHERE NOT is_watchlist "
                                     "ORDER BY stock_code LIMIT 1")
    admin_headers = bearer(admin.token)
    try:
        changes = [("post", "", {"code": "0099Y1", "name": "대시보드신규"}), ("put", off, {"is_watchlist": False}),
                   ("put", renamed, {"name": "이름바뀐종목"}), ("put", put_on, {"is_watchlist": True})]
        for method, code, body in changes:
            changed = await getattr(client, method)(f"/api/admin/stocks/{code}", json=body, headers=admin_headers)
            assert changed.status_code in (200, 201), changed.text
        response = await client.get("/api/dashboard/summary", headers=bearer(user.token))
        expected = former_dashboard(api_warehouse)
        assert expected.watchlist_size == movers.watchlist_size + 1  # one new, one off, one on
        assert expected.stocks_in_universe == movers.stocks_in_universe + 1
        assert off not in {m.code for m in expected.gainers}
        assert "이름바뀐종목" in {m.name for m in expected.losers}
        same_answer(response.content, DashboardSummary, expected)
    finally:
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code = ANY(%s)", (["0099Y1", off, renamed, put_on],))


@pytest.mark.slow
def test_uncached_answers_written_by_postgresql_keep_etags_304_and_gzip(api_warehouse):
    """Over HTTP with every response cache off: the bytes PostgreSQL wrote are tagged, revalidated
    to 304 and gzipped like any answer."""
    uncached = settings_for(api_warehouse, cache_ttls={name: 0 for name in DEFAULT_CACHE_TTLS})
    with serving(uncached) as base, httpx.Client(base_url=base) as http:
        auth = bearer(http.post("/api/auth/login", json=new_credentials(api_warehouse)).json()["access_token"])
        for path in (f"/api/stocks/{SAMSUNG}/prices", "/api/news"):
            plain = http.get(path, headers=auth)
            assert plain.status_code == 200 and plain.headers["content-type"] == "application/json"
            assert plain.headers["cache-control"] == "private, no-cache" and plain.headers["etag"].startswith('W/"')
            with http.stream("GET", path, headers={**auth, "Accept-Encoding": "gzip"}) as zipped:
                raw = b"".join(zipped.iter_raw())
                assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["etag"] == plain.headers["etag"]
            assert gzip.decompress(raw) == plain.content
            again = http.get(path, headers={**auth, "If-None-Match": plain.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
