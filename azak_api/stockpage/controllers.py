"""``GET /api/stocks/{code}/page``: what the stock page shows, in one round trip."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED
from azak_api.cache import SHARED
from azak_api.errors import error_responses
from azak_api.stockpage.schemas import StockPageView
from azak_api.stockpage.service import stock_page
from azak_core.market import STOCK_CODE_PATTERN

Code = Annotated[str, Parameter(pattern=STOCK_CODE_PATTERN, description="KRX stock code: 6 characters [0-9A-Z]")]


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
        return await stock_page(db, code, clock())
