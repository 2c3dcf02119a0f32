"""SQL over ``marts.stocks``, ``marts.daily_prices``, ``marts.minute_prices`` and the API's
``app.stock_watchlist`` (admin changes apply at once, before the pipelines pick them up)."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import paged

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


async def page(conn: AsyncConnection, q: str | None, market: str | None, watchlist: bool | None,
               offset: int, limit: int) -> tuple[Sequence[Any], int]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if q:
        conditions.append("(u.name ILIKE :like OR u.code LIKE :prefix)")
        params |= {"like": f"%{q}%", "prefix": f"{q.upper()}%"}
    if market:
        conditions.append("u.market = :market")
        params["market"] = market
    if watchlist is not None:
        conditions.append("u.is_watchlist = :watchlist")
        params["watchlist"] = watchlist
    return await paged(conn, "u.*", f"({UNIVERSE}) u", " AND ".join(conditions),
                       "u.is_watchlist DESC, u.market_cap DESC NULLS LAST, u.code", params, offset, limit)


async def one(conn: AsyncConnection, code: str) -> Any:
    return (await conn.execute(text(f"SELECT * FROM ({UNIVERSE}) u WHERE u.code = :code"), {"code": code})).first()


async def latest_two_closes(conn: AsyncConnection, code: str) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT trade_date, close, volume FROM marts.daily_prices WHERE stock_code = :code "
        "ORDER BY trade_date DESC LIMIT 2"), {"code": code})).all()


async def range_since(conn: AsyncConnection, code: str, since: date) -> Any:
    return (await conn.execute(text(
        "SELECT max(coalesce(high, close)) AS high, min(coalesce(low, close)) AS low "
        "FROM marts.daily_prices WHERE stock_code = :code AND trade_date >= :since"),
        {"code": code, "since": since})).first()


async def news_counts(conn: AsyncConnection, code: str, now: datetime) -> Any:
    return (await conn.execute(text(
        "SELECT count(*) AS total, "
        "count(*) FILTER (WHERE published_at >= :now - interval '7 days') AS last_7, "
        "count(*) FILTER (WHERE published_at >= :now - interval '30 days') AS last_30, "
        "max(published_at) AS latest FROM marts.news_articles WHERE :code = ANY(stock_codes)"),
        {"code": code, "now": now})).first()


async def latest_trade_date(conn: AsyncConnection, code: str) -> date | None:
    return (await conn.execute(text(
        "SELECT max(trade_date) FROM marts.daily_prices WHERE stock_code = :code"), {"code": code})).scalar()


async def daily(conn: AsyncConnection, code: str, start: date, end: date) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT trade_date, open, high, low, close, volume, is_halt, return_1d, ma_5, ma_20, ma_60, "
        "rsi_14, macd, macd_signal, macd_histogram, bollinger_upper, bollinger_mid, bollinger_lower "
        "FROM marts.daily_prices WHERE stock_code = :code AND trade_date BETWEEN :start AND :end "
        "ORDER BY trade_date"), {"code": code, "start": start, "end": end})).all()


async def minutes(conn: AsyncConnection, code: str, start: date, end: date) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT bar_time, open, high, low, close, volume FROM marts.minute_prices "
        "WHERE stock_code = :code AND trade_date BETWEEN :start AND :end ORDER BY bar_time"),
        {"code": code, "start": start, "end": end})).all()


async def upsert_watchlist(conn: AsyncConnection, code: str, name: str | None, market: str | None,
                           active: bool, user_id: int) -> Any:
    return (await conn.execute(text(
        "INSERT INTO app.stock_watchlist (code, name, market, active, updated_by) "
        "VALUES (:code, :name, :market, :active, :user) ON CONFLICT (code) DO UPDATE SET "
        "name = coalesce(EXCLUDED.name, app.stock_watchlist.name), "
        "market = coalesce(EXCLUDED.market, app.stock_watchlist.market), "
        "active = EXCLUDED.active, updated_by = EXCLUDED.updated_by, updated_at = now() "
        "RETURNING code, name, market, active, updated_at"),
        {"code": code, "name": name, "market": market, "active": active, "user": user_id})).first()
