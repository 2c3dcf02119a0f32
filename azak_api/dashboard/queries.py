"""SQL for the dashboard. News windows end at the newest article (so replayed data reads sensibly)."""

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import rows_as
from azak_api.stocks.queries import UNIVERSE
from azak_core.market import KOSPI


class UniverseCounts(NamedTuple):
    total: int
    watchlist: int


class IndexClose(NamedTuple):
    trade_date: date
    close: Decimal | float
    return_1d: float | None


class MoverRow(NamedTuple):
    stock_code: str
    name: str
    close: Decimal | float
    return_1d: float


class NewsTotals(NamedTuple):
    as_of: datetime | None
    total: int
    day: int
    week: int
    stories: int
    with_subject: int


class Coverage(NamedTuple):
    code: str
    name: str | None
    n: int


class HorizonImpact(NamedTuple):
    h: str
    matured: int
    mean_pct: Decimal | float | None


async def universe(conn: AsyncConnection) -> UniverseCounts:
    return rows_as(UniverseCounts, (await conn.execute(text(
        f"SELECT count(*) AS total, count(*) FILTER (WHERE is_watchlist) AS watchlist FROM ({UNIVERSE}) u"))).all())[0]


async def kospi(conn: AsyncConnection) -> IndexClose | None:
    rows = rows_as(IndexClose, (await conn.execute(text(
        "SELECT trade_date, close, return_1d FROM marts.index_daily WHERE index_code = :kospi "
        "ORDER BY trade_date DESC LIMIT 1"), {"kospi": KOSPI})).all())
    return rows[0] if rows else None


async def movers(conn: AsyncConnection) -> list[MoverRow]:
    return rows_as(MoverRow, (await conn.execute(text(f"""
        WITH latest AS (SELECT max(trade_date) AS day FROM marts.daily_prices)
        SELECT p.stock_code, u.name, p.close, p.return_1d
        FROM marts.daily_prices p JOIN latest ON p.trade_date = latest.day
        JOIN ({UNIVERSE}) u ON u.code = p.stock_code
        WHERE u.is_watchlist AND p.return_1d IS NOT NULL
        ORDER BY p.return_1d DESC"""))).all())


# The news figures read the whole corpus, so dbt computes them once per build (marts.news_figures).
async def news(conn: AsyncConnection) -> NewsTotals:
    rows = (await conn.execute(text(
        "SELECT key, n, as_of FROM marts.news_figures WHERE figure = 'totals'"))).all()
    counts = {r.key: r.n for r in rows}
    return NewsTotals(as_of=rows[0].as_of if rows else None, total=counts.get("total", 0),
                      day=counts.get("day", 0), week=counts.get("week", 0), stories=counts.get("stories", 0),
                      with_subject=counts.get("with_subject", 0))


async def news_breakdown(conn: AsyncConnection, figure: str) -> dict[str, int]:
    rows = (await conn.execute(text(
        "SELECT key, n FROM marts.news_figures WHERE figure = :figure ORDER BY n DESC, key"),
        {"figure": figure})).all()
    return {r.key: r.n for r in rows}


async def most_covered(conn: AsyncConnection) -> list[Coverage]:
    return rows_as(Coverage, (await conn.execute(text(f"""
        SELECT f.key AS code, u.name, f.n
        FROM marts.news_figures f LEFT JOIN ({UNIVERSE}) u ON u.code = f.key
        WHERE f.figure = 'most_covered' ORDER BY f.n DESC, f.key"""))).all())


async def impact(conn: AsyncConnection) -> list[HorizonImpact]:
    return rows_as(HorizonImpact, (await conn.execute(text(
        "SELECT key AS h, n AS matured, mean AS mean_pct FROM marts.news_figures WHERE figure = 'impact' "
        "ORDER BY CASE key WHEN '1d' THEN 1 WHEN '5d' THEN 5 ELSE 20 END"))).all())
