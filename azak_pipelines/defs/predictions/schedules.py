"""Reports at 08:30, 13:05 and 16:00 KST on KRX trading days; news predictions every 10 minutes
of a trading day's working hours, for the articles linked so far."""

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.predictions.jobs import news_predictions_job, stock_reports_job
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar


def trading_day_request(context: dg.ScheduleEvaluationContext, name: str) -> dg.RunRequest | dg.SkipReason:
    """Today's partition on a trading day, or why not."""
    at = context.scheduled_execution_time.astimezone(KST)
    calendar = krx_calendar()
    if not calendar.is_trading_day(at.date()):
        return dg.SkipReason(f"{at.date()} is not a KRX trading day ({calendar.closure_reason(at.date())})")
    return dg.RunRequest(run_key=f"{name}:{at:%Y-%m-%dT%H:%M}", partition_key=str(at.date()),
                         tags={"azak/slot": f"{at:%H:%M}"})


@dg.schedule(cron_schedule=["30 8 * * 1-5", "5 13 * * 1-5", "0 16 * * 1-5"], job=stock_reports_job,
             execution_timezone=KST.key, default_status=dg.DefaultScheduleStatus.RUNNING)
def stock_reports_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Watch-list reports before the open (08:30), after lunch (13:05) and after the close (16:00)."""
    return trading_day_request(context, "stock_reports")


@dg.schedule(cron_schedule="*/10 7-18 * * 1-5", job=news_predictions_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def news_predictions_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Predictions for today's newly linked articles every 10 minutes, 07:00–18:59 on trading days
    (append-only: links already predicted successfully are not asked again)."""
    return trading_day_request(context, "news_predictions")
