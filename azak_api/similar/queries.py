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


async def neighbours(conn: AsyncConnection, ids: Sequence[int],
                     stock: str | None) -> dict[int, tuple[Any, list[Any]]]:
    """Each article found, with its price impact (for ``stock`` only, or for every company it is
    linked to; most salient first), in one query: one row per article and impact."""
    if not ids:
        return {}
    returns = ", ".join(f"i.return_{h}d" for h in RETURN_HORIZONS)
    query = ("SELECT a.news_id, a.title, a.source, a.press, a.url, a.published_at, a.stock_codes, "
             f"i.stock_code, {returns} FROM marts.news_articles a LEFT JOIN marts.news_price_impact i "
             "ON i.news_id = a.news_id" + (" AND i.stock_code = :stock" if stock else "")
             + " WHERE a.news_id IN :ids ORDER BY a.news_id, i.salient DESC, i.score DESC")
    params: dict[str, Any] = {"ids": list(ids), **({"stock": stock} if stock else {})}
    found: dict[int, tuple[Any, list[Any]]] = {}
    for row in (await conn.execute(text(query).bindparams(bindparam("ids", expanding=True)), params)).all():
        impacts = found.setdefault(row.news_id, (row, []))[1]
        if row.stock_code is not None:
            impacts.append(row)
    return found
