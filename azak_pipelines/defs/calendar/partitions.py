"""Partitions: calendar days in Asia/Seoul. Assets that need trading days ask the KRX calendar.

``end_offset=1`` makes today's partition exist while the day is in progress, so intraday runs
(minute bars, quotes, news) write into it.
"""

import functools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import dagster as dg

from azak_core.market import KST

# Market history reaches back to KRX's electronic era; file imports cover it.
MARKET_START = "1990-01-01"
# News has no value before the feeds we read existed.
NEWS_START = "2015-01-01"


class KstDays(dg.DailyPartitionsDefinition):
    """Daily partitions whose whole list of keys is counted out by date arithmetic.

    Dagster asks for every key wherever an unpartitioned step reads a partitioned asset (each
    freshness check's target, each partitioned dependency of a dbt marts step) only to see that
    there are over 100 of them, and builds the list by walking a cron iterator: ~110 ms for the
    13,489 market days, about 2 s of every 10-minute freshness run. The same keys counted from dates
    take ~15 ms, once a day (``tests/pipelines/test_partitions.py`` holds them equal to Dagster's own).
    """

    def get_partition_keys(self, current_time: datetime | None = None,
                           dynamic_partitions_store: Any = None) -> Sequence[str]:
        if self.fmt != "%Y-%m-%d" or self.exclusions or self.start.hour or self.start.minute:
            # only plain ISO days at midnight are counted here; anything else is Dagster's to list
            return super().get_partition_keys(current_time, dynamic_partitions_store)
        with dg.partition_loading_context(current_time, dynamic_partitions_store):
            last = self.get_last_partition_key()
        return () if last is None else days_between(self.start.strftime("%Y-%m-%d"), last)


@functools.lru_cache(maxsize=8)
def days_between(first: str, last: str) -> tuple[str, ...]:
    """Every ISO day from ``first`` to ``last``, both included (kept: the last key moves once a day)."""
    start = date.fromisoformat(first)
    return tuple((start + timedelta(days=i)).isoformat() for i in range((date.fromisoformat(last) - start).days + 1))


market_days = KstDays(start_date=MARKET_START, timezone=KST.key, end_offset=1)
news_days = KstDays(start_date=NEWS_START, timezone=KST.key, end_offset=1)
