"""SQL over ``marts.news_articles``, ``computed.news_vectors`` and ``marts.news_price_impact`` for
similar news."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.json_sql import document, json_array, json_float, json_object, json_time
from azak_core.market import RETURN_HORIZONS
from azak_core.vectors import Hit

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


def _neighbours(stock: str | None) -> str:
    """SQL for the ``schemas.Neighbour`` list of the hits ``:ids`` / ``:similarities`` (in their
    order), each with its price impact (for ``stock`` only, or for every company it is linked to;
    most salient first); an id no longer in the warehouse is left out (the next run removes it)."""
    outcome = {"code": "i.stock_code", "returns": json_object(
        {f"{h}d": json_float(f"i.return_{h}d") for h in RETURN_HORIZONS})}
    linked = "i.news_id = a.news_id" + (" AND i.stock_code = CAST(:stock AS text)" if stock else "")
    outcomes = json_array(outcome, "marts.news_price_impact i", linked, "i.salient DESC, i.score DESC")
    neighbour = {
        "id": "a.news_id::text", "similarity": "h.similarity", "title": "a.title", "source": "a.source",
        "press": "a.press", "url": "a.url", "published_at": json_time("a.published_at"),
        "stock_codes": "a.stock_codes", "outcomes": outcomes}
    return json_array(neighbour, "unnest(CAST(:ids AS bigint[]), CAST(:similarities AS float8[])) "
                      "WITH ORDINALITY AS h(news_id, similarity, rank) JOIN marts.news_articles a "
                      "ON a.news_id = h.news_id", "TRUE", "h.rank")


def _hits(hits: Sequence[Hit], stock: str | None) -> dict[str, Any]:
    return {"ids": [hit.news_id for hit in hits], "similarities": [round(hit.similarity, 4) for hit in hits],
            **({"stock": stock} if stock else {})}


async def similar_news(conn: AsyncConnection, news_id: str, embedder: str, k: int, threshold: float,
                       hits: Sequence[Hit], stock: str | None) -> bytes:
    """The whole ``schemas.SimilarNews`` answer as JSON, written by PostgreSQL (azak_api/json_sql.py)."""
    answer = json_object({"id": "CAST(:news_id AS text)", "embedder": "CAST(:embedder AS text)",
                          "k": "CAST(:k AS integer)", "min_similarity": "CAST(:threshold AS float8)",
                          "items": _neighbours(stock)})
    return await document(conn, f"SELECT {answer}::text", {
        "news_id": news_id, "embedder": embedder, "k": k, "threshold": threshold, **_hits(hits, stock)})


async def neighbours(conn: AsyncConnection, hits: Sequence[Hit], stock: str | None) -> bytes:
    """The ``schemas.Neighbour`` list of ``hits`` as a JSON array, written by PostgreSQL (the search
    answer's envelope, with the caller's query text, stays in Python)."""
    return await document(conn, f"SELECT {_neighbours(stock)}::text", _hits(hits, stock))
