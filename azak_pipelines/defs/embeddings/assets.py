"""``news_embeddings`` (Milvus) and ``similar_news`` (each article's earlier neighbours)."""

import time
from collections import defaultdict
from typing import Any

import dagster as dg
from psycopg import sql

from azak_core.embeddings import Embedder, EmbeddingError, prepare_text
from azak_core.vectors import (
    NEIGHBOURS,
    ArticleVector,
    NewsVectors,
    UnknownCollection,
    VectorStoreError,
    is_earlier_neighbour,
    min_similarity,
    packed,
    schema_code_version,
)
from azak_pipelines.defs.automation import EVERY_UPDATED_DAY
from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.common import AssetResult, Window, asset_key, preview, window_of
from azak_pipelines.defs.embeddings.resources import EmbedderResource, VectorStore
from azak_pipelines.defs.embeddings.tables import NEWS_VECTORS, SIMILAR_NEWS, SIMILAR_NEWS_DAYS
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.quarantine import Rejected, reasons_summary, record_quarantine
from azak_pipelines.lib.warehouse import ensure_table, replace_slice, scalar, table_exists

NEWS_EMBEDDINGS = dg.AssetKey(["milvus", "news_embeddings"])
# one timestamp per (embedder, day) of SIMILAR_NEWS_DAYS: the column named, then the days
STAMP_DAYS = sql.SQL("""
INSERT INTO {days} (embedder, published_day, {column})
SELECT %(embedder)s, day, coalesce(%(at)s, clock_timestamp()) FROM unnest(%(days)s::date[]) AS day
ON CONFLICT (embedder, published_day) DO UPDATE SET {column} = excluded.{column}
""")

ARTICLES_SQL = sql.SQL("""
SELECT a.news_id, a.published_day, a.published_at, a.title, a.summary, a.source, a.content_type, a.cluster_id,
       coalesce((SELECT array_agg(m.stock_code ORDER BY m.salient DESC, m.score DESC, m.stock_code)
                 FROM {matches} m WHERE m.news_id = a.news_id AND m.published_day = a.published_day), '{{}}'),
       a.cluster_size
FROM {articles} a WHERE a.published_day >= %s AND a.published_day < %s ORDER BY a.published_at, a.news_id
""")


def _articles(warehouse: Warehouse, window: Window) -> list[tuple[Any, ...]]:
    with warehouse.connect() as conn:
        if not table_exists(conn, NEWS_ARTICLES):
            raise dg.Failure(f"{NEWS_ARTICLES.key} does not exist yet: materialize the news assets first")
        if not table_exists(conn, NEWS_STOCK_MATCHES):
            raise dg.Failure(f"{NEWS_STOCK_MATCHES.key} does not exist yet: materialize the links first")
        query = ARTICLES_SQL.format(articles=NEWS_ARTICLES.ident, matches=NEWS_STOCK_MATCHES.ident)
        return conn.execute(query, (window.start, window.end)).fetchall()


def _failure(error: VectorStoreError) -> dg.Failure:
    if isinstance(error, UnknownCollection):
        return dg.Failure(str(error))
    return dg.Failure(f"{error} — is Milvus running? `azak milvus start` starts the embedded one; "
                      "AZAK_MILVUS_URI names an external one")


def embedding_assets(embedder_key: str) -> list[dg.AssetsDefinition]:
    """The two assets, with the embedder's ``name@version`` (and, for the vectors, the collection's
    schema version) as their code version: when either changes Dagit marks every partition stale,
    and the new vectors go to a new collection."""

    @dg.asset(key=NEWS_EMBEDDINGS, group_name="embeddings", kinds={"milvus", "postgres"},
              partitions_def=news_days, backfill_policy=dg.BackfillPolicy.single_run(),
              code_version=schema_code_version(embedder_key),
              deps=[asset_key(NEWS_ARTICLES), asset_key(NEWS_STOCK_MATCHES)],
              automation_condition=EVERY_UPDATED_DAY)
    def news_embeddings(context: dg.AssetExecutionContext, warehouse: Warehouse, embedder: EmbedderResource,
                        vector_store: VectorStore) -> AssetResult:
        """Embeds each article of the window (title + summary) and makes the embedder's Milvus
        collection hold exactly those articles for these days (upsert, then delete what is gone), with
        publication day and time, linked stocks, source, content type and story cluster for filtering.
        Articles with nothing to embed (empty, emoji-only) are quarantined with the reason. One
        collection per embedder: vectors of two embedders never mix. The embedder's collection of an
        older schema (``azak_core.vectors.SCHEMA_VERSION``) is dropped: nothing reads it any more.
        The same vectors go to ``computed.news_vectors`` (after Milvus, replaced per day), where the
        API reads an article's vector with the article instead of asking Milvus for it."""
        model = embedder.embedder()
        if model.key != embedder_key:
            raise dg.Failure(f"the run's embedder is {model.key} but the definitions were loaded for {embedder_key}; "
                             "reload the code location after changing AZAK_EMBEDDER")
        return embed_window(window_of(context), warehouse, model, vector_store)

    @dg.asset(key=asset_key(SIMILAR_NEWS), group_name="embeddings", kinds={"milvus", "postgres"},
              partitions_def=news_days, backfill_policy=dg.BackfillPolicy.single_run(), code_version=embedder_key,
              deps=[NEWS_EMBEDDINGS], automation_condition=EVERY_UPDATED_DAY)
    def similar_news(context: dg.AssetExecutionContext, warehouse: Warehouse, embedder: EmbedderResource,
                     vector_store: VectorStore) -> AssetResult:
        """For each article of the window, its ``NEIGHBOURS`` most similar articles published strictly
        before it (point in time: nothing from its future), itself and copies of its story (same
        cluster) excluded, above the embedder's ``MIN_SIMILARITY`` (``azak_core/vectors.py``: the
        thresholds live there and nowhere else). Similarity is the cosine of the unit vectors."""
        return similar_in_window(window_of(context), warehouse, embedder.embedder(), vector_store)

    return [news_embeddings, similar_news]


def _texts(rows: list[tuple[Any, ...]]) -> tuple[list[str], list[tuple[Any, ...]], list[Rejected]]:
    """What to embed of each article (title + summary), the articles kept, those with nothing to embed."""
    texts, kept, rejected = [], [], []
    for row in rows:
        try:
            texts.append(prepare_text(row[3], row[4]))
            kept.append(row)
        except EmbeddingError as error:
            rejected.append(Rejected(f"news_id={row[0]}", str(error), {"title": row[3], "summary": row[4]}))
    return texts, kept, rejected


def embed_window(window: Window, warehouse: Warehouse, model: Embedder, vector_store: VectorStore) -> AssetResult:
    """``news_embeddings`` for one window: embed, replace the days in the collection, quarantine."""
    texts, kept, rejected = _texts(_articles(warehouse, window))
    started = time.monotonic()
    try:
        embedding = model.embed(texts)
    except EmbeddingError as error:
        raise dg.Failure(f"{model.key}: {error}") from error
    seconds = time.monotonic() - started
    articles = [ArticleVector(r[0], r[1], r[2], r[8], r[5], r[6], r[7], vector)
                for r, vector in zip(kept, embedding.vectors, strict=True)]
    with warehouse.connect() as conn:  # before Milvus changes too: a write that fails half-way stays marked
        stamp_days(conn, "vectors_written_at", model.key, window.days())
    store = vector_store.collection(model)
    try:
        removed = store.replace_days(window.days(), articles)
        dropped = store.drop_superseded()
    except VectorStoreError as error:
        raise _failure(error) from error
    finally:
        store.close()
    with warehouse.connect() as conn:
        stamp_days(conn, "vectors_written_at", model.key, window.days())  # after Milvus's write
        kept_vectors = replace_slice(conn, NEWS_VECTORS, [(a.news_id, a.published_day, model.key, packed(a.vector))
                                                          for a in articles], window.start, window.end)
        record_quarantine(conn, NEWS_EMBEDDINGS.to_user_string(), window.start, window.end, rejected, utc_now())
    return dg.MaterializeResult(metadata={
        "window": str(window), "count": len(articles), "dagster/row_count": len(articles),
        "embedder": model.key, "dimension": model.dimension, "collection": store.name,
        "seconds": round(seconds, 3), "tokens": embedding.tokens,
        "docs_per_second": round(len(articles) / seconds, 1) if seconds else 0.0,
        "removed": removed, "postgres_vectors": kept_vectors.written,
        "dropped_collections": ", ".join(dropped) or "none", "quarantined": len(rejected),
        "quarantine": dg.MetadataValue.md(reasons_summary(rejected)),
    })


def similar_in_window(window: Window, warehouse: Warehouse, model: Embedder,
                      vector_store: VectorStore) -> AssetResult:
    """``similar_news`` for one window: each article's earlier neighbours, replacing the window's rows."""
    threshold = min_similarity(model.name)
    articles = _articles(warehouse, window)
    with warehouse.connect() as conn:
        searched_at = scalar(conn, "SELECT clock_timestamp()")  # before the searches
    store = vector_store.collection(model)
    try:
        rows, missing = _neighbours(store, articles, model.key, threshold)
    except VectorStoreError as error:
        raise _failure(error) from error
    finally:
        store.close()
    if missing:
        raise dg.Failure(f"{len(missing)} articles of {window} have no vector in {store.name} (e.g. news_id "
                         f"{missing[0]}): materialize milvus/news_embeddings for these days first")
    with warehouse.connect() as conn:
        result = replace_slice(conn, SIMILAR_NEWS, rows, window.start, window.end)
        stamp_days(conn, "neighbours_searched_at", model.key, window.days(), searched_at)
    with_neighbours = len({r[0] for r in rows})
    return dg.MaterializeResult(metadata={
        "window": str(window), **result.metadata(), "dagster/row_count": result.written,
        "embedder": model.key, "k": NEIGHBOURS, "min_similarity": threshold,
        "articles_with_neighbours": with_neighbours,
        "mean_similarity": round(sum(r[4] for r in rows) / len(rows), 3) if rows else 0.0,
        "preview": preview([r[:5] for r in rows], ["news_id", "day", "neighbor", "rank", "similarity"], limit=10),
    })


def stamp_days(conn: Any, column: str, embedder_key: str, days: list[Any], at: Any = None) -> None:
    """Record in ``computed.similar_news_days`` when ``days``' vectors were written or their
    neighbours searched (``at``, else now): the API serves a day's stored neighbours only while no
    vectors of that day or earlier were written after their search, so they equal a live search."""
    ensure_table(conn, SIMILAR_NEWS_DAYS)
    conn.execute(STAMP_DAYS.format(days=SIMILAR_NEWS_DAYS.ident, column=sql.Identifier(column)),
                 {"embedder": embedder_key, "at": at, "days": list(days)})


def _neighbours(store: NewsVectors, articles: list[tuple[Any, ...]], embedder_key: str,
                threshold: float) -> tuple[list[tuple[Any, ...]], list[int]]:
    """Each article's point-in-time neighbours, one Milvus search per KST day.

    A day's articles share a search filtered to everything published before the day's last
    article; each then keeps the hits published before itself, not itself and not its story. The
    shared search asks for ``NEIGHBOURS`` plus every hit the per-article rule can drop (the day's
    articles and the largest story's copies, wherever published), so the result equals a search
    per article."""
    stored = store.vectors([a[0] for a in articles]) if articles else {}
    missing = [a[0] for a in articles if a[0] not in stored]
    by_day: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for article in articles:
        if article[0] in stored:
            by_day[article[1]].append(article)
    rows: list[tuple[Any, ...]] = []
    for day_articles in by_day.values():
        latest = max(a[2] for a in day_articles)
        limit = NEIGHBOURS + len(day_articles) + max(a[9] for a in day_articles)
        hits = store.search_many([stored[a[0]]["vector"] for a in day_articles], limit,
                                 f"published_at <= {int(latest.timestamp())}", threshold)
        for (news_id, day, published_at, *_, cluster_id, _codes, _size), found in zip(day_articles, hits,
                                                                                     strict=True):
            kept = [h for h in found if is_earlier_neighbour(h, published_at, news_id, cluster_id)][:NEIGHBOURS]
            rows.extend((news_id, day, hit.news_id, rank, hit.similarity, embedder_key)
                        for rank, hit in enumerate(kept, start=1))
    return rows, missing
