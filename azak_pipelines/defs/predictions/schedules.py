"""Reports at 08:30, 13:05 and 16:00 KST on KRX trading days; news predictions every 10 minutes
around the clock, every day, for the articles linked so far.

News is collected at minutes 0, 10, 20… (``news_schedule``); predictions run five minutes later
(05, 15, 25…), when the collection and the marts it triggers have had time to finish. An article
published just after a collection is collected at most 10 minutes later and predicted 5 minutes
after that: 15 minutes at worst when the runs keep up, and 25 minutes when the marts miss one
prediction tick — within the 30 minutes promised for any hour of any day (evenings, weekends and
holidays included).
"""

from datetime import timedelta

import dagster as dg

from azak_core.market import KST
from azak_core.runs import RANGE_END, RANGE_START
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


@dg.schedule(cron_schedule="5-59/10 * * * *", job=news_predictions_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def news_predictions_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Predictions for the newly linked articles of yesterday and today, every 10 minutes of every
    day (append-only: links already predicted successfully are not asked again). Yesterday too: an
    article published at 23:58 is linked after midnight, in its own (yesterday's) partition."""
    at = context.scheduled_execution_time.astimezone(KST)
    return dg.RunRequest(run_key=f"news_predictions:{at:%Y-%m-%dT%H:%M}",
                         tags={RANGE_START: str(at.date() - timedelta(days=1)), RANGE_END: str(at.date())})
