"""The daily partitions count their keys by date arithmetic and give exactly Dagster's own keys."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from azak_pipelines.defs.calendar.partitions import KstDays, market_days, news_days


def dagsters_own(partitions: KstDays) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=partitions.start.strftime("%Y-%m-%d"),
                                        timezone=partitions.timezone, end_offset=partitions.end_offset)


# around KST midnight (15:00 UTC) on a month's, a year's and a leap day's turn, and today
TIMES = [datetime(2025, 6, 6, 14, 59, 59, tzinfo=UTC), datetime(2025, 6, 6, 15, 0, tzinfo=UTC),
         datetime(2024, 12, 31, 15, 0, 1, tzinfo=UTC), datetime(2024, 2, 28, 15, 30, tzinfo=UTC),
         datetime(2015, 1, 1, 0, 0, tzinfo=UTC), datetime(1990, 1, 1, 12, 0, tzinfo=UTC), None]


@pytest.mark.parametrize("partitions", [market_days, news_days], ids=["market", "news"])
@pytest.mark.parametrize("now", TIMES)
def test_the_keys_are_dagsters_own_whatever_the_time(partitions: KstDays, now: datetime | None):
    own = dagsters_own(partitions)
    assert partitions == own  # what Dagster stores and compares stays a plain daily definition
    assert list(partitions.get_partition_keys(current_time=now)) == own.get_partition_keys(current_time=now)


def test_the_keys_follow_the_time_dagster_evaluates_at():
    """An unpartitioned step reads every key through Dagster's all-partitions subset, at the time of
    the partition loading context (the daemon's tick, a simulated clock), not the wall clock."""
    at = datetime(2025, 6, 9, 0, 30, tzinfo=UTC)  # 09:30 KST
    instance = dg.DagsterInstance.ephemeral()
    for now in (at, at + timedelta(days=1)):
        with dg.partition_loading_context(now, instance):
            every = dg.AllPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
                None, None, market_days).partitions_subset
            assert type(every).__name__ == "AllPartitionsSubset"  # the subset whose keys Dagster lists
            keys = every.get_partition_keys()
        assert list(keys) == dagsters_own(market_days).get_partition_keys(current_time=now)
        assert keys[-1] == (now + timedelta(hours=9)).date().isoformat()  # end_offset=1: the day in progress too


def test_days_with_another_format_or_hour_are_left_to_dagster():
    for kwargs in ({"fmt": "%Y%m%d", "start_date": "20240101"}, {"hour_offset": 6}, {"minute_offset": 30}):
        kwargs = {"start_date": "2024-01-01", "timezone": "Asia/Seoul", "end_offset": 1, **kwargs}
        ours, own = KstDays(**kwargs), dg.DailyPartitionsDefinition(**kwargs)
        assert list(ours.get_partition_keys()) == own.get_partition_keys(), kwargs
