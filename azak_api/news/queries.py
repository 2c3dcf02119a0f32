"""SQL over ``marts.news_articles``, ``marts.news_stock_matches`` and ``marts.news_price_impact``."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import paged

ARTICLE = ("news_id, title, left(summary, 300) AS summary, url, press, source, sources, content_type, "
           "published_at, published_precision, stock_codes, cluster_id, cluster_size, is_canonical")
HORIZONS = (1, 2, 3, 5, 10, 20)


async def page(conn: AsyncConnection, *, stock: str | None, mentioned: bool, source: str | None,
               q: str | None, start: datetime | None, end: datetime | None, ascending: bool,
               offset: int, limit: int) -> tuple[Sequence[Any], int]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if stock:
        column = "mentioned_codes" if mentioned else "stock_codes"
        conditions.append(f":stock = ANY({column})")
        params["stock"] = stock
    if source:
        conditions.append(":source = ANY(sources)")
        params["source"] = source
    if q:
        conditions.append("(title ILIKE :q OR summary ILIKE :q)")
        params["q"] = f"%{q}%"
    if start:
        conditions.append("published_at >= :start")
        params["start"] = start
    if end:
        conditions.append("published_at < :end")
        params["end"] = end
    order = "ASC" if ascending else "DESC"
    return await paged(conn, ARTICLE, "marts.news_articles", " AND ".join(conditions),
                       f"published_at {order}, news_id {order}", params, offset, limit)


async def one(conn: AsyncConnection, news_id: int) -> Any:
    return (await conn.execute(text(f"SELECT {ARTICLE} FROM marts.news_articles WHERE news_id = :id"),
                               {"id": news_id})).first()


async def links(conn: AsyncConnection, news_id: int) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT stock_code, stock_name, score, salient, surfaces, evidence FROM marts.news_stock_matches "
        "WHERE news_id = :id ORDER BY salient DESC, score DESC"), {"id": news_id})).all()


async def impact(conn: AsyncConnection, news_id: int) -> Sequence[Any]:
    columns = ", ".join(f"return_{h}d, excess_{h}d" for h in HORIZONS)
    return (await conn.execute(text(
        f"SELECT stock_code, anchor_date, base_close, {columns} FROM marts.news_price_impact "
        "WHERE news_id = :id ORDER BY salient DESC, score DESC"), {"id": news_id})).all()


async def story(conn: AsyncConnection, cluster_id: int, news_id: int) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT news_id, title, source, published_at FROM marts.news_articles "
        "WHERE cluster_id = :c AND news_id <> :id ORDER BY published_at LIMIT 50"),
        {"c": cluster_id, "id": news_id})).all()
