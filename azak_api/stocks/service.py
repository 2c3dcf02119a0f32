"""What the stock routes compute from the rows: latest change, 52-week range, price windows."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from litestar.exceptions import ValidationException
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.errors import NotFound
from azak_api.json_sql import answer
from azak_api.market import queries as market_queries
from azak_api.market import service as market
from azak_api.stocks import queries
from azak_api.stocks.schemas import (
    LatestPrice,
    NewsCounts,
    Onboarding,
    PriceRange,
    PriceSeries,
    Stock,
    StockDetail,
    WatchlistState,
)
from azak_core.market import KST

MAX_DAILY_SPAN = timedelta(days=366 * 20)
MAX_MINUTE_SPAN = timedelta(days=7)


def _f(value: queries.Number | None) -> float | None:
    return float(value) if value is not None else None


def as_stock(row: queries.StockRow) -> Stock:
    return Stock(code=row.code, name=row.name, market=row.market, industry=row.industry,
                 market_cap=row.market_cap, is_watchlist=row.is_watchlist)


def latest_price(closes: list[queries.Close]) -> LatestPrice | None:
    """The newest close and its change from the one before (none for a first session)."""
    if not closes:
        return None
    last = closes[0]
    previous = float(closes[1].close) if len(closes) > 1 else None
    change = float(last.close) - previous if previous else None
    return LatestPrice(last.trade_date, float(last.close), change,
                       change / previous * 100 if change is not None and previous else None, last.volume)


async def stock_detail(conn: AsyncConnection, code: str, now: datetime) -> StockDetail:
    """One statement for the stock, its closes, range, news counts, valuation price and onboarding;
    a second for the valuation's ratios and quote when their tables exist (two round trips where
    there were seven). Python still writes this answer: a ratio is rounded as ``round()`` rounds."""
    found = await queries.detail(conn, code, now, now.astimezone(KST).date())
    if found is None:
        raise NotFound(f"no listed stock {code}")
    row, counts = found.stock, found.news
    latest = latest_price(found.closes)
    span = None
    if latest is not None:
        span = PriceRange(_f(found.span.high), _f(found.span.low), latest.date - timedelta(days=364))
    ratios, kis = (await market_queries.valuation_inputs(conn, code, found.close.trade_date, found.has_ratios,
                                                         found.has_quotes)
                   if found.close is not None else (None, None))
    boarding = found.onboarding
    return StockDetail(
        code=row.code, name=row.name, market=row.market, section=row.section, industry=row.industry,
        listed_on=row.listed_on, market_cap=row.market_cap, listed_shares=row.listed_shares,
        is_watchlist=row.is_watchlist, latest=latest, range_52_weeks=span,
        news=NewsCounts(counts.total, counts.last_7, counts.last_30, counts.latest),
        valuation=market.valuation(found.close, ratios, kis),
        onboarding=Onboarding(boarding.run_id, boarding.status, boarding.step, boarding.requested_at,
                              boarding.finished_at) if boarding else None)


async def price_series(conn: AsyncConnection, code: str, start: date | None, end: date | None, interval: str,
                       today: Callable[[], date]) -> PriceSeries:
    """Daily bars (default window: the year to the latest bar) or minute bars (the last session)."""
    span = MAX_DAILY_SPAN if interval == "daily" else MAX_MINUTE_SPAN
    found = await queries.price_series(conn, code, interval, start, end, 364 if interval == "daily" else 0,
                                       span.days, today())
    if not found.listed:
        raise NotFound(f"no listed stock {code}")
    if found.first > found.last:
        raise ValidationException(f"'from' ({found.first}) is after 'to' ({found.last})")
    if found.document is None:
        raise ValidationException(f"at most {span.days} days of {interval} bars per request")
    return answer(found.document, PriceSeries)


async def set_watchlist(conn: AsyncConnection, code: str, user_id: int, *, active: bool | None,
                        name: str | None = None, market: str | None = None, may_add: bool = False) -> WatchlistState:
    """Add a stock to the watch-list, change its flag, name or market; ``active=None`` keeps the flag.
    A code missing from the universe (a new listing) can only be added, and needs its name."""
    known = await queries.one(conn, code)
    if known is None and not may_add:
        raise NotFound(f"no listed stock {code}")
    if known is None and not name:
        raise ValidationException(f"{code} is not in the universe: give its name (and market)")
    flag = active if active is not None else bool(known and known.is_watchlist)
    row = await queries.upsert_watchlist(conn, code, name, market, flag, user_id)
    if row.active and not (known and known.is_watchlist):
        await queries.request_onboarding(conn, code, user_id)  # the daemon's sensor launches its run
    return WatchlistState(row.code, row.name or (known.name if known else None),
                          row.market or (known.market if known else None), row.active, row.updated_at)
