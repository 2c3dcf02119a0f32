"""SQL over ``marts.news_articles``, ``marts.news_stock_matches`` and ``marts.news_price_impact``."""

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, capped_total, escape_like, row_as, rows_as, table_exists
from azak_api.json_sql import document_row, json_array, json_time
from azak_api.news.cursor import Position
from azak_core.market import PRICE_IMPACT_HORIZONS

ARTICLE = ("news_id, title, left(summary, 300) AS summary, url, press, source, sources, content_type, "
           "published_at, published_precision, stock_codes, cluster_id, cluster_size, is_canonical")


# schemas.Article, field by field in its order: {JSON key: SQL expression over marts.news_articles}
ARTICLE_JSON = {
    "id": "a.news_id::text", "title": "a.title", "summary": "left(a.summary, 300)", "url": "a.url",
    "press": "a.press", "source": "a.source", "sources": "a.sources", "content_type": "a.content_type",
    "published_at": json_time("a.published_at"), "published_precision": "a.published_precision",
    "stock_codes": "a.stock_codes", "cluster_id": "a.cluster_id::text", "cluster_size": "a.cluster_size",
    "is_canonical": "a.is_canonical"}


class ArticleRow(NamedTuple):
    news_id: int
    title: str
    summary: str
    url: str
    press: str | None
    source: str
    sources: list[str]
    content_type: str
    published_at: datetime
    published_precision: str
    stock_codes: list[str]
    cluster_id: int
    cluster_size: int
    is_canonical: bool


class LinkRow(NamedTuple):
    stock_code: str
    stock_name: str | None
    score: float
    salient: bool
    surfaces: list[str]
    evidence: str


class ImpactRow(NamedTuple):
    stock_code: str
    anchor_date: date | None
    base_close: float | None
    returns: dict[int, float | None]  # by horizon (sessions)
    excess: dict[int, float | None]  # over KOSPI, by horizon


class StoryRow(NamedTuple):
    news_id: int
    title: str
    source: str
    published_at: datetime


class PredictionWork(NamedTuple):
    """What a news_predictions run narrowed to one article would do (the run's own rule: salient
    links of the canonical article to watch-list stocks, × active non-external models, less the
    pairs already answered successfully)."""

    links: int
    models: int
    pending: int


PREDICTION_WORK = """
WITH links AS (
    SELECT m.stock_code FROM marts.news_stock_matches AS m
    JOIN marts.news_articles AS a ON a.news_id = m.news_id
    JOIN raw.stocks AS s ON s.code = m.stock_code AND s.is_watchlist  -- what the run reads
    WHERE m.news_id = :id AND m.salient AND coalesce(a.is_canonical, true)
), models AS (
    SELECT id FROM app.models WHERE active AND provider <> 'external'
)
SELECT (SELECT count(*) FROM links) AS links, (SELECT count(*) FROM models) AS models,
       (SELECT count(*) FROM links CROSS JOIN models AS md WHERE NOT EXISTS ({answered})) AS pending
"""
ANSWERED = ("SELECT 1 FROM computed.news_predictions AS p WHERE p.news_id = :id "
            "AND p.stock_code = links.stock_code AND p.model_id = md.id AND p.status = 'ok'")


def _filters(stock: str | None, mentioned: bool, source: str | None, q: str | None, start: datetime | None,
             end: datetime | None) -> tuple[str, dict[str, Any]]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if stock:  # containment (@>) is what the arrays' GIN indexes answer; "= ANY" would read every row
        column = "mentioned_codes" if mentioned else "stock_codes"
        conditions.append(f"{column} @> ARRAY[CAST(:stock AS text)]")
        params["stock"] = stock
    if source:
        conditions.append(":source = ANY(sources)")
        params["source"] = source
    if q:
        # a trigram GIN index on each column answers these (marts/news/news_articles.yml)
        conditions.append(r"(title ILIKE :q ESCAPE '\' OR summary ILIKE :q ESCAPE '\')")
        params["q"] = f"%{escape_like(q)}%"
    if start:
        conditions.append("published_at >= :start")
        params["start"] = start
    if end:
        conditions.append("published_at < :end")
        params["end"] = end
    return " AND ".join(conditions), params


class ArticlesJson(NamedTuple):
    """A page of articles as a JSON array (``schemas.Article`` items), whether more follow, and
    where the page ends (for the next cursor)."""

    items: bytes
    more: bool
    last: Position | None


async def page(conn: AsyncConnection, *, stock: str | None, mentioned: bool, source: str | None,
               q: str | None, start: datetime | None, end: datetime | None, ascending: bool,
               after: Position | None, offset: int, limit: int) -> tuple[ArticlesJson, Total]:
    """One page in (published_at, news_id) order — after ``after`` (keyset) and ``offset`` rows —,
    written as JSON by PostgreSQL, and the capped total (:func:`azak_api.db.capped_total`)."""
    where, params = _filters(stock, mentioned, source, q, start, end)
    order = "ASC" if ascending else "DESC"
    keyset = ""
    if after is not None:
        keyset = f" AND (published_at, news_id) {'>' if ascending else '<'} (:after_at, :after_id)"
        params |= {"after_at": after.published_at, "after_id": after.news_id}
    ordered = f"published_at {order}, news_id {order}"
    row = await document_row(conn, (
        f"WITH found AS (SELECT * FROM marts.news_articles WHERE {where}{keyset} ORDER BY {ordered} "
        "LIMIT :limit + 1 OFFSET :offset), "  # one more than the page: whether more follow
        f"page AS (SELECT *, row_number() OVER (ORDER BY {ordered}) AS n FROM found) "
        f"SELECT {json_array(ARTICLE_JSON, 'page a', 'a.n <= :limit', 'a.n')}::text AS items, "
        "(SELECT count(*) > :limit FROM page) AS more, "
        "(SELECT published_at FROM page WHERE n = :limit) AS last_at, "
        "(SELECT news_id FROM page WHERE n = :limit) AS last_id"),
        {**params, "limit": limit, "offset": offset})
    assert row is not None  # the statement selects one row
    items, more, last_at, last_id = row
    return (ArticlesJson(items, more, Position(last_at, last_id) if more else None),
            await capped_total(conn, "marts.news_articles", where, params))


async def one(conn: AsyncConnection, news_id: int) -> ArticleRow | None:
    rows = rows_as(ArticleRow, (await conn.execute(
        text(f"SELECT {ARTICLE} FROM marts.news_articles WHERE news_id = :id"), {"id": news_id})).all())
    return rows[0] if rows else None


async def links(conn: AsyncConnection, news_id: int) -> list[LinkRow]:
    return rows_as(LinkRow, (await conn.execute(text(
        "SELECT stock_code, stock_name, score, salient, surfaces, evidence FROM marts.news_stock_matches "
        "WHERE news_id = :id ORDER BY salient DESC, score DESC"), {"id": news_id})).all())


async def impact(conn: AsyncConnection, news_id: int) -> list[ImpactRow]:
    columns = ", ".join(f"return_{h}d, excess_{h}d" for h in PRICE_IMPACT_HORIZONS)
    rows = (await conn.execute(text(
        f"SELECT stock_code, anchor_date, base_close, {columns} FROM marts.news_price_impact "
        "WHERE news_id = :id ORDER BY salient DESC, score DESC"), {"id": news_id})).all()
    return [ImpactRow(r.stock_code, r.anchor_date, r.base_close,
                      {h: r._mapping[f"return_{h}d"] for h in PRICE_IMPACT_HORIZONS},
                      {h: r._mapping[f"excess_{h}d"] for h in PRICE_IMPACT_HORIZONS}) for r in rows]


async def story(conn: AsyncConnection, cluster_id: int, news_id: int) -> list[StoryRow]:
    return rows_as(StoryRow, (await conn.execute(text(
        "SELECT news_id, title, source, published_at FROM marts.news_articles "
        "WHERE cluster_id = :c AND news_id <> :id ORDER BY published_at LIMIT 50"),
        {"c": cluster_id, "id": news_id})).all())


async def prediction_work(conn: AsyncConnection, news_id: int) -> PredictionWork:
    """How many links, models and unanswered (link, model) pairs the article has; no links when
    the matching marts are not built (a run would find none either)."""
    if not await table_exists(conn, "marts.news_stock_matches") or not await table_exists(conn, "marts.stocks"):
        return PredictionWork(0, 0, 0)
    answered = ANSWERED if await table_exists(conn, "computed.news_predictions") else "SELECT 1 WHERE false"
    row = row_as(PredictionWork, (await conn.execute(
        text(PREDICTION_WORK.format(answered=answered)), {"id": news_id})).first())
    assert row is not None  # an aggregate always answers one row
    return row
