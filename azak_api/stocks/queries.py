"""SQL over ``marts.stocks``, ``marts.daily_prices``, ``marts.minute_prices``,
``marts.news_stock_matches`` and the API's
``app.stock_watchlist`` (admin changes apply at once, before the pipelines pick them up)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, escape_like, paged, row_as, rows_as

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


class DailyRow(NamedTuple):  # the fields of schemas.DailyBar, in its order
    trade_date: date
    open: float | None
    high: float | None
    low: float | None
    close: float
    volume: int
    is_halt: bool
    return_1d: float | None
    ma_5: float | None
    ma_20: float | None
    ma_60: float | None
    rsi_14: float | None
    macd: float | None
    macd_signal: float | None
    macd_histogram: float | None
    bollinger_upper: float | None
    bollinger_mid: float | None
    bollinger_lower: float | None


class MinuteRow(NamedTuple):
    bar_time: datetime
    open: Number
    high: Number
    low: Number
    close: Number
    volume: int


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


async def latest_two_closes(conn: AsyncConnection, code: str) -> list[Close]:
    return rows_as(Close, (await conn.execute(text(
        "SELECT trade_date, close, volume FROM marts.daily_prices WHERE stock_code = :code "
        "ORDER BY trade_date DESC LIMIT 2"), {"code": code})).all())


async def range_since(conn: AsyncConnection, code: str, since: date) -> Span:
    return rows_as(Span, (await conn.execute(text(
        "SELECT max(coalesce(high, close)) AS high, min(coalesce(low, close)) AS low "
        "FROM marts.daily_prices WHERE stock_code = :code AND trade_date >= :since"),
        {"code": code, "since": since})).all())[0]


async def news_counts(conn: AsyncConnection, code: str, now: datetime) -> NewsCountRow:
    return rows_as(NewsCountRow, (await conn.execute(text(
        "SELECT count(*) AS total, "
        "count(*) FILTER (WHERE published_at >= :now - interval '7 days') AS last_7, "
        "count(*) FILTER (WHERE published_at >= :now - interval '30 days') AS last_30, "
        "max(published_at) AS latest FROM marts.news_stock_matches WHERE stock_code = :code AND salient"),
        {"code": code, "now": now})).all())[0]


class Listed(NamedTuple):
    listed: bool
    latest: date | None


async def listed_and_latest(conn: AsyncConnection, code: str) -> Listed:
    """Whether the code is in the universe, and the day of its newest daily bar: one round trip."""
    return rows_as(Listed, (await conn.execute(text(
        f"SELECT EXISTS (SELECT 1 FROM ({UNIVERSE}) u WHERE u.code = :code) AS listed, "
        "(SELECT max(trade_date) FROM marts.daily_prices WHERE stock_code = :code) AS latest"),
        {"code": code})).all())[0]


async def daily(conn: AsyncConnection, code: str, start: date, end: date) -> list[DailyRow]:
    return rows_as(DailyRow, (await conn.execute(text(
        # float8 from the server: psycopg's floats are cheaper than Decimals, and the answer is floats
        "SELECT trade_date, open::float8 AS open, high::float8 AS high, low::float8 AS low, "
        "close::float8 AS close, volume, is_halt, return_1d, ma_5, ma_20, ma_60, "
        "rsi_14, macd, macd_signal, macd_histogram, bollinger_upper, bollinger_mid, bollinger_lower "
        "FROM marts.daily_prices WHERE stock_code = :code AND trade_date BETWEEN :start AND :end "
        "ORDER BY trade_date"), {"code": code, "start": start, "end": end})).all())


async def minutes(conn: AsyncConnection, code: str, start: date, end: date) -> list[MinuteRow]:
    return rows_as(MinuteRow, (await conn.execute(text(
        "SELECT bar_time, open, high, low, close, volume FROM marts.minute_prices "
        "WHERE stock_code = :code AND trade_date BETWEEN :start AND :end ORDER BY bar_time"),
        {"code": code, "start": start, "end": end})).all())


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


async def request_onboarding(conn: AsyncConnection, code: str, user_id: int) -> None:
    """A request the daemon's stock_onboarding_sensor turns into a run (one open request per stock)."""
    await conn.execute(text(
        "INSERT INTO app.stock_onboarding (stock_code, origin, requested_by) SELECT :code, 'api', :user "
        "WHERE NOT EXISTS (SELECT 1 FROM app.stock_onboarding WHERE stock_code = :code "
        "AND status IN ('requested', 'running'))"), {"code": code, "user": user_id})


async def latest_onboarding(conn: AsyncConnection, code: str) -> OnboardingRow | None:
    return row_as(OnboardingRow, (await conn.execute(text(
        "SELECT run_id, status, step, requested_at, finished_at, error FROM app.stock_onboarding "
        "WHERE stock_code = :code ORDER BY id DESC LIMIT 1"), {"code": code})).first())
