"""Quotes, valuation and the market overview: response types."""

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from azak_core.market import QUOTE_SNAPSHOT_MINUTES, MarketStatus


class BookLevel(msgspec.Struct):
    price: float
    quantity: int


class OrderBook(msgspec.Struct):
    asks: Annotated[list[BookLevel], msgspec.Meta(description="best (lowest) ask first, up to 10 levels")]
    bids: Annotated[list[BookLevel], msgspec.Meta(description="best (highest) bid first, up to 10 levels")]
    total_ask_quantity: int | None
    total_bid_quantity: int | None


class AfterHours(msgspec.Struct):
    date: date
    price: float | None
    change: Annotated[float | None, msgspec.Meta(description="versus the day's regular close")]
    change_pct: float | None
    volume: int | None


class Quote(msgspec.Struct):
    code: str
    market_status: Annotated[MarketStatus, msgspec.Meta(
        description="from the KRX calendar at the time of the request (KST): pre_market 08:30-09:00, "
                    "open in the regular session, after_hours 15:40-18:00, holiday on a day without session")]
    as_of: Annotated[datetime, msgspec.Meta(description="when the API answered")]
    observed_at: Annotated[datetime, msgspec.Meta(description="when the quote and order book were taken")]
    age_seconds: int
    is_fresh: Annotated[bool, msgspec.Meta(
        description=f"observed within the last {QUOTE_SNAPSHOT_MINUTES} minutes (the snapshot interval); "
                    "false while the market is open means the snapshots are late")]
    freshness: Annotated[str, msgspec.Meta(description="what the age means, in words")]
    price: float
    change: float | None
    change_pct: float | None
    open: float | None
    high: float | None
    low: float | None
    volume: int | None
    trading_value: Annotated[int | None, msgspec.Meta(description="KRW")]
    best_bid: float | None
    best_ask: float | None
    order_book: OrderBook
    after_hours: Annotated[AfterHours | None, msgspec.Meta(
        description="the latest after-hours single-price session (16:00-18:00), when collected")]
    source: str


class Valuation(msgspec.Struct):
    as_of: Annotated[date, msgspec.Meta(description="the day of the price the ratios use")]
    price: float
    per: float | None
    pbr: float | None
    eps: float | None
    bps: float | None
    market_cap: Annotated[int | None, msgspec.Meta(description="KRW")]
    dividend_yield: Annotated[float | None, msgspec.Meta(
        description="percent; null: KIS's quote and ratio TRs do not give it")]
    period: Annotated[str | None, msgspec.Meta(
        description="the accounting period (YYYYMM) EPS and BPS come from: the latest one published by as_of")]
    period_kind: Annotated[str | None, msgspec.Meta(description="annual or quarterly")]
    basis: Annotated[Literal["kis_quote", "computed"], msgspec.Meta(
        description="kis_quote: KIS's own figures in the latest quote of that day; computed: price / "
                    "EPS and price / BPS from the financial ratios")]
    synthetic: Annotated[bool, msgspec.Meta(
        description="true when the ratios are the bundled demo values (replayed), not facts")]
    source: str


class IndexLevel(msgspec.Struct):
    code: str
    name: str | None
    date: date
    close: float
    change_pct: float | None


class LatestPrediction(msgspec.Struct):
    model_name: str
    direction: str | None
    probability: float | None
    recommendation: str | None
    made_at: datetime


class Mover(msgspec.Struct):
    code: str
    name: str
    close: float
    change_pct: float
    volume: int
    prediction: Annotated[LatestPrediction | None, msgspec.Meta(
        description="the stock's latest successful report, when one exists")]


class NetBuyer(msgspec.Struct):
    code: str
    name: str
    net_value_krw: int
    net_quantity: int


class NetBuyLeaders(msgspec.Struct):
    date: date | None
    foreign: list[NetBuyer]
    institution: list[NetBuyer]


class Sectors(msgspec.Struct):
    collected: bool
    reason: Annotated[str | None, msgspec.Meta(description="why there are no sectors, when collected is false")]
    items: list[IndexLevel]


class PredictionCounts(msgspec.Struct):
    date: Annotated[date | None, msgspec.Meta(description="the latest KST day with news-impact predictions")]
    total: int
    by_direction: dict[str, int]


class MarketOverview(msgspec.Struct):
    market_status: MarketStatus
    as_of: datetime
    session: Annotated[date | None, msgspec.Meta(description="the session the movers are from")]
    indices: list[IndexLevel]
    sectors: Sectors
    movers_scope: Annotated[str, msgspec.Meta(description="which stocks the movers are ranked among")]
    gainers: list[Mover]
    losers: list[Mover]
    most_traded: Annotated[list[Mover], msgspec.Meta(
        description="the most traded stocks by volume (KIS's volume ranking); empty when it is not collected")]
    net_buying: NetBuyLeaders
    predictions: PredictionCounts
