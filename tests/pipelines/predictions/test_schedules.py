"""Report and prediction schedules: reports on trading days only, news predictions at any hour."""

from datetime import datetime, timedelta

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator  # the daemon's tick iterator (tests only)

from azak_core.market import KST
from azak_core.runs import RANGE_END, RANGE_START
from azak_pipelines.defs.news.schedules import news_schedule
from azak_pipelines.defs.predictions.schedules import (
    news_predictions_schedule,
    predictions_request,
    stock_reports_schedule,
)
from azak_pipelines.defs.resources import Warehouse
from tests.pipelines.runs import run


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


def _ticks(schedule, start: datetime, end: datetime) -> list[datetime]:
    """The daemon's own ticks of ``schedule`` in ``[start, end)`` (Dagster's cron iterator)."""
    ticks = []
    for tick in cron_string_iterator(start.timestamp(), schedule.cron_schedule, schedule.execution_timezone):
        if tick >= end:
            return ticks
        ticks.append(tick)
    return ticks


# Saturday evening to Sunday morning, election day (3 June, closed) and Memorial Day (6 June)
CLOSED_HOURS = [(datetime(2025, 5, 31, 18, 0, tzinfo=KST), datetime(2025, 6, 1, 9, 0, tzinfo=KST)),
                (datetime(2025, 6, 2, 23, 0, tzinfo=KST), datetime(2025, 6, 3, 23, 59, tzinfo=KST)),
                (datetime(2025, 6, 5, 19, 0, tzinfo=KST), datetime(2025, 6, 7, 1, 0, tzinfo=KST))]
# what the worst case allows after the news tick that collects an article: its runs and the marts
COLLECTION_SETTLES = timedelta(minutes=5)


@pytest.mark.parametrize(("start", "end"), CLOSED_HOURS)
def test_an_article_of_any_hour_is_predicted_within_30_minutes(start, end):
    """For an article published at every minute of a weekend evening, a holiday and a late night:
    the first news tick after it collects it; the first prediction tick at least five minutes
    after that requests a run whose range holds the article's day (a tick skips only when every
    link is answered: the next test), within 30 minutes."""
    news = _ticks(news_schedule, start, end + timedelta(hours=1))
    predictions = _ticks(news_predictions_schedule, start, end + timedelta(hours=1))
    requests = {tick: predictions_request(tick) for tick in predictions}  # a tick with a link waiting
    published = start
    while published < end:
        collected = next(t for t in news if t > published)
        tick = next(t for t in predictions if t >= collected + COLLECTION_SETTLES)
        request = requests[tick]
        assert isinstance(request, dg.RunRequest), (published, request)
        day = str(published.astimezone(KST).date())
        assert request.tags[RANGE_START] <= day <= request.tags[RANGE_END], (published, request.tags)
        assert tick - published <= timedelta(minutes=15), published  # when the runs keep up
        published += timedelta(minutes=1)


def test_the_worst_case_when_the_marts_miss_a_prediction_tick_is_25_minutes():
    """Published a second after a news tick; collected 10 minutes later; the marts miss the
    prediction tick 5 minutes after that: the next one is 10 minutes later still."""
    start = datetime(2025, 6, 6, 22, 0, 1, tzinfo=KST)  # Memorial Day, 22:00:01
    collected = _ticks(news_schedule, start, start + timedelta(hours=1))[0]
    ticks = _ticks(news_predictions_schedule, collected + COLLECTION_SETTLES, start + timedelta(hours=1))
    assert ticks[1] - start < timedelta(minutes=25) < timedelta(minutes=30)


def test_a_tick_with_every_link_answered_skips_unless_the_freshness_rule_would_lapse(predictions_warehouse,
                                                                                     dagster_home):
    """A link waiting: a run; every link answered: a skip saying so (a run would ask nothing); an
    asset never materialized (its freshness rule would lapse): a run although nothing waits."""
    tick = datetime(2025, 2, 12, 10, 15, tzinfo=KST)  # article 9001 at 10:00, 9002 at 12:00
    warehouse = Warehouse(database_url=predictions_warehouse)
    instance = dg.DagsterInstance.get()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=PREDICTIONS))  # its rule holds
    waiting = tick_of(instance, warehouse, tick)
    assert isinstance(waiting, dg.RunRequest) and waiting.tags[RANGE_END] == "2025-02-12"
    run("news_predictions_job", ("2025-02-11", "2025-02-12"), instance=instance)  # both offline models
    answered = tick_of(instance, warehouse, tick)
    assert isinstance(answered, dg.SkipReason), answered
    assert answered.skip_message == ("nothing to predict: every salient link of 2025-02-11…2025-02-12 (2) answered "
                                     "by each of the 2 active model(s); 1 published after now")
    quiet = tick_of(instance, warehouse, datetime(2025, 3, 20, 10, 15, tzinfo=KST))  # no article those days
    assert isinstance(quiet, dg.SkipReason)
    assert quiet.skip_message == ("nothing to predict: no salient link of a watch-list stock on "
                                  "2025-03-19…2025-03-20 yet")
    instance.wipe_assets([PREDICTIONS])  # never materialized: its freshness rule would lapse, a run all the same
    assert isinstance(tick_of(instance, warehouse, tick), dg.RunRequest)


PREDICTIONS = dg.AssetKey(["computed", "news_predictions"])


def tick_of(instance: dg.DagsterInstance, warehouse: Warehouse, at: datetime):
    # closed on leaving: an open context keeps the instance's state storage as the process's
    # current one, and the next test that loads the definitions meets it after the instance is gone
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                   resources={"warehouse": warehouse}) as context:
        return news_predictions_schedule(context)
