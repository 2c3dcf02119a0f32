"""Partitions: calendar days in Asia/Seoul. Assets that need trading days ask the KRX calendar.

``end_offset=1`` makes today's partition exist while the day is in progress, so intraday runs
(minute bars, quotes, news) write into it.
"""

import dagster as dg

from azak_core.market import KST

# Market history reaches back to KRX's electronic era; file imports cover it.
MARKET_START = "1990-01-01"
# News has no value before the feeds we read existed.
NEWS_START = "2015-01-01"

market_days = dg.DailyPartitionsDefinition(
    start_date=MARKET_START, timezone=KST.key, end_offset=1
)
news_days = dg.DailyPartitionsDefinition(
    start_date=NEWS_START, timezone=KST.key, end_offset=1
)
