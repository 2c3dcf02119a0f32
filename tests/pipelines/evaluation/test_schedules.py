"""The nightly evaluation runs after the close on KRX trading days only."""

from datetime import datetime

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.evaluation.schedules import evaluation_schedule


def evaluate(at: datetime):
    return evaluation_schedule(dg.build_schedule_context(instance=dg.DagsterInstance.ephemeral(),
                                                         scheduled_execution_time=at))


def test_a_trading_day_runs_the_evaluation_once():
    request = evaluate(datetime(2025, 6, 4, 20, 0, tzinfo=KST))
    assert isinstance(request, dg.RunRequest) and request.run_key == "evaluation:2025-06-04"


def test_a_closed_day_is_skipped_with_the_reason():
    skipped = evaluate(datetime(2025, 6, 3, 20, 0, tzinfo=KST))  # the presidential election
    assert isinstance(skipped, dg.SkipReason) and "2025-06-03 is not a KRX trading day" in skipped.skip_message
    assert isinstance(evaluate(datetime(2025, 5, 5, 20, 0, tzinfo=KST)), dg.SkipReason)


def test_the_schedule_is_after_the_evening_market_data():
    assert evaluation_schedule.cron_schedule == "0 20 * * 1-5"
    assert evaluation_schedule.execution_timezone == "Asia/Seoul"
