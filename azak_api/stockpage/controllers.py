"""``GET /api/stocks/{code}/page``: what the stock page shows, in one round trip."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.analysis import queries as analysis_queries
from azak_api.analysis.controllers import as_prediction, stock_analysis
from azak_api.auth import SECURED
from azak_api.cache import SHARED
from azak_api.errors import NotFound, error_responses
from azak_api.market import service as market
from azak_api.market.schemas import Quote
from azak_api.news import queries as news_queries
from azak_api.news.controllers import as_article
from azak_api.stockpage.schemas import StockPageView
from azak_api.stocks import service as stocks
from azak_core.market import STOCK_CODE_PATTERN

Code = Annotated[str, Parameter(pattern=STOCK_CODE_PATTERN, description="KRX stock code: 6 characters [0-9A-Z]")]
RECENT = 10  # predictions and articles on the page


class StockPageController(Controller):
    path = "/api/stocks"
    tags = ["stocks"]
    security = SECURED

    @get("/{code:str}/page", operation_id="getStockPage", opt={"cache": "page", "cache_scope": SHARED},
         cache=True, summary="The stock page in one call: detail with valuation, quote, reports, "
                             "predictions, news",
         description="Cached for the shortest time to live of its parts (stock, quote, analysis, news). "
                     "Everyone gets the same answer: failed model calls show their error class only.",
         responses=error_responses(401, 404, 503))
    async def page(self, db: AsyncConnection, clock: Callable[[], datetime], code: Code) -> StockPageView:
        now = clock()
        detail = await stocks.stock_detail(db, code, now)
        quote: Quote | None
        try:
            quote = await market.quote(db, code, now)
        except NotFound:
            quote = None
        predictions, _ = await analysis_queries.predictions(
            db, stock=code, model=None, status="ok", news_id=None, start=None, end=now, offset=0, limit=RECENT)
        articles, _, _ = await news_queries.page(
            db, stock=code, mentioned=False, source=None, q=None, start=None, end=now, ascending=False,
            after=None, offset=0, limit=RECENT)
        return StockPageView(
            detail=detail, quote=quote, analysis=await stock_analysis(db, code, reveal=False),
            predictions=[as_prediction(r, reveal_errors=False) for r in predictions],
            news=[as_article(r) for r in articles])
