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


async def news(conn: AsyncConnection) -> NewsTotals:
    return rows_as(NewsTotals, (await conn.execute(text("""
        WITH latest AS (SELECT max(published_at) AS at FROM marts.news_articles)
        SELECT latest.at AS as_of, count(a.news_id) AS total,
               count(a.news_id) FILTER (WHERE a.published_at > latest.at - interval '24 hours') AS day,
               count(a.news_id) FILTER (WHERE a.published_at > latest.at - interval '7 days') AS week,
               count(DISTINCT a.cluster_id) AS stories,
               count(a.news_id) FILTER (WHERE cardinality(a.stock_codes) > 0) AS with_subject
        FROM latest LEFT JOIN marts.news_articles a ON TRUE GROUP BY latest.at"""))).all())[0]


async def news_breakdown(conn: AsyncConnection, column: str) -> dict[str, int]:
    expression = {"source": "unnest(sources)", "content_type": "content_type"}[column]
    rows = (await conn.execute(text(
        f"SELECT {expression} AS k, count(*) AS n FROM marts.news_articles GROUP BY 1 ORDER BY 2 DESC"))).all()
    return {r.k: r.n for r in rows}


async def most_covered(conn: AsyncConnection) -> list[Coverage]:
    return rows_as(Coverage, (await conn.execute(text(f"""
        WITH latest AS (SELECT max(published_at) AS at FROM marts.news_articles)
        SELECT linked.stock AS code, u.name, count(*) AS n
        FROM marts.news_articles a CROSS JOIN latest
        CROSS JOIN LATERAL unnest(a.stock_codes) AS linked(stock)
        LEFT JOIN ({UNIVERSE}) u ON u.code = linked.stock
        WHERE a.published_at > latest.at - interval '30 days'
        GROUP BY linked.stock, u.name ORDER BY n DESC, linked.stock LIMIT 10"""))).all())


async def impact(conn: AsyncConnection) -> list[HorizonImpact]:
    return rows_as(HorizonImpact, (await conn.execute(text("""
        SELECT h, count(x) AS matured, avg(x) * 100 AS mean_pct
        FROM marts.news_price_impact,
             LATERAL (VALUES ('1d', excess_1d), ('5d', excess_5d), ('20d', excess_20d)) AS v(h, x)
        WHERE salient GROUP BY h ORDER BY min(CASE h WHEN '1d' THEN 1 WHEN '5d' THEN 5 ELSE 20 END)"""))).all())
