"""Freshness rules: when an asset must have been updated, and whether it was.

Two kinds of rule. ``MaxAge`` ignores the calendar (news every 10 minutes, any day): Dagster's own
freshness policy expresses it too. ``TradingDayDeadline`` follows the KRX calendar: on every trading
day an update made at or after ``after`` (KST) must exist by ``after + grace``; on a holiday the
last trading day's deadline still holds, so a closed market is never stale.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar, kst_day


@dataclass(frozen=True)
class MaxAge:
    """Updated at most ``limit`` ago, whatever the day."""

    limit: timedelta

    def __str__(self) -> str:
        return f"updated within the last {_span(self.limit)}, any day"


@dataclass(frozen=True)
class TradingDayDeadline:
    """On each KRX trading day, updated at or after ``after`` KST, at the latest by ``after + grace``."""

    after: time
    grace: timedelta

    def __str__(self) -> str:
        return (f"on every KRX trading day, updated after {self.after:%H:%M} KST "
                f"(stale from {self.deadline_time():%H:%M} KST); never stale on a holiday")

    def deadline_time(self) -> time:
        return (datetime.combine(datetime(2000, 1, 1), self.after) + self.grace).time()


Rule = MaxAge | TradingDayDeadline


@dataclass(frozen=True)
class Verdict:
    fresh: bool
    due_since: datetime  # the update the rule asks for must be at or after this instant
    message: str


def due_since(rule: Rule, now: datetime) -> datetime:
    """The instant from which an update must exist at ``now``."""
    if isinstance(rule, MaxAge):
        return now - rule.limit
    calendar = krx_calendar()
    day = calendar.previous_session(kst_day(now), inclusive=True)
    while True:
        start = datetime.combine(day, rule.after, KST)
        if start + rule.grace <= now:
            return start
        day = calendar.previous_session(day)


def judge(rule: Rule, last_update: datetime | None, now: datetime) -> Verdict:
    """Whether an asset last updated at ``last_update`` (None: never) satisfies ``rule`` at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    since = due_since(rule, now)
    if last_update is None:
        return Verdict(False, since, f"never materialized; the rule: {rule}")
    last = last_update.astimezone(KST)
    if last >= since:
        return Verdict(True, since, f"fresh: last update {last:%Y-%m-%d %H:%M} KST; the rule: {rule}")
    return Verdict(False, since, f"stale: last update {last:%Y-%m-%d %H:%M} KST, an update since "
                                 f"{since.astimezone(KST):%Y-%m-%d %H:%M} KST was due; the rule: {rule}")


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} day(s)"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minutes"
