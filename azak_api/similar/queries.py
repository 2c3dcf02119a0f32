"""SQL over ``marts.news_articles`` and ``marts.news_price_impact`` for the neighbours Milvus found."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_core.market import RETURN_HORIZONS


async def article(conn: AsyncConnection, news_id: int) -> Any:
    return (await conn.execute(text(
        "SELECT news_id, published_day, published_at, cluster_id FROM marts.news_articles WHERE news_id = :id"),
        {"id": news_id})).first()


async def articles(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = (await conn.execute(text(
        "SELECT news_id, title, source, press, url, published_at, stock_codes FROM marts.news_articles "
        "WHERE news_id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)})).all()
    return {row.news_id: row for row in rows}


async def outcomes(conn: AsyncConnection, ids: Sequence[int], stock: str | None) -> dict[int, list[Any]]:
    """Each neighbour's price impact: for ``stock`` only, or for every company it is linked to."""
    if not ids:
        return {}
    columns = ", ".join(f"return_{h}d" for h in RETURN_HORIZONS)
    query = (f"SELECT news_id, stock_code, {columns} FROM marts.news_price_impact WHERE news_id IN :ids"
             + (" AND stock_code = :stock" if stock else "") + " ORDER BY salient DESC, score DESC")
    params: dict[str, Any] = {"ids": list(ids)}
    if stock:
        params["stock"] = stock
    found: dict[int, list[Any]] = {}
    for row in (await conn.execute(text(query).bindparams(bindparam("ids", expanding=True)), params)).all():
        found.setdefault(row.news_id, []).append(row)
    return found
