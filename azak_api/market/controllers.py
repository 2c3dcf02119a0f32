"""The live quote of a stock and the market overview."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED
from azak_api.cache import SHARED
from azak_api.errors import error_responses
from azak_api.market import service
from azak_api.market.schemas import MarketOverview, Quote
from azak_core.market import QUOTE_SNAPSHOT_MINUTES, STOCK_CODE_PATTERN

Code = Annotated[str, Parameter(pattern=STOCK_CODE_PATTERN, description="KRX stock code: 6 characters [0-9A-Z]")]


class MarketController(Controller):
    path = "/api"
    tags = ["market"]
    security = SECURED

    @get("/stocks/{code:str}/quote", operation_id="getStockQuote", opt={"cache": "quote", "cache_scope": SHARED},
         cache=True, summary="The latest quote and 10-level order book, after-hours price and market status",
         description=f"Snapshots are taken every {QUOTE_SNAPSHOT_MINUTES} minutes of the regular session "
                     "(watch-list stocks); `observed_at`, `age_seconds` and `is_fresh` say how old the "
                     "figures are. 404 for a stock without snapshots; 503 when the KRX calendar does not "
                     "cover today.",
         responses=error_responses(401, 404, 503))
    async def quote(self, db: AsyncConnection, clock: Callable[[], datetime], code: Code) -> Quote:
        return await service.quote(db, code, clock())

    @get("/market/overview", operation_id="getMarketOverview", opt={"cache": "market", "cache_scope": SHARED},
         cache=True, summary="Indices, sectors, movers with their latest prediction, net-buy leaders, "
                             "the day's prediction counts",
         responses=error_responses(401, 503))
    async def overview(self, db: AsyncConnection, clock: Callable[[], datetime]) -> MarketOverview:
        return await service.overview(db, clock())
