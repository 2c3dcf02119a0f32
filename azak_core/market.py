"""The market's fixed facts, written once: time zone, stock codes, index codes, return horizons."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from azak_core.patterns import whole

KST = ZoneInfo("Asia/Seoul")

# KRX short codes: six characters, digits or capitals (ETNs and newer listings use letters).
STOCK_CODE_PATTERN = whole("[0-9A-Z]{6}")
STOCK_CODE = re.compile(STOCK_CODE_PATTERN)

# KIS index codes (FHPUP02120000)
KOSPI = "0001"
KOSDAQ = "1001"
KOSPI200 = "2001"
# the market-wide composites; every other index KIS serves is a sector (업종) index
COMPOSITE_INDICES = (KOSPI, KOSDAQ, KOSPI200)

# Sessions after an article (or a prediction) whose close-to-close returns are measured.
RETURN_HORIZONS = (1, 3, 5, 20)
# The horizons marts.news_price_impact measures (a superset of RETURN_HORIZONS).
PRICE_IMPACT_HORIZONS = (1, 2, 3, 5, 10, 20)


# Off-session windows relative to the regular open/close (KRX rules since 2016-08-01): the one
# definition, used by the pipelines' calendar (``Session.phase``) and the API's market status.
PRE_MARKET = (timedelta(minutes=-30), timedelta(minutes=-20))  # 08:30-08:40 closing-price trades
AFTER_HOURS_CLOSING = (timedelta(minutes=10), timedelta(minutes=30))  # 15:40-16:00
AFTER_HOURS_SINGLE_PRICE = (timedelta(minutes=30), timedelta(minutes=150))  # 16:00-18:00

# Quotes and order books are snapshotted this often in the regular session (the schedule's cron);
# a quote older than this during the session is late, and the API says so.
QUOTE_SNAPSHOT_MINUTES = 5

MarketStatus = Literal["pre_market", "open", "after_hours", "closed", "holiday"]


def market_status(at: datetime, session: tuple[datetime, datetime] | None) -> MarketStatus:
    """The market's state at ``at`` (aware), given that KST day's session ``(open, close)`` from
    the KRX calendar, or None when the day has none (a holiday or a weekend). Pre-market runs from
    the first off-session window (08:30) to the open (the opening auction's orders), after-hours
    over both after-hours sessions (15:40-18:00)."""
    if session is None:
        return "holiday"
    opens, closes = session
    if opens + PRE_MARKET[0] <= at < opens:
        return "pre_market"
    if opens <= at < closes:
        return "open"
    if closes + AFTER_HOURS_CLOSING[0] <= at < closes + AFTER_HOURS_SINGLE_PRICE[1]:
        return "after_hours"
    return "closed"


def tick_size(price: float) -> int:
    """KRX tick size (호가단위) in KRW since 2023-01-25, KOSPI and KOSDAQ alike."""
    for limit, size in ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100),
                        (500_000, 500)):
        if price < limit:
            return size
    return 1_000


def to_tick(price: float) -> int:
    """The nearest price on the KRX tick grid."""
    size = tick_size(price)
    return int(round(price / size) * size)


def is_stock_code(value: str) -> bool:
    # fullmatch: ``$`` alone also matches before a trailing newline
    return bool(STOCK_CODE.fullmatch(value))


# prices arrive as floats (files) or Decimals (KIS parsers); both compare and print alike here
Price = float | Decimal


def is_halt(open_: Price | None, high: Price | None, low: Price | None, volume: Price | None) -> bool:
    """A session without trades: no volume and no open/high/low (zeros or missing)."""
    return volume == 0 and all(not v for v in (open_, high, low))


def bar_problem(open_: Price | None, high: Price | None, low: Price | None, close: Price,
                volume: Price | None) -> str | None:
    """Why a daily bar is not a valid price (``None`` when it is): the one OHLC rule for every
    source. A halt (see :func:`is_halt`) is valid; missing open/high/low are not judged."""
    if volume is not None and volume < 0:
        return f"volume must not be negative, got {_show(volume)}"
    if close <= 0:
        return f"close must be a positive price, got {_show(close)}"
    if is_halt(open_, high, low, volume):
        return None
    if any(v is not None and v <= 0 for v in (open_, high, low)):
        return "open, high and low must be positive prices"
    if high is not None and low is not None and high < low:
        return f"high {_show(high)} is below low {_show(low)}"
    return None


def _show(value: Price) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
