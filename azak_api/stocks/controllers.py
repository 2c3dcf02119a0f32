"""The universe, one stock, its prices, and watch-list management (admin)."""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, post, put
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from litestar.security.jwt import Token

from azak_api.auth import SECURED, CurrentUser, admin_only
from azak_api.errors import NotFound, error_responses
from azak_api.stocks import queries
from azak_api.stocks.schemas import (
    DailyBar,
    LatestPrice,
    MinuteBar,
    NewsCounts,
    PriceRange,
    PriceSeries,
    Stock,
    StockDetail,
    StockPage,
    WatchlistEntry,
    WatchlistState,
    WatchlistUpdate,
)

CODE_PATTERN = r"^[0-9A-Z]{6}$"
Code = Annotated[str, Parameter(pattern=CODE_PATTERN, description="KRX stock code: 6 characters [0-9A-Z]")]
Market = Literal["KOSPI", "KOSDAQ", "KOSDAQ GLOBAL", "KONEX"]
MAX_DAILY_SPAN = timedelta(days=366 * 20)
MAX_MINUTE_SPAN = timedelta(days=7)


def as_stock(row: Any) -> Stock:
    return Stock(code=row.code, name=row.name, market=row.market, industry=row.industry,
                 market_cap=row.market_cap, is_watchlist=row.is_watchlist)


async def _clear_cache(request: Request[Any, Any, Any]) -> None:
    await request.app.state.response_cache.delete_all()


class StockController(Controller):
    path = "/api/stocks"
    tags = ["stocks"]
    security = SECURED

    @get("/", operation_id="listStocks", opt={"cache": "stocks"}, cache=True,
         summary="Search the KRX universe", responses=error_responses(401))
    async def list_stocks(
        self, request: Request[CurrentUser, Token, Any],
        q: Annotated[str | None, Parameter(max_length=50, description="part of the name, or a code prefix")] = None,
        market: Market | None = None,
        watchlist: Annotated[bool | None, Parameter(description="only (or never) watch-list stocks")] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> StockPage:
        async with request.app.state.engine.connect() as conn:
            rows, total = await queries.page(conn, q, market, watchlist, (page - 1) * page_size, page_size)
        return StockPage([as_stock(r) for r in rows], total, page, page_size)

    @get("/{code:str}", operation_id="getStock", opt={"cache": "stock"}, cache=True,
         summary="One stock: latest price and change, 52-week range, news counts",
         responses=error_responses(401, 404))
    async def get_stock(self, request: Request[CurrentUser, Token, Any], code: Code) -> StockDetail:
        async with request.app.state.engine.connect() as conn:
            row = await queries.one(conn, code)
            if row is None:
                raise NotFound(f"no listed stock {code}")
            closes = await queries.latest_two_closes(conn, code)
            latest = rng = None
            if closes:
                last = closes[0]
                previous = float(closes[1].close) if len(closes) > 1 else None
                change = float(last.close) - previous if previous else None
                latest = LatestPrice(last.trade_date, float(last.close), change,
                                     change / previous * 100 if change is not None and previous else None,
                                     last.volume)
                since = last.trade_date - timedelta(days=364)
                span = await queries.range_since(conn, code, since)
                rng = PriceRange(float(span.high) if span.high is not None else None,
                                 float(span.low) if span.low is not None else None, since)
            counts = await queries.news_counts(conn, code, request.app.state.clock())
        return StockDetail(
            code=row.code, name=row.name, market=row.market, section=row.section, industry=row.industry,
            listed_on=row.listed_on, market_cap=row.market_cap, listed_shares=row.listed_shares,
            is_watchlist=row.is_watchlist, latest=latest, range_52_weeks=rng,
            news=NewsCounts(counts.total, counts.last_7, counts.last_30, counts.latest))

    @get("/{code:str}/prices", operation_id="getStockPrices", opt={"cache": "prices"}, cache=True,
         summary="Daily bars with indicators, or one-minute bars",
         description="Daily (default): up to 20 years, with returns, moving averages, RSI(14), "
                     "MACD(12,26,9) and Bollinger bands. Minute: up to 7 days. Without dates, the last "
                     "year (daily) or the last session (minute) that has data.",
         responses=error_responses(401, 404))
    async def get_prices(
        self, request: Request[CurrentUser, Token, Any], code: Code,
        start: Annotated[date | None, Parameter(query="from", description="first day (YYYY-MM-DD)")] = None,
        end: Annotated[date | None, Parameter(query="to", description="last day (YYYY-MM-DD)")] = None,
        interval: Literal["daily", "minute"] = "daily",
    ) -> PriceSeries:
        async with request.app.state.engine.connect() as conn:
            if await queries.one(conn, code) is None:
                raise NotFound(f"no listed stock {code}")
            last = end or await queries.latest_trade_date(conn, code) or request.app.state.clock().date()
            first = start or (last - timedelta(days=364) if interval == "daily" else last)
            if first > last:
                raise ValidationException(f"'from' ({first}) is after 'to' ({last})")
            span = MAX_DAILY_SPAN if interval == "daily" else MAX_MINUTE_SPAN
            if last - first > span:
                raise ValidationException(f"at most {span.days} days of {interval} bars per request")
            if interval == "daily":
                rows = await queries.daily(conn, code, first, last)
                bars = [DailyBar(r.trade_date, _f(r.open), _f(r.high), _f(r.low), float(r.close), r.volume,
                                 r.is_halt, r.return_1d, r.ma_5, r.ma_20, r.ma_60, r.rsi_14, r.macd,
                                 r.macd_signal, r.macd_histogram, r.bollinger_upper, r.bollinger_mid,
                                 r.bollinger_lower) for r in rows]
                return PriceSeries(code, interval, first, last, daily=bars)
            rows = await queries.minutes(conn, code, first, last)
            return PriceSeries(code, interval, first, last, minute=[
                MinuteBar(r.bar_time, float(r.open), float(r.high), float(r.low), float(r.close), r.volume)
                for r in rows])


def _f(value: Any) -> float | None:
    return float(value) if value is not None else None


class WatchlistController(Controller):
    """Watch-list management; the pipelines' ``watchlist_sensor`` picks changes up."""

    path = "/api/admin/stocks"
    tags = ["admin"]
    security = SECURED
    guards = [admin_only]

    @post("/", operation_id="addWatchlistStock", summary="Add a stock to the watch-list (admin)",
          description="A code missing from the universe (a new listing) needs its name.",
          responses=error_responses(401, 403, 413))
    async def add(self, request: Request[CurrentUser, Token, Any], data: WatchlistEntry) -> WatchlistState:
        async with request.app.state.engine.begin() as conn:
            known = await queries.one(conn, data.code)
            if known is None and not data.name:
                raise ValidationException(f"{data.code} is not in the universe: give its name (and market)")
            row = await queries.upsert_watchlist(conn, data.code, data.name, data.market, True, request.user.id)
        await _clear_cache(request)
        return WatchlistState(row.code, row.name or (known.name if known else None),
                              row.market or (known.market if known else None), row.active, row.updated_at)

    @put("/{code:str}", operation_id="updateWatchlistStock",
         summary="Change a stock's watch-list flag, name or market (admin)",
         responses=error_responses(401, 403, 404, 413))
    async def update(self, request: Request[CurrentUser, Token, Any], code: Code,
                     data: WatchlistUpdate) -> WatchlistState:
        async with request.app.state.engine.begin() as conn:
            known = await queries.one(conn, code)
            if known is None:
                raise NotFound(f"no listed stock {code}")
            active = known.is_watchlist if data.is_watchlist is None else data.is_watchlist
            row = await queries.upsert_watchlist(conn, code, data.name, data.market, active, request.user.id)
        await _clear_cache(request)
        return WatchlistState(row.code, row.name or known.name, row.market or known.market, row.active,
                              row.updated_at)

    @delete("/{code:str}", operation_id="removeWatchlistStock", status_code=200,
            summary="Take a stock off the watch-list (admin); the stock itself stays",
            responses=error_responses(401, 403, 404))
    async def remove(self, request: Request[CurrentUser, Token, Any], code: Code) -> WatchlistState:
        async with request.app.state.engine.begin() as conn:
            known = await queries.one(conn, code)
            if known is None:
                raise NotFound(f"no listed stock {code}")
            row = await queries.upsert_watchlist(conn, code, None, None, False, request.user.id)
        await _clear_cache(request)
        return WatchlistState(row.code, row.name or known.name, row.market or known.market, row.active,
                              row.updated_at)
