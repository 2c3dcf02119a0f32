"""The nightly evaluation, after the close and the evening market data (KST, trading days)."""

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.evaluation.jobs import evaluation_job
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar


@dg.schedule(cron_schedule="0 20 * * 1-5", job=evaluation_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def evaluation_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """20:00 KST on trading days (after daily bars 15:40, index 18:00 and the 19:30 price healer):
    re-evaluate every prediction that is not final yet, then scores, leaderboard and A/B."""
    day = context.scheduled_execution_time.astimezone(KST).date()
    calendar = krx_calendar()
    if not calendar.is_trading_day(day):
        return dg.SkipReason(f"{day} is not a KRX trading day ({calendar.closure_reason(day)})")
    return dg.RunRequest(run_key=f"evaluation:{day}")
