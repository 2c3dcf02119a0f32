"""When market data is collected (KST), gated by the KRX calendar.

Each schedule runs by default and decides at evaluation time: it skips with a reason on closed
days, outside its session window, and in replay mode (the bundled recordings hold nothing new).
"""

from datetime import date, datetime, timedelta

import dagster as dg

from azak_core.market import KST, QUOTE_SNAPSHOT_MINUTES
from azak_core.runs import range_tags
from azak_pipelines.defs.market.jobs import (
    daily_prices_job,
    fundamentals_job,
    index_overtime_job,
    investor_flows_job,
    market_wide_job,
    minute_prices_job,
    quote_snapshots_job,
    retention_job,
)
from azak_pipelines.defs.market.resources import KisResource
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

TZ = KST.key
DAILY_PRICES = dg.AssetKey(["raw", "daily_prices"])


def _local(context: dg.ScheduleEvaluationContext) -> datetime:
    return context.scheduled_execution_time.astimezone(KST)


def gate(context: dg.ScheduleEvaluationContext, kis: KisResource,
         phases: set[str] | None = None) -> dg.SkipReason | date:
    """The KST day to collect, or why not."""
    if kis.mode() != "live":
        return dg.SkipReason("KIS is in replay mode: the bundled recordings hold no new data")
    at = _local(context)
    calendar = krx_calendar()
    if not calendar.is_trading_day(at.date()):
        return dg.SkipReason(f"{at.date()} is not a KRX trading day ({calendar.closure_reason(at.date())})")
    if phases is not None and calendar.phase(at) not in phases:
        return dg.SkipReason(f"{at:%H:%M} KST is outside the session ({calendar.phase(at)})")
    return at.date()


def _request(context: dg.ScheduleEvaluationContext, kis: KisResource, name: str,
             phases: set[str] | None = None) -> dg.RunRequest | dg.SkipReason:
    day = gate(context, kis, phases)
    if isinstance(day, dg.SkipReason):
        return day
    return dg.RunRequest(run_key=f"{name}:{_local(context):%Y-%m-%dT%H:%M}", partition_key=str(day),
                         tags={"azak/source": "kis"})


@dg.schedule(cron_schedule="40 15 * * 1-5", job=daily_prices_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_prices_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Today's daily bars at 15:40, after the closing auction."""
    return _request(context, kis, "daily_prices")


@dg.schedule(cron_schedule="* 9-15 * * 1-5", job=minute_prices_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def minute_prices_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Top up today's one-minute bars every minute of the regular session."""
    return _request(context, kis, "minute_prices", {"regular"})


@dg.schedule(cron_schedule=f"*/{QUOTE_SNAPSHOT_MINUTES} 9-15 * * 1-5", job=quote_snapshots_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def quote_snapshots_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """A quote and order-book snapshot every five minutes of the regular session."""
    return _request(context, kis, "quote_snapshots", {"regular"})


@dg.schedule(cron_schedule=f"*/{QUOTE_SNAPSHOT_MINUTES} 9-15 * * 1-5", job=market_wide_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def market_wide_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """KIS's rankings and the index (sector) levels every five minutes of the regular session and
    of the closing-price window (15:40-16:00), whose runs keep the day's final ranking. Skipped on
    a paper account, where KIS refuses these TRs."""
    if kis.mode() == "live" and kis.env != "real":
        return dg.SkipReason(f"KIS offers the rankings and index levels on real accounts only "
                             f"(AZAK_KIS_ENV={kis.env}); set AZAK_KIS_ENV=real to collect them")
    return _request(context, kis, "market_wide", {"regular", "after_hours_closing"})


@dg.schedule(cron_schedule="0 16 * * 1-5", job=investor_flows_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def investor_flows_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Investor flows at 16:00 (KIS may revise them later; the healing run re-reads 30 sessions)."""
    return _request(context, kis, "investor_flows")


@dg.schedule(cron_schedule="0 18 * * 1-5", job=index_overtime_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def index_overtime_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Index levels and after-hours results at 18:00, when the after-hours session has ended."""
    return _request(context, kis, "index_overtime")


@dg.schedule(cron_schedule="0 2 * * 0", job=fundamentals_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def fundamentals_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Financial ratios and product info, Sundays at 02:00."""
    if kis.mode() != "live":
        return dg.SkipReason("KIS is in replay mode: the bundled recordings hold no new data")
    return dg.RunRequest(run_key=f"fundamentals:{_local(context):%Y-%m-%d}", tags={"azak/source": "kis"})


def missing_sessions(materialized: set[str], sessions: list[date]) -> list[date]:
    """Trading days whose daily partition has no successful materialization."""
    return [day for day in sessions if str(day) not in materialized]


@dg.schedule(cron_schedule="30 19 * * *", job=daily_prices_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def price_gaps_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Nightly: find daily-price partitions missing or failed within the look-back window
    (the KIS resource's ``heal_lookback_days``, default 10 calendar days) and refill them in one run."""
    if kis.mode() != "live":
        return dg.SkipReason("KIS is in replay mode: the bundled recordings hold no new data")
    lookback = kis.heal_lookback_days
    today = _local(context).date()
    sessions = krx_calendar().sessions_between(today - timedelta(days=lookback), today + timedelta(days=1))
    materialized = context.instance.get_materialized_partitions(DAILY_PRICES)
    missing = missing_sessions(materialized, sessions)
    if not missing:
        return dg.SkipReason(f"no gaps in the last {lookback} days ({len(sessions)} sessions)")
    return dg.RunRequest(
        run_key=f"price_gaps:{today}",
        tags={**range_tags(str(missing[0]), str(missing[-1])), "azak/source": "kis",
              "azak/healing": ",".join(map(str, missing))},
    )


@dg.schedule(cron_schedule="30 4 * * *", job=retention_job, execution_timezone=TZ,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def retention_schedule(context: dg.ScheduleEvaluationContext, kis: KisResource) -> dg.RunRequest | dg.SkipReason:
    """Nightly at 04:30, when nothing collects or rebuilds the intraday tables: drop their monthly
    children past the retention window. Most nights find nothing to drop (a catalog read); running
    daily means a failed night is caught up the next."""
    if kis.mode() != "live":
        return dg.SkipReason("KIS is in replay mode: the bundled recordings are a fixed past that "
                             "retention counted from today would empty")
    day = _local(context).date()
    return dg.RunRequest(run_key=f"retention:{day}",
                         run_config={"ops": {"drop_expired_partitions": {"config": {"as_of": str(day)}}}})
