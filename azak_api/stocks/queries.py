"""SQL over ``marts.stocks``, ``marts.daily_prices``, ``marts.minute_prices``,
``marts.news_stock_matches`` and the API's
``app.stock_watchlist`` (admin changes apply at once, before the pipelines pick them up)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, escape_like, paged, rows_as
from azak_api.json_sql import (
    document_row,
    joined,
    json_array,
    json_float,
    json_object_around,
    json_texts,
    json_time,
)
from azak_api.market.queries import LAST_CLOSE, QUOTES, RATIOS, CloseRow

# the universe as marts know it, with admins' live changes and additions
UNIVERSE = """
    SELECT s.stock_code AS code, coalesce(w.name, s.stock_name) AS name,
           coalesce(w.market, s.market) AS market, s.section, s.industry, s.listed_on,
           s.market_cap, s.listed_shares, coalesce(w.active, s.is_watchlist) AS is_watchlist
    FROM marts.stocks s LEFT JOIN app.stock_watchlist w ON w.code = s.stock_code
    UNION ALL
    SELECT w.code, coalesce(w.name, w.code), w.market, NULL, NULL, NULL, NULL, NULL, w.active
    FROM app.stock_watchlist w
    WHERE NOT EXISTS (SELECT 1 FROM marts.stocks s WHERE s.stock_code = w.code)
"""
# the same universe's size and its watch-list (code, name), each without building the universe's
# rows (a hash join of every listing): what UNIVERSE counts and filters by is_watchlist, row for
# row (tests/api/test_json_sql.py holds them equal with admins' changes); an admin's row decides
# for its code, the listing's flag for the others
UNIVERSE_SIZE = """((SELECT count(*) FROM marts.stocks) + (SELECT count(*) FROM app.stock_watchlist w
    WHERE NOT EXISTS (SELECT 1 FROM marts.stocks s WHERE s.stock_code = w.code)))"""
WATCHLIST = """
    SELECT s.stock_code AS code, s.stock_name AS name FROM marts.stocks s
    WHERE s.is_watchlist AND NOT EXISTS (SELECT 1 FROM app.stock_watchlist w WHERE w.code = s.stock_code)
    UNION ALL
    SELECT w.code, coalesce(w.name, s.stock_name, w.code)
    FROM app.stock_watchlist w LEFT JOIN marts.stocks s ON s.stock_code = w.code WHERE w.active
"""
Number = Decimal | float | int


class StockRow(NamedTuple):
    code: str
    name: str
    market: str | None
    section: str | None
    industry: str | None
    listed_on: date | None
    market_cap: int | None
    listed_shares: int | None
    is_watchlist: bool


class Close(NamedTuple):
    trade_date: date
    close: Number
    volume: int


class Span(NamedTuple):
    high: Number | None
    low: Number | None


class NewsCountRow(NamedTuple):
    total: int
    last_7: int
    last_30: int
    latest: datetime | None


class WatchlistRow(NamedTuple):
    code: str
    name: str | None
    market: str | None
    active: bool
    updated_at: datetime


async def page(conn: AsyncConnection, q: str | None, market: str | None, watchlist: bool | None,
               offset: int, limit: int) -> tuple[list[StockRow], Total]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if q:
        conditions.append(r"(u.name ILIKE :like ESCAPE '\' OR u.code LIKE :prefix ESCAPE '\')")
        params |= {"like": f"%{escape_like(q)}%", "prefix": f"{escape_like(q.upper())}%"}
    if market:
        conditions.append("u.market = :market")
        params["market"] = market
    if watchlist is not None:
        conditions.append("u.is_watchlist = :watchlist")
        params["watchlist"] = watchlist
    rows, total = await paged(conn, "u.*", f"({UNIVERSE}) u", " AND ".join(conditions),
                              "u.is_watchlist DESC, u.market_cap DESC NULLS LAST, u.code", params, offset, limit)
    return rows_as(StockRow, rows), total


async def one(conn: AsyncConnection, code: str) -> StockRow | None:
    rows = (await conn.execute(text(f"SELECT * FROM ({UNIVERSE}) u WHERE u.code = :code"), {"code": code})).all()
    return rows_as(StockRow, rows)[0] if rows else None


class DetailRow(NamedTuple):
    stock: StockRow
    closes: list[Close]  # the newest first, at most two
    span: Span  # since the newest close's day less 364 days (None, None without closes)
    news: NewsCountRow
    close: CloseRow | None  # the latest close by the day asked (a valuation's price)
    onboarding: "OnboardingRow | None"
    has_ratios: bool  # whether the staging tables a valuation reads exist yet
    has_quotes: bool


async def detail(conn: AsyncConnection, code: str, now: datetime, day: date) -> DetailRow | None:
    """The stock, its two newest closes, its 52-week range, its news counts (by ``now``), its latest
    close by ``day`` and its latest onboarding: one round trip, read by psycopg (json_sql.document_row)."""
    row = await document_row(conn, f"""
        SELECT {", ".join(f"u.{name}" for name in StockRow._fields)}, c.days, c.closes, c.volumes, r.high, r.low,
               n.total, n.last_7, n.last_30, n.latest, v.trade_date, v.close, v.listed_shares,
               {", ".join(f"o.{name}" for name in ONBOARDING)}, o.id IS NOT NULL,
               to_regclass('{RATIOS}') IS NOT NULL, to_regclass('{QUOTES}') IS NOT NULL
        FROM ({UNIVERSE}) u
        CROSS JOIN LATERAL (
            SELECT array_agg(trade_date ORDER BY trade_date DESC) AS days,
                   array_agg(close ORDER BY trade_date DESC) AS closes,
                   array_agg(volume ORDER BY trade_date DESC) AS volumes
            FROM (SELECT trade_date, close, volume FROM marts.daily_prices WHERE stock_code = :code
                  ORDER BY trade_date DESC LIMIT 2) AS newest) c
        CROSS JOIN LATERAL (
            SELECT max(coalesce(high, close)) AS high, min(coalesce(low, close)) AS low
            FROM marts.daily_prices WHERE stock_code = :code AND trade_date >= c.days[1] - 364) r
        CROSS JOIN LATERAL (
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE published_at >= :now - interval '7 days') AS last_7,
                   count(*) FILTER (WHERE published_at >= :now - interval '30 days') AS last_30,
                   max(published_at) AS latest
            FROM marts.news_stock_matches WHERE stock_code = :code AND salient) n
        LEFT JOIN LATERAL ({LAST_CLOSE}) v ON TRUE
        LEFT JOIN LATERAL (SELECT id, {", ".join(ONBOARDING)} FROM app.stock_onboarding
                           WHERE stock_code = :code ORDER BY id DESC LIMIT 1) o ON TRUE
        WHERE u.code = :code""", {"code": code, "now": now, "day": day}, text_as_bytes=False)
    if row is None:
        return None
    stock, (days, closes, volumes, high, low, total, last_7, last_30, latest, close_day, close, shares), rest = (
        StockRow(*row[:len(StockRow._fields)]), row[len(StockRow._fields):len(StockRow._fields) + 12],
        row[len(StockRow._fields) + 12:])
    onboarding, (has_onboarding, has_ratios, has_quotes) = rest[:len(ONBOARDING)], rest[len(ONBOARDING):]
    return DetailRow(stock, [Close(*c) for c in zip(days or [], closes or [], volumes or [], strict=True)],
                     Span(high, low), NewsCountRow(total, last_7, last_30, latest),
                     CloseRow(close_day, close, shares) if close_day is not None else None,
                     OnboardingRow(*onboarding) if has_onboarding else None, has_ratios, has_quotes)


# schemas.MinuteBar, field by field in its order: {JSON key: SQL expression}; a daily bar's JSON is
# stored with the bar (marts.daily_prices.bar_json, written by dbt: dbt_project/macros/bar_json.sql)
MINUTE_BAR = {"time": json_time("p.bar_time"),
              **{name: json_float(f"p.{name}") for name in ("open", "high", "low", "close")}, "volume": "p.volume"}
WINDOW = "p.stock_code = :code AND p.trade_date BETWEEN w.first AND w.last"
# each interval's bars as (opening text, JSON text of the items, closing text)
BARS = {"daily": ("[", json_texts("p.bar_json", "marts.daily_prices p", WINDOW, "p.trade_date"), "]"),
        "minute": ("", f"{json_array(MINUTE_BAR, 'marts.minute_prices p', WINDOW, 'p.bar_time')}::text", "")}


class PriceWindow(NamedTuple):
    listed: bool
    first: date
    last: date
    document: bytes | None  # the schemas.PriceSeries answer; None when not listed or the window is refused


async def price_series(conn: AsyncConnection, code: str, interval: str, start: date | None, end: date | None,
                       back_days: int, max_days: int, today: date) -> PriceWindow:
    """Whether the code is listed, the window of bars (``end``, else the day of its newest daily bar,
    else ``today``; ``start``, else ``back_days`` before that) and, when it is listed and the window is
    at most ``max_days`` long, the whole ``schemas.PriceSeries`` answer as JSON written by PostgreSQL
    (azak_api/json_sql.py): one round trip."""
    opens, items, closes = BARS[interval]
    head, tail = json_object_around({
        "code": "to_json(CAST(:code AS text))::text", "interval": "to_json(CAST(:interval AS text))::text",
        "start": "to_json(w.first)::text", "end": "to_json(w.last)::text",
        **{name: None if name == interval else "NULL" for name in BARS}}, opens, closes)
    answered = "listed AND first <= last AND last - first <= CAST(:max_days AS integer)"
    row = await document_row(conn, f"""
        WITH known AS (
            SELECT EXISTS (SELECT 1 FROM ({UNIVERSE}) u WHERE u.code = :code) AS listed,
                   coalesce(CAST(:end AS date), (SELECT max(trade_date) FROM marts.daily_prices
                                                 WHERE stock_code = :code), CAST(:today AS date)) AS last),
        w AS MATERIALIZED (SELECT listed, coalesce(CAST(:start AS date), last - CAST(:back AS integer)) AS first,
                                  last FROM known)
        SELECT listed, first, last, CASE WHEN {answered} THEN {head} END, CASE WHEN {answered} THEN {items} END,
               CASE WHEN {answered} THEN {tail} END
        FROM w""", {"code": code, "interval": interval, "start": start, "end": end, "back": back_days,
                    "max_days": max_days, "today": today})
    assert row is not None  # the statement selects one row
    listed, first, last, *document = row
    return PriceWindow(listed, first, last, joined(*document) if document[0] is not None else None)


async def upsert_watchlist(conn: AsyncConnection, code: str, name: str | None, market: str | None,
                           active: bool, user_id: int) -> WatchlistRow:
    return rows_as(WatchlistRow, (await conn.execute(text(
        "INSERT INTO app.stock_watchlist (code, name, market, active, updated_by) "
        "VALUES (:code, :name, :market, :active, :user) ON CONFLICT (code) DO UPDATE SET "
        "name = coalesce(EXCLUDED.name, app.stock_watchlist.name), "
        "market = coalesce(EXCLUDED.market, app.stock_watchlist.market), "
        "active = EXCLUDED.active, updated_by = EXCLUDED.updated_by, updated_at = now() "
        "RETURNING code, name, market, active, updated_at"),
        {"code": code, "name": name, "market": market, "active": active, "user": user_id})).all())[0]


class OnboardingRow(NamedTuple):
    run_id: str | None
    status: Literal["requested", "running", "succeeded", "failed"]  # the table's CHECK
    step: str | None
    requested_at: datetime
    finished_at: datetime | None
    error: str | None


ONBOARDING = OnboardingRow._fields


async def request_onboarding(conn: AsyncConnection, code: str, user_id: int) -> None:
    """A request the daemon's stock_onboarding_sensor turns into a run (one open request per stock)."""
    await conn.execute(text(
        "INSERT INTO app.stock_onboarding (stock_code, origin, requested_by) SELECT :code, 'api', :user "
        "WHERE NOT EXISTS (SELECT 1 FROM app.stock_onboarding WHERE stock_code = :code "
        "AND status IN ('requested', 'running')) ON CONFLICT DO NOTHING"),  # a concurrent add won the race
        {"code": code, "user": user_id})
