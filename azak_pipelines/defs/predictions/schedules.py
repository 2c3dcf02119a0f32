"""Reports at 08:30, 13:05 and 16:00 KST on KRX trading days; news predictions every 10 minutes
around the clock, every day, for the articles linked so far (a tick with nothing to ask skips).

News is collected at minutes 0, 10, 20… (``news_schedule``); predictions run five minutes later
(05, 15, 25…), when the collection and the marts it triggers have had time to finish. An article
published just after a collection is collected at most 10 minutes later and predicted 5 minutes
after that: 15 minutes at worst when the runs keep up, and 25 minutes when the marts miss one
prediction tick — within the 30 minutes promised for any hour of any day (evenings, weekends and
holidays included).
"""

from datetime import datetime, timedelta

import dagster as dg

from azak_core.market import KST
from azak_core.runs import RANGE_END, RANGE_START
from azak_pipelines.defs.common import Window
from azak_pipelines.defs.freshness.checks import last_updates
from azak_pipelines.defs.freshness.rules import RULES
from azak_pipelines.defs.predictions.assets import nothing_to_predict
from azak_pipelines.defs.predictions.jobs import news_predictions_job, stock_reports_job
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from azak_pipelines.lib.freshness import judge

TICK = timedelta(minutes=10)  # the schedule's pace


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


def predictions_window(at: datetime) -> Window:
    """The days a tick at ``at`` predicts: yesterday and today (KST). Yesterday too: an article
    published at 23:58 is linked after midnight, in its own (yesterday's) partition."""
    today = at.astimezone(KST).date()
    return Window(today - timedelta(days=1), today + timedelta(days=1))


def predictions_request(at: datetime) -> dg.RunRequest:
    """The run a tick at ``at`` asks for: :func:`predictions_window`'s days."""
    window = predictions_window(at)
    return dg.RunRequest(run_key=f"news_predictions:{at.astimezone(KST):%Y-%m-%dT%H:%M}",
                         tags={RANGE_START: str(window.start), RANGE_END: str(window.last)})


@dg.schedule(cron_schedule="5-59/10 * * * *", job=news_predictions_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def news_predictions_schedule(context: dg.ScheduleEvaluationContext,
                              warehouse: Warehouse) -> dg.RunRequest | dg.SkipReason:
    """Predictions for the newly linked articles of yesterday and today, every 10 minutes of every
    day (append-only: links already predicted successfully are not asked again). A tick at which
    every link is answered skips (a run would ask nothing: 144 such runs a day before), unless the
    asset's freshness rule would lapse before the next tick (then a run, which records the day)."""
    at = context.scheduled_execution_time
    request = predictions_request(at)
    key = dg.AssetKey(["computed", "news_predictions"])
    last = last_updates(context.instance, [key])[key]
    if not judge(RULES[key.to_user_string()], last, at + TICK).fresh:
        return request
    with warehouse.connect() as conn:
        why = nothing_to_predict(conn, predictions_window(at), at)
    return request if why is None else dg.SkipReason(f"nothing to predict: {why}")
