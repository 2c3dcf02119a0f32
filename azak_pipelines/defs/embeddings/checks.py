"""Does Milvus hold what PostgreSQL says it should? Per KST day, articles vs entities."""

from datetime import date

import dagster as dg
from psycopg import sql

from azak_core.vectors import VectorStoreError
from azak_pipelines.defs.embeddings.assets import NEWS_EMBEDDINGS
from azak_pipelines.defs.embeddings.resources import EmbedderResource, VectorStore
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.quarantine import QUARANTINE
from azak_pipelines.lib.warehouse import table_exists

EXPECTED_SQL = sql.SQL("""
SELECT a.published_day, count(*) FROM {articles} a
WHERE NOT EXISTS (SELECT 1 FROM {quarantine} q
                  WHERE q.asset = %s AND q.locator = 'news_id=' || a.news_id)
GROUP BY 1
""")


def expected_per_day(warehouse: Warehouse) -> dict[date, int]:
    """Articles per day in PostgreSQL, less those quarantined as having nothing to embed."""
    with warehouse.connect() as conn:
        if not table_exists(conn, NEWS_ARTICLES):
            return {}
        if not table_exists(conn, QUARANTINE):
            query = sql.SQL("SELECT published_day, count(*) FROM {} GROUP BY 1").format(NEWS_ARTICLES.ident)
            return dict(conn.execute(query).fetchall())
        query = EXPECTED_SQL.format(articles=NEWS_ARTICLES.ident, quarantine=QUARANTINE.ident)
        return dict(conn.execute(query, (NEWS_EMBEDDINGS.to_user_string(),)).fetchall())


def _spans(days: list[date]) -> str:
    shown = ", ".join(str(d) for d in days[:10])
    return shown + (f" and {len(days) - 10} more" if len(days) > 10 else "")


@dg.asset_check(asset=NEWS_EMBEDDINGS, blocking=False)
def embeddings_match_articles(warehouse: Warehouse, embedder: EmbedderResource,
                              vector_store: VectorStore) -> dg.AssetCheckResult:
    """Every KST day has as many entities in the embedder's Milvus collection as it has embeddable
    articles in PostgreSQL. A wiped or stale Milvus fails here, naming the days to re-materialize."""
    model = embedder.embedder()
    store = vector_store.collection(model)
    expected = expected_per_day(warehouse)
    try:
        stored = store.count_by_day() if store.exists() else None
    except VectorStoreError as error:
        return dg.AssetCheckResult(passed=False, description=str(error), metadata={"collection": store.name})
    finally:
        store.close()
    if stored is None:
        days = sorted(expected)
        return dg.AssetCheckResult(
            passed=not days, metadata={"collection": store.name, "days_missing": len(days)},
            description=f"collection {store.name} does not exist (new embedder or schema, or Milvus was wiped): "
                        f"re-materialize milvus/news_embeddings for {_spans(days)}" if days else "nothing to embed")
    short = sorted(d for d, n in expected.items() if stored.get(d, 0) < n)
    extra = sorted(d for d, n in stored.items() if n > expected.get(d, 0))
    missing = sum(expected[d] - stored.get(d, 0) for d in short)
    problems = []
    if short:
        problems.append(f"{missing} articles missing from Milvus on {_spans(short)}")
    if extra:
        problems.append(f"Milvus holds articles PostgreSQL no longer has on {_spans(extra)}")
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) + " — re-materialize milvus/news_embeddings for those days"
        if problems else f"{sum(stored.values())} entities over {len(stored)} days match PostgreSQL",
        metadata={"collection": store.name, "days_checked": len(set(expected) | set(stored)),
                  "articles_missing": missing, "days_short": [str(d) for d in short[:50]],
                  "days_with_extra": [str(d) for d in extra[:50]]},
    )
