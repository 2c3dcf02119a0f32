"""Freshness rules against the KRX calendar: a trading day's deadline, a holiday never stale."""

from datetime import UTC, datetime, time, timedelta

import pytest

from azak_pipelines.lib.calendar.krx_calendar import KST
from azak_pipelines.lib.freshness import MaxAge, TradingDayDeadline, due_since, judge

DAILY_BARS = TradingDayDeadline(time(15, 40), timedelta(minutes=30))


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)


def test_before_the_deadline_yesterdays_update_is_what_is_due():
    # Friday 2025-10-10 16:00 KST: today's 15:40 bars are not late until 16:10
    assert due_since(DAILY_BARS, kst(2025, 10, 10, 16, 0)) == kst(2025, 10, 2, 15, 40)
    assert due_since(DAILY_BARS, kst(2025, 10, 10, 16, 10)) == kst(2025, 10, 10, 15, 40)


def test_a_trading_day_without_its_update_is_stale_after_the_grace():
    verdict = judge(DAILY_BARS, kst(2025, 10, 10, 9, 0), kst(2025, 10, 10, 16, 30))
    assert not verdict.fresh
    assert "2025-10-10 15:40 KST was due" in verdict.message
    assert judge(DAILY_BARS, kst(2025, 10, 10, 15, 45), kst(2025, 10, 10, 16, 30)).fresh


def test_the_chuseok_holidays_are_never_stale():
    # the last session before Chuseok and Hangul day is Thursday 2025-10-02; 10-03 … 10-09 are closed
    updated = kst(2025, 10, 2, 15, 41)
    for day in range(3, 10):
        assert judge(DAILY_BARS, updated, kst(2025, 10, day, 23, 0)).fresh, day
    assert not judge(DAILY_BARS, updated, kst(2025, 10, 10, 16, 11)).fresh


def test_max_age_ignores_the_calendar():
    rule = MaxAge(timedelta(minutes=30))
    sunday = kst(2025, 10, 5, 12, 0)
    assert judge(rule, sunday - timedelta(minutes=29), sunday).fresh
    assert not judge(rule, sunday - timedelta(minutes=31), sunday).fresh


def test_never_materialized_is_stale_and_says_so():
    verdict = judge(MaxAge(timedelta(minutes=30)), None, datetime(2025, 10, 5, tzinfo=UTC))
    assert not verdict.fresh and verdict.message.startswith("never materialized")


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        judge(DAILY_BARS, None, datetime(2025, 10, 5))
