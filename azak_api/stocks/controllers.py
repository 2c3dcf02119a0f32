"""The universe, one stock, its prices, and watch-list management (admin)."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED, CurrentUser, admin_only
from azak_api.cache import INVALIDATES, SHARED
from azak_api.errors import error_responses
from azak_api.pages import paging
from azak_api.stocks import queries, service
from azak_api.stocks.schemas import (
    Market,
    PriceSeries,
    StockDetail,
    StockPage,
    WatchlistEntry,
    WatchlistState,
    WatchlistUpdate,
)
from azak_core.market import KST, STOCK_CODE_PATTERN

Code = Annotated[str, Parameter(pattern=STOCK_CODE_PATTERN, description="KRX stock code: 6 characters [0-9A-Z]")]
WATCHLIST_READERS = ("stocks", "stock", "prices", "dashboard", "page")  # the cached routes the watch-list shows in


class StockController(Controller):
    path = "/api/stocks"
    tags = ["stocks"]
    security = SECURED

    @get("/", operation_id="listStocks", opt={"cache": "stocks", "cache_scope": SHARED}, cache=True,
         summary="Search the KRX universe", responses=error_responses(401))
    async def list_stocks(
        self, db: AsyncConnection,
        q: Annotated[str | None, Parameter(max_length=50, description="part of the name, or a code prefix")] = None,
        market: Market | None = None,
        watchlist: Annotated[bool | None, Parameter(description="only (or never) watch-list stocks")] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> StockPage:
        rows, total = await queries.page(db, q, market, watchlist, (page - 1) * page_size, page_size)
        return StockPage([service.as_stock(r) for r in rows], **paging(total, page, page_size))

    @get("/{code:str}", operation_id="getStock", opt={"cache": "stock", "cache_scope": SHARED}, cache=True,
         summary="One stock: latest price and change, 52-week range, news counts",
         responses=error_responses(401, 404))
    async def get_stock(self, db: AsyncConnection, clock: Callable[[], datetime], code: Code) -> StockDetail:
        return await service.stock_detail(db, code, clock())

    @get("/{code:str}/prices", operation_id="getStockPrices", opt={"cache": "prices", "cache_scope": SHARED},
         cache=True, summary="Daily bars with indicators, or one-minute bars",
         description="Daily (default): up to 20 years, with returns, moving averages, RSI(14), "
                     "MACD(12,26,9) and Bollinger bands. Minute: up to 7 days. Without dates, the last "
                     "year (daily) or the last session (minute) that has data.",
         responses=error_responses(401, 404))
    async def get_prices(
        self, db: AsyncConnection, clock: Callable[[], datetime], code: Code,
        start: Annotated[date | None, Parameter(query="from", description="first day (YYYY-MM-DD)")] = None,
        end: Annotated[date | None, Parameter(query="to", description="last day (YYYY-MM-DD)")] = None,
        interval: Literal["daily", "minute"] = "daily",
    ) -> PriceSeries:
        return await service.price_series(db, code, start, end, interval, lambda: clock().astimezone(KST).date())


class WatchlistController(Controller):
    """Watch-list management; the pipelines pick changes up."""

    path = "/api/admin/stocks"
    tags = ["admin"]
    security = SECURED
    guards = [admin_only]

    @post("/", operation_id="addWatchlistStock", summary="Add a stock to the watch-list (admin)",
          description="A code missing from the universe (a new listing) needs its name.",
          responses=error_responses(401, 403, 413),
          opt={INVALIDATES: WATCHLIST_READERS})
    async def add(self, data: WatchlistEntry, current_user: CurrentUser, tx: AsyncConnection) -> WatchlistState:
        return await service.set_watchlist(tx, data.code, current_user.id, active=True, name=data.name,
                                           market=data.market, may_add=True)

    @put("/{code:str}", operation_id="updateWatchlistStock",
         summary="Change a stock's watch-list flag, name or market (admin)",
         responses=error_responses(401, 403, 404, 413),
         opt={INVALIDATES: WATCHLIST_READERS})
    async def update(self, code: Code, data: WatchlistUpdate, current_user: CurrentUser,
                     tx: AsyncConnection) -> WatchlistState:
        return await service.set_watchlist(tx, code, current_user.id, active=data.is_watchlist, name=data.name,
                                           market=data.market)

    @delete("/{code:str}", operation_id="removeWatchlistStock", status_code=200,
            summary="Take a stock off the watch-list (admin); the stock itself stays",
            responses=error_responses(401, 403, 404),
            opt={INVALIDATES: WATCHLIST_READERS})
    async def remove(self, code: Code, current_user: CurrentUser, tx: AsyncConnection) -> WatchlistState:
        return await service.set_watchlist(tx, code, current_user.id, active=False)
