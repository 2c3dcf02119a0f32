"""Does Milvus hold what PostgreSQL says it should? Per KST day, articles vs entities."""

from datetime import date

import dagster as dg
from psycopg import sql

from azak_core.vectors import VectorStoreError
from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.embeddings.assets import NEWS_EMBEDDINGS
from azak_pipelines.defs.embeddings.resources import EmbedderResource, VectorStore
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import DATA_VERSION_TAG
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


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, day: date,
            before: int | None = None) -> tuple[int, str | None] | None:
    """The storage id and data version of ``key``'s latest materialization of ``day`` (before the
    storage id ``before``, if given); None for none."""
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(key, asset_partitions=[str(day)], before_storage_id=before), limit=1).records
    if not found:
        return None
    materialization = found[0].asset_materialization
    return found[0].storage_id, (materialization.tags or {}).get(DATA_VERSION_TAG) if materialization else None


def pending(instance: dg.DagsterInstance, days: list[date]) -> list[date]:
    """The ``days`` whose articles changed since their embeddings were last written: the articles'
    latest data version differs from the one they had then, or the day was never embedded. The
    automation asks for the embeddings of exactly those days, so a shortfall there is not Milvus's
    fault. A poll that re-materializes the same articles (the same version) leaves the day due-free,
    so a shortfall on it fails."""
    articles = asset_key(NEWS_ARTICLES)
    due = []
    for day in days:
        latest = _latest(instance, articles, day)
        if latest is None:
            continue  # rows no run of this instance wrote: nothing says they are due
        embedded = _latest(instance, NEWS_EMBEDDINGS, day)
        if embedded is None:
            due.append(day)
            continue
        then = _latest(instance, articles, day, before=embedded[0])
        changed = then is None or latest[1] is None or then[1] != latest[1]
        if changed and latest[0] > embedded[0]:
            due.append(day)
    return due


@dg.asset_check(asset=NEWS_EMBEDDINGS, blocking=False)
def embeddings_match_articles(context: dg.AssetCheckExecutionContext, warehouse: Warehouse,
                              embedder: EmbedderResource, vector_store: VectorStore) -> dg.AssetCheckResult:
    """Every KST day has as many entities in the embedder's Milvus collection as it has embeddable
    articles in PostgreSQL. A wiped or stale Milvus fails here, naming the days to re-materialize.
    A day whose articles were written after its last embeddings run is *pending*, not short: the
    check may run (in another day's embeddings run) between a news run and that day's own
    embeddings run, and says so instead of failing."""
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
    differing = sorted(d for d in set(expected) | set(stored) if stored.get(d, 0) != expected.get(d, 0))
    waiting = set(pending(context.instance, differing))
    short = [d for d in differing if d not in waiting and stored.get(d, 0) < expected.get(d, 0)]
    extra = [d for d in differing if d not in waiting and stored.get(d, 0) > expected.get(d, 0)]
    missing = sum(expected[d] - stored.get(d, 0) for d in short)
    problems = []
    if short:
        problems.append(f"{missing} articles missing from Milvus on {_spans(short)}")
    if extra:
        problems.append(f"Milvus holds articles PostgreSQL no longer has on {_spans(extra)}")
    waits = f"; {len(waiting)} day(s) await their embeddings run ({_spans(sorted(waiting))})" if waiting else ""
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) + " — re-materialize milvus/news_embeddings for those days" + waits
        if problems else f"{sum(stored.values())} entities over {len(stored)} days match PostgreSQL" + waits,
        metadata={"collection": store.name, "days_checked": len(set(expected) | set(stored)),
                  "articles_missing": missing, "days_short": [str(d) for d in short[:50]],
                  "days_pending": [str(d) for d in sorted(waiting)[:50]],
                  "days_with_extra": [str(d) for d in extra[:50]]},
    )
