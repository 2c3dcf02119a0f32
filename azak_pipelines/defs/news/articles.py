"""``news_articles``: every source's items, normalised, deduplicated and clustered into stories."""

from datetime import timedelta
from typing import Any

import dagster as dg
from psycopg import sql

from azak_pipelines.defs.common import AssetResult, asset_key, preview, window_of
from azak_pipelines.defs.news import tables
from azak_pipelines.defs.news.assets import NEWS
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import slice_version
from azak_pipelines.lib import plots
from azak_pipelines.lib.news.articles import RawItem, build_articles
from azak_pipelines.lib.warehouse import ensure_table, replace_slice

COLUMNS = ("item_key", "published_at", "published_precision", "title", "summary", "url", "press",
           "source", "content_type", "stock_code_hint", "first_seen_at")


@dg.asset(key=asset_key(tables.NEWS_ARTICLES), deps=[asset_key(spec) for spec in tables.RAW_NEWS], **NEWS)
def news_articles(context: dg.AssetExecutionContext, warehouse: Warehouse) -> AssetResult:
    """One row per article (canonical URL) published in the window, across every source: the
    earliest copy represents it, ``sources`` lists every source that carried it. Near-duplicate
    headlines (MinHash candidates confirmed by bigram Jaccard ≥ 0.6 within 48 h, figures agreeing)
    share a ``cluster_id``; every item is kept and the earliest is marked canonical. The day before
    the window is read too, so a story that started yesterday keeps its cluster."""
    window = window_of(context)
    read_from = window.start - timedelta(days=1)
    with warehouse.connect() as conn:
        for spec in tables.RAW_NEWS:
            ensure_table(conn, spec)
        union = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {} FROM {} WHERE published_day >= %(start)s AND published_day < %(end)s")
            .format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), spec.ident)
            for spec in tables.RAW_NEWS)
        rows = conn.execute(union, {"start": read_from, "end": window.end}).fetchall()
        articles = [a for a in build_articles(RawItem(*row) for row in rows)
                    if window.start <= a.published_day < window.end]
        result = replace_slice(conn, tables.NEWS_ARTICLES, [
            (a.news_id, a.published_day, a.published_at, a.published_precision, a.title, a.summary,
             a.url, a.press, a.source, a.sources, a.content_type, a.stock_code_hints, a.cluster_id,
             a.is_canonical, a.cluster_size, a.first_seen_at) for a in articles],
            window.start, window.end)
        version = slice_version(conn, tables.NEWS_ARTICLES, window.start, window.end)
    by_source: dict[str, int] = {}
    carried: dict[str, int] = {}
    for article in articles:
        by_source[article.source] = by_source.get(article.source, 0) + 1
        for source in article.sources:
            carried[source] = carried.get(source, 0) + 1
    clustered = [a for a in articles if a.cluster_size > 1]
    stories = {a.cluster_id for a in articles}
    largest = sorted((a for a in clustered if a.is_canonical), key=lambda a: -a.cluster_size)[:5]
    meta: dict[str, Any] = {
        "window": str(window), **result.metadata(), "dagster/row_count": result.written,
        "raw_items_read": len(rows), "stories": len(stories),
        "items_in_multi_item_stories": len(clustered), "by_source": by_source,
        "largest_stories": preview([(a.cluster_size, a.published_at.date(), a.title) for a in largest],
                                   ["items", "day", "canonical title"]),
    }
    if carried:
        meta["coverage"] = dg.MetadataValue.md(plots.markdown_image("coverage per source", plots.bars(
            carried, f"Articles each source carried, {window}", "articles")))
    return dg.MaterializeResult(metadata=meta, data_version=version)
