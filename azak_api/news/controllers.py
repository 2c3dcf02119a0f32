"""News list and detail (with the companies it is about and what their prices did next)."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from azak_api.analysis import dagster
from azak_api.analysis import queries as analysis_queries
from azak_api.analysis.controllers import as_prediction
from azak_api.analysis.schemas import RunLaunched
from azak_api.auth import SECURED, CurrentUser
from azak_api.cache import INVALIDATES, SHARED
from azak_api.db import EXACT_TOTAL_LIMIT
from azak_api.errors import Conflict, NotFound, error_responses
from azak_api.json_sql import raw_items
from azak_api.news import queries
from azak_api.news.cursor import decode_cursor, encode_cursor
from azak_api.news.schemas import NEWS_ID_PATTERN, Article, ArticleDetail, ArticlePage, Impact, Link, StoryItem
from azak_api.pages import paging
from azak_api.quota import daily_limit, quota_slot
from azak_api.settings import Settings
from azak_core.market import KST, STOCK_CODE_PATTERN
from azak_core.patterns import whole

NewsId = Annotated[str, Parameter(pattern=NEWS_ID_PATTERN, description="the article id (decimal)")]
# Offset paging reads and drops every row before the page: past this, cursors only.
MAX_OFFSET = 10_000
Source = Literal["naver_finance", "hankyung", "maeil", "dart", "reddit"]


async def article(conn: AsyncConnection, news_id: str) -> queries.ArticleRow:
    article_id = int(news_id)
    row = await queries.one(conn, article_id) if article_id <= 2**63 - 1 else None
    if row is None:
        raise NotFound(f"no article {news_id}")
    return row


def as_article(row: queries.ArticleRow) -> Article:
    return Article(id=str(row.news_id), title=row.title, summary=row.summary, url=row.url, press=row.press,
                   source=row.source, sources=list(row.sources), content_type=row.content_type,
                   published_at=row.published_at, published_precision=row.published_precision,
                   stock_codes=list(row.stock_codes), cluster_id=str(row.cluster_id),
                   cluster_size=row.cluster_size, is_canonical=row.is_canonical)


async def ensure_work(conn: AsyncConnection, news_id: int) -> None:
    """409 when a run on this article would do nothing, so the caller's quota is not spent on it."""
    work = await queries.prediction_work(conn, news_id)
    if not work.links:
        raise Conflict(f"article {news_id} has no salient link to a watch-list stock: there is nothing to "
                       "predict (no quota used)")
    if not work.models:
        raise Conflict("no active model predicts news: an administrator activates one "
                       "(`azak models set baseline --active`); no quota used")
    if not work.pending:
        raise Conflict(f"every active model has already predicted article {news_id} for its "
                       f"{work.links} watch-list link(s): see GET /api/news/{news_id} (no quota used)")


class NewsController(Controller):
    path = "/api/news"
    tags = ["news"]
    security = SECURED

    @get("/", operation_id="listNews", opt={"cache": "news", "cache_scope": SHARED}, cache=True,
         summary="News and disclosures with filters, sorting and totals", responses=error_responses(401),
         description=f"Newest first (or oldest, `sort=published_at`), ties broken by id. Page through with "
                     f"`cursor`: each answer's `next_cursor` (null on the last page) continues exactly "
                     f"after its last article, at any depth. `page` still works for the first "
                     f"{MAX_OFFSET:,} articles; a page starting deeper is refused (400). `total` is "
                     f"exact up to {EXACT_TOTAL_LIMIT:,} matching articles; past that it is "
                     f"PostgreSQL's estimate and `total_is_estimate` is true.")
    async def list_news(
        self, db: AsyncConnection,
        stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN,
                                               description="about this stock (salient links)")] = None,
        mentioned: Annotated[bool, Parameter(description="with stock: any mention, not only the subject")] = False,
        source: Source | None = None,
        q: Annotated[str | None, Parameter(min_length=1, max_length=100,
                                           description="text in title or summary")] = None,
        start: Annotated[date | None, Parameter(query="from", description="first KST day (YYYY-MM-DD)")] = None,
        end: Annotated[date | None, Parameter(query="to", description="last KST day (YYYY-MM-DD)")] = None,
        sort: Literal["-published_at", "published_at"] = "-published_at",
        cursor: Annotated[str | None, Parameter(max_length=200, pattern=whole("[A-Za-z0-9_-]+"),
                                                description="the previous page's next_cursor")] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000, description="with no cursor: the page number "
                                       f"(its first article within the first {MAX_OFFSET:,})")] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> ArticlePage:
        if start and end and start > end:
            raise ValidationException(f"'from' ({start}) is after 'to' ({end})")
        ascending = sort == "published_at"
        if cursor is not None and page != 1:
            raise ValidationException("give either cursor or page, not both: the cursor already says where "
                                      "the page starts")
        offset = (page - 1) * page_size
        if offset >= MAX_OFFSET:
            raise ValidationException(f"page {page} starts past the first {MAX_OFFSET:,} articles: page "
                                      "through with cursor (each answer's next_cursor) instead")
        after = decode_cursor(cursor, ascending) if cursor is not None else None
        since = datetime.combine(start, time(0), KST) if start else None
        until = datetime.combine(end + timedelta(days=1), time(0), KST) if end else None
        found, total = await queries.page(
            db, stock=stock, mentioned=mentioned, source=source, q=q, start=since, end=until,
            ascending=ascending, after=after, offset=offset, limit=page_size)
        return ArticlePage(
            items=raw_items(found.items, Article), **paging(total, None if cursor else page, page_size),
            next_cursor=encode_cursor(found.last, ascending) if found.last else None)

    @get("/{news_id:str}", operation_id="getNews", opt={"cache": "article", "cache_scope": SHARED}, cache=True,
         summary="One article: the companies it is about, their price impact, the same story elsewhere",
         responses=error_responses(401, 404))
    async def get_news(self, db: AsyncConnection, news_id: NewsId) -> ArticleDetail:
        row = await article(db, news_id)
        article_id = row.news_id
        links = await queries.links(db, article_id)
        impact = await queries.impact(db, article_id)
        story = await queries.story(db, row.cluster_id, article_id)
        predictions, _ = await analysis_queries.predictions(
            db, stock=None, model=None, status=None, news_id=article_id, start=None, end=None, offset=0, limit=100)
        return ArticleDetail(
            article=as_article(row),
            links=[Link(r.stock_code, r.stock_name, float(r.score), r.salient, list(r.surfaces), r.evidence)
                   for r in links],
            price_impact=[Impact(
                code=r.stock_code, anchor_date=r.anchor_date, base_close=r.base_close,
                returns={f"{h}d": value for h, value in r.returns.items()},
                excess_over_kospi={f"{h}d": value for h, value in r.excess.items()})
                for r in impact],
            same_story=[StoryItem(str(r.news_id), r.title, r.source, r.published_at) for r in story],
            # one answer for every caller (a shared cache entry): error classes only, never messages
            predictions=[as_prediction(r, reveal_errors=False) for r in predictions],
        )

    @post("/{news_id:str}/predict", operation_id="predictNews", status_code=202,
          summary="Run the active models on one article now (admin, or a user within the daily quota)",
          description="Launches a news_predictions run narrowed to this article (its watch-list links), "
                      "queued behind the platform's own work; follow it at `status_url`. The predictions "
                      "then show in GET /api/news/{id}. Draws on the same daily quota as report refreshes. "
                      "409, without taking a quota slot, when the run would do nothing: the article has "
                      "no salient link to a watch-list stock, no model is active, or every active model "
                      "has already answered each link (the predictions are in GET /api/news/{id}).",
          responses=error_responses(401, 403, 404, 409, 429), opt={INVALIDATES: ()})
    async def predict(self, db: AsyncConnection, current_user: CurrentUser, engine: AsyncEngine,
                      settings: Settings, clock: Callable[[], datetime], news_id: NewsId) -> RunLaunched:
        row = await article(db, news_id)
        if not current_user.is_admin:
            daily_limit(current_user, settings.analysis_refreshes_per_day)  # a 403 before anything else
        await ensure_work(db, row.news_id)
        day = row.published_at.astimezone(KST).date()  # the article's partition
        async with quota_slot(engine, current_user, settings.analysis_refreshes_per_day, clock(), "predict") as left:
            run_id = await dagster.launch(
                settings.dagster_url, "news_predictions_job", str(day),
                {"ops": {"computed__news_predictions": {"config": {"news_ids": [row.news_id]}}}}, current_user.id)
        return RunLaunched(run_id=run_id, status_url=f"/api/runs/{run_id}", refreshes_left_today=left)
