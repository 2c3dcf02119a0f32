"""A poll that stores nothing new costs only the poll: the daemon's automation (evaluated as the
simulation evaluates it, over the automation sensor's selection, on a real instance) follows a news
run that stored new articles with the marts below them, and asks for nothing after a news run that
found the same articles again (the assets report the data version of what they hold:
``azak_pipelines/defs/versions.py``, ``azak_pipelines/defs/automation.py``)."""

from datetime import datetime, timedelta

import dagster as dg
import pytest

from azak_api.admin import run_migrations
from azak_cli.simulate.engine import Simulation
from azak_cli.simulate.ledger import asset_children, marts_follow_raw
from azak_cli.simulate.sources import live_news
from azak_core import clock
from azak_pipelines.lib.calendar.krx_calendar import KST
from tests.cli.simulation import watchlist_seen
from tests.pipelines.runs import definitions

MONDAY = datetime(2025, 6, 9, 10, 0, tzinfo=KST)  # the news sites have published that day's first articles
NEWS = ("raw/naver_finance_news", "raw/hankyung_news", "raw/maeil_news", "raw/reddit_posts",
        "computed/news_articles", "computed/news_stock_matches")


@pytest.mark.slow
def test_a_news_run_that_stored_nothing_new_is_followed_by_nothing(warehouse_with_stocks, dagster_home):
    run_migrations(warehouse_with_stocks)
    with live_news():  # the sources' addresses and modes are read when the definitions load
        code, instance = definitions(), dg.DagsterInstance.get()
        simulation = Simulation(code, instance, MONDAY, MONDAY + timedelta(hours=1), say=lambda line: None,
                                run_cost=10.0, sensor_cursors=watchlist_seen(code, instance))
        simulation.now = MONDAY
        with clock.simulated(lambda: simulation.now):
            assert simulation._automation() == []  # the first evaluation only sets the cursor
            news = next(r for r in simulation._schedules(MONDAY - timedelta(minutes=1), MONDAY)
                        if r.job == "news_job")

            def poll() -> list[str]:
                """The news run at the same simulated instant (the sites answer the same), then what
                the automation asks for (evaluated whatever the simulation's sampling would skip)."""
                simulation.now = MONDAY
                record = simulation.execute(news)
                simulation.runs.append(record)
                assert record.success, record.failure
                asked = simulation.evaluate_automation()
                return [key.to_user_string() for request in asked for key in request.assets]

            first = poll()
            again = poll()
            # the simulation's sampling then skips the evaluation after a poll that changed nothing
            # (the cursor stays), and evaluates again after one that changed data
            cursor = simulation.automation_cursor
            simulation.runs.append(simulation.execute(news))
            assert simulation._automation() == [] and simulation.automation_cursor is cursor
            simulation.runs[-1].changed = ("raw/naver_finance_news",)
            simulation._automation()
            assert simulation.automation_cursor is not cursor
    collected, repeated, _ = simulation.runs
    # the first poll stored the day's articles: they changed, and the marts below follow
    assert set(collected.materialized) >= set(NEWS) and set(collected.changed or ()) >= set(NEWS)
    assert "marts/news_articles" in first
    # the second found the same items: every asset was materialized (the runs, the checks, the
    # freshness rules see it), none changed, and the automation asks for nothing
    assert set(repeated.materialized) >= set(NEWS)
    assert repeated.changed == ()
    assert again == []
    # and the ledger does not expect the marts to follow a poll that changed nothing
    end = repeated.ended + timedelta(hours=1)
    assert marts_follow_raw([repeated], asset_children(code), end) == []
