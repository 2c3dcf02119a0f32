"""SQL over ``marts.news_articles``, ``computed.news_vectors`` and ``marts.news_price_impact`` for
similar news."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.json_sql import document, json_array, json_float, json_object, json_time
from azak_core.market import RETURN_HORIZONS
from azak_core.vectors import Hit

# databases where a table the pipelines create (and never drop) was seen: only a warehouse whose
# embeddings never ran since the table came asks PostgreSQL each time
_SEEN: set[tuple[str, str]] = set()
ARTICLE = ("SELECT q.news_id, q.published_day, q.published_at, q.cluster_id, "
           "CASE WHEN s.stored IS NULL THEN {vector} END AS vector, s.stored "
           "FROM marts.news_articles q LEFT JOIN LATERAL (SELECT {stored} AS stored) s ON TRUE WHERE q.news_id = :id")
KEPT_VECTORS = ("FROM computed.news_vectors v WHERE v.news_id = q.news_id AND v.published_day = q.published_day "
                "AND v.embedder = :embedder")
STORED_VECTOR = f"(SELECT v.vector {KEPT_VECTORS})"
# the day's stored neighbours are a live search's while no vectors of that day or earlier were
# written to Milvus after they were searched (azak_pipelines/defs/embeddings/tables.py)
CURRENT = """EXISTS (SELECT 1 FROM computed.similar_news_days d
    WHERE d.embedder = :embedder AND d.published_day = q.published_day AND d.neighbours_searched_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM computed.similar_news_days w WHERE w.embedder = :embedder
                      AND w.vectors_written_at >= d.neighbours_searched_at AND w.published_day <= q.published_day))"""
STORED_HITS = ("(SELECT s.neighbor_id AS news_id, round(s.similarity::numeric, 4)::float8 AS similarity, s.rank "
               "FROM computed.similar_news s WHERE s.news_id = q.news_id AND s.published_day = q.published_day "
               "AND s.embedder = :embedder AND s.rank <= :k) AS h")
LIVE_HITS = ("unnest(CAST(:ids AS bigint[]), CAST(:similarities AS float8[])) "
             "WITH ORDINALITY AS h(news_id, similarity, rank)")


async def _exists(conn: AsyncConnection, table: str) -> bool:
    key = (str(conn.engine.url), table)
    if key not in _SEEN and (await conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})).scalar():
        _SEEN.add(key)
    return key in _SEEN


async def article(conn: AsyncConnection, news_id: int, embedder: str, stored_k: int | None = None,
                  threshold: float | None = None) -> Any:
    """The article, with the vector ``embedder`` made of it when the pipelines stored one
    (``vector``, else None); its day pins the vector's partition. With ``stored_k``, also the whole
    ``schemas.SimilarNews`` answer from its stored neighbours (``stored``: JSON, the top
    ``stored_k`` of computed.similar_news) when they equal what a search would find now (the
    article embedded, its day's neighbours searched after every write of its day and earlier);
    else ``stored`` is None and the caller searches."""
    vector = STORED_VECTOR if await _exists(conn, "computed.news_vectors") else "NULL::bytea"
    stored = "NULL::text"
    if stored_k is not None and vector != "NULL::bytea" and await _exists(conn, "computed.similar_news_days"):
        stored = f"(SELECT {_answer(None, STORED_HITS)}::text WHERE EXISTS (SELECT 1 {KEPT_VECTORS}) AND {CURRENT})"
    params = {"id": news_id, "news_id": str(news_id), "embedder": embedder, "k": stored_k, "threshold": threshold}
    return (await conn.execute(text(ARTICLE.format(vector=vector, stored=stored)), params)).first()


def _neighbours(stock: str | None, hits: str = LIVE_HITS) -> str:
    """SQL for the ``schemas.Neighbour`` list of the ``hits`` (``h``: news_id, similarity, rank; by
    default ``:ids`` / ``:similarities`` in their order), each with its price impact (for ``stock``
    only, or for every company it is linked to; most salient first); an id no longer in the
    warehouse is left out (the next run removes it)."""
    outcome = {"code": "i.stock_code", "returns": json_object(
        {f"{h}d": json_float(f"i.return_{h}d") for h in RETURN_HORIZONS})}
    linked = "i.news_id = a.news_id" + (" AND i.stock_code = CAST(:stock AS text)" if stock else "")
    outcomes = json_array(outcome, "marts.news_price_impact i", linked, "i.salient DESC, i.score DESC")
    neighbour = {
        "id": "a.news_id::text", "similarity": "h.similarity", "title": "a.title", "source": "a.source",
        "press": "a.press", "url": "a.url", "published_at": json_time("a.published_at"),
        "stock_codes": "a.stock_codes", "outcomes": outcomes}
    return json_array(neighbour, f"{hits} JOIN marts.news_articles a ON a.news_id = h.news_id", "TRUE", "h.rank")


def _answer(stock: str | None, hits: str = LIVE_HITS) -> str:
    """SQL for the whole ``schemas.SimilarNews`` answer of ``hits``."""
    return json_object({"id": "CAST(:news_id AS text)", "embedder": "CAST(:embedder AS text)",
                        "k": "CAST(:k AS integer)", "min_similarity": "CAST(:threshold AS float8)",
                        "items": _neighbours(stock, hits)})


def _hits(hits: Sequence[Hit], stock: str | None) -> dict[str, Any]:
    return {"ids": [hit.news_id for hit in hits], "similarities": [round(hit.similarity, 4) for hit in hits],
            **({"stock": stock} if stock else {})}


async def similar_news(conn: AsyncConnection, news_id: str, embedder: str, k: int, threshold: float,
                       hits: Sequence[Hit], stock: str | None) -> bytes:
    """The whole ``schemas.SimilarNews`` answer as JSON, written by PostgreSQL (azak_api/json_sql.py)."""
    return await document(conn, f"SELECT {_answer(stock)}::text", {
        "news_id": news_id, "embedder": embedder, "k": k, "threshold": threshold, **_hits(hits, stock)})


async def neighbours(conn: AsyncConnection, hits: Sequence[Hit], stock: str | None) -> bytes:
    """The ``schemas.Neighbour`` list of ``hits`` as a JSON array, written by PostgreSQL (the search
    answer's envelope, with the caller's query text, stays in Python)."""
    return await document(conn, f"SELECT {_neighbours(stock)}::text", _hits(hits, stock))
