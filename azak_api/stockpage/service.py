"""The stock page: what ``GET /api/stocks/{code}/page`` and a public preview link show."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.analysis import queries as analysis_queries
from azak_api.analysis.controllers import as_prediction, stock_analysis
from azak_api.errors import NotFound
from azak_api.json_sql import raw_items
from azak_api.market import service as market
from azak_api.market.schemas import Quote
from azak_api.news import queries as news_queries
from azak_api.news.schemas import Article
from azak_api.stockpage.schemas import StockPageView
from azak_api.stocks import service as stocks

RECENT = 10  # predictions and articles on the page


async def stock_page(db: AsyncConnection, code: str, now: datetime) -> StockPageView:
    """Detail with valuation, quote, each active model's latest report, the latest predictions and
    news, as of ``now``; provider error messages are never shown (the answer is shared)."""
    detail = await stocks.stock_detail(db, code, now)
    quote: Quote | None
    try:
        quote = await market.quote(db, code, now)
    except NotFound:
        quote = None
    predictions, _ = await analysis_queries.predictions(
        db, stock=code, model=None, status="ok", news_id=None, start=None, end=now, offset=0, limit=RECENT)
    articles, _ = await news_queries.page(
        db, stock=code, mentioned=False, source=None, q=None, start=None, end=now, ascending=False,
        after=None, offset=0, limit=RECENT)
    return StockPageView(
        detail=detail, quote=quote, analysis=await stock_analysis(db, code, reveal=False),
        predictions=[as_prediction(r, reveal_errors=False) for r in predictions],
        news=raw_items(articles.items, Article))
