"""Report and prediction schedules run on KRX trading days only, for today's partition."""

from datetime import datetime

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.predictions.schedules import news_predictions_schedule, stock_reports_schedule


def evaluate(schedule, at: datetime):
    context = dg.build_schedule_context(instance=dg.DagsterInstance.ephemeral(), scheduled_execution_time=at)
    return schedule(context)


def test_reports_at_the_three_slots_of_a_trading_day():
    assert stock_reports_schedule.cron_schedule == ["30 8 * * 1-5", "5 13 * * 1-5", "0 16 * * 1-5"]
    assert stock_reports_schedule.execution_timezone == "Asia/Seoul"
    for hour, minute in ((8, 30), (13, 5), (16, 0)):
        request = evaluate(stock_reports_schedule, datetime(2025, 6, 4, hour, minute, tzinfo=KST))
        assert isinstance(request, dg.RunRequest) and request.partition_key == "2025-06-04"
        assert request.tags["azak/slot"] == f"{hour:02d}:{minute:02d}"


def test_closed_days_are_skipped_with_the_reason():
    result = evaluate(stock_reports_schedule, datetime(2025, 6, 3, 8, 30, tzinfo=KST))  # election day
    assert isinstance(result, dg.SkipReason) and "not a KRX trading day" in result.skip_message
    result = evaluate(news_predictions_schedule, datetime(2025, 6, 3, 10, 0, tzinfo=KST))
    assert isinstance(result, dg.SkipReason)
