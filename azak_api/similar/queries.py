"""SQL over ``marts.news_articles``, ``computed.news_vectors`` and ``marts.news_price_impact`` for
similar news."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_core.market import RETURN_HORIZONS

# databases where computed.news_vectors was seen (the pipelines create it and never drop it): only a
# warehouse whose embeddings never ran since the table came asks PostgreSQL each time
_WITH_VECTORS: set[str] = set()
ARTICLE = ("SELECT a.news_id, a.published_day, a.published_at, a.cluster_id, {vector} AS vector "
           "FROM marts.news_articles a WHERE a.news_id = :id")
STORED_VECTOR = ("(SELECT v.vector FROM computed.news_vectors v WHERE v.news_id = a.news_id "
                 "AND v.published_day = a.published_day AND v.embedder = :embedder)")


async def article(conn: AsyncConnection, news_id: int, embedder: str) -> Any:
    """The article, with the vector ``embedder`` made of it when the pipelines stored one
    (``vector``, else None); its day pins the vector's partition."""
    database = str(conn.engine.url)
    if database not in _WITH_VECTORS and (await conn.execute(
            text("SELECT to_regclass('computed.news_vectors') IS NOT NULL"))).scalar():
        _WITH_VECTORS.add(database)
    vector = STORED_VECTOR if database in _WITH_VECTORS else "NULL::bytea"
    return (await conn.execute(text(ARTICLE.format(vector=vector)), {"id": news_id, "embedder": embedder})).first()


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
