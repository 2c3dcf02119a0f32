"""Stocks and prices: request and response types."""

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from azak_api.market.schemas import Valuation
from azak_api.pages import Paged
from azak_core.market import STOCK_CODE_PATTERN
from azak_core.patterns import whole

# a display name: no control characters (PostgreSQL text cannot hold NUL; the rest are never meant)
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=whole(r"[^\x00-\x1f\x7f]+"))]
StockCode = Annotated[str, msgspec.Meta(pattern=STOCK_CODE_PATTERN, description="6 characters [0-9A-Z]")]
Market = Literal["KOSPI", "KOSDAQ", "KOSDAQ GLOBAL", "KONEX"]


class Stock(msgspec.Struct):
    code: str
    name: str
    market: str | None
    industry: str | None
    market_cap: int | None
    is_watchlist: bool


class StockPage(Paged):
    items: list[Stock]


class LatestPrice(msgspec.Struct):
    date: date
    close: float
    change: float | None
    change_pct: float | None
    volume: int


class PriceRange(msgspec.Struct):
    high: float | None
    low: float | None
    since: date


class NewsCounts(msgspec.Struct):
    total: int
    last_7_days: int
    last_30_days: int
    latest_at: datetime | None


class Onboarding(msgspec.Struct):
    """The run that backfills a stock added to the watch-list: its price history, indicators, news
    links and a first report by every active model (docs/workflows.md)."""

    run_id: Annotated[str | None, msgspec.Meta(description="the Dagster run; null until the daemon starts it")]
    status: Literal["requested", "running", "succeeded", "failed"]
    step: Annotated[str | None, msgspec.Meta(description="what the run is doing (prices, links, marts, reports)")]
    requested_at: datetime
    finished_at: datetime | None


class StockDetail(msgspec.Struct):
    code: str
    name: str
    market: str | None
    section: str | None
    industry: str | None
    listed_on: date | None
    market_cap: int | None
    listed_shares: int | None
    is_watchlist: bool
    latest: LatestPrice | None
    range_52_weeks: PriceRange | None
    news: NewsCounts
    valuation: Annotated[Valuation | None, msgspec.Meta(
        description="PER, PBR, EPS, BPS and market cap as of the latest close (point in time); null "
                    "without a close")]
    onboarding: Annotated[Onboarding | None, msgspec.Meta(
        description="the latest onboarding run since the stock joined the watch-list; null when none")] = None


class DailyBar(msgspec.Struct):
    date: date
    open: float | None
    high: float | None
    low: float | None
    close: float
    volume: int
    is_halt: bool
    return_1d: float | None
    ma_5: float | None
    ma_20: float | None
    ma_60: float | None
    rsi_14: float | None
    macd: float | None
    macd_signal: float | None
    macd_histogram: float | None
    bollinger_upper: float | None
    bollinger_mid: float | None
    bollinger_lower: float | None


class MinuteBar(msgspec.Struct):
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int


class PriceSeries(msgspec.Struct):
    code: str
    interval: str
    start: date
    end: date
    daily: list[DailyBar] | None = None
    minute: list[MinuteBar] | None = None


class WatchlistEntry(msgspec.Struct, forbid_unknown_fields=True):
    code: StockCode
    name: Name | None = None
    market: Market | None = None


class WatchlistUpdate(msgspec.Struct, forbid_unknown_fields=True):
    is_watchlist: bool | None = None
    name: Name | None = None
    market: Market | None = None


class WatchlistState(msgspec.Struct):
    code: str
    name: str | None
    market: str | None
    is_watchlist: bool
    updated_at: datetime
