"""`azak simulate`'s engine on a short window from a Sunday night into a trading day: the daemon's
own schedules, sensors and automation requested the runs, which executed in order on the simulated
clock, and the news sites answered what was published by then (the recordings hold no news of
weekends: the RSS feeds carry generated items for Sunday)."""

import itertools
from datetime import datetime, timedelta

import dagster as dg
import psycopg
import pytest

from azak_api.admin import run_migrations
from azak_cli.simulate.engine import TICK, Simulation
from azak_cli.simulate.ledger import articles_linked_within_a_tick, asset_children, marts_follow_raw
from azak_cli.simulate.sources import live_news
from azak_pipelines.lib.calendar.krx_calendar import KST
from tests.cli.simulation import watchlist_seen
from tests.pipelines.runs import definitions

SUNDAY_NIGHT = datetime(2025, 6, 8, 23, 55, tzinfo=KST)  # after Memorial Day (Friday) and the weekend
# a fixed cost per run, so that the 5-minute expectations hold whatever the machine's load: about
# what a run's own work takes on a quiet machine (dbt reported 4–12 s per marts build, docs/simulation.md)
RUN_COST = 10.0


@pytest.mark.slow
def test_a_sunday_night_collects_and_links_news_on_the_simulated_clock(warehouse_with_stocks, dagster_home):
    run_migrations(warehouse_with_stocks)  # the model registry: what the prediction runs read
    with live_news():
        code, instance = definitions(), dg.DagsterInstance.get()
        simulation = Simulation(code, instance, SUNDAY_NIGHT, SUNDAY_NIGHT + 3 * TICK, say=lambda line: None,
                                run_cost=RUN_COST, sensor_cursors=watchlist_seen(code, instance))
        runs = simulation.run()
    by_job = {}
    for record in runs:
        by_job.setdefault(record.request.job or record.request.origin, []).append(record)
    # ticks 23:55, 00:00, 00:05: the news schedule fires at 00:00 (every 10 minutes, any day),
    # the predictions schedule at 23:55 (Sunday) and 00:05: at 23:55 its asset was never materialized
    # (its freshness rule would lapse: a run), at 00:05 no salient link waits (this bare warehouse
    # has no link marts: the automation waits for marts it never built, below) and the tick skips
    news = by_job["news_job"]
    assert [r.request.origin for r in news] == ["news_schedule"]
    assert all(r.success for r in news), [r.failure for r in news]
    # the first tick after 23:55 that fires: 00:00 (after the freshness checks' run of that tick)
    assert datetime(2025, 6, 9, 0, 0, tzinfo=KST) <= news[0].at < datetime(2025, 6, 9, 0, 5, tzinfo=KST)
    assert dict(news[0].request.tags)["dagster/asset_partition_range_end"] == "2025-06-09"
    predictions = by_job["news_predictions_job"]  # on a Sunday night too (was trading days 07:00-18:59)
    assert [r.request.origin for r in predictions] == ["news_predictions_schedule"]
    assert all(r.success for r in predictions), [r.failure for r in predictions]
    assert predictions[0].at == SUNDAY_NIGHT
    # runs in order, each starting no earlier than the previous one's simulated end
    for before, after in itertools.pairwise(runs):
        assert after.at >= before.at + timedelta(seconds=before.seconds)
    # the runs saw the simulated clock: the news was fetched "at" 00:00 KST, not today, and nothing
    # published after it was served (Monday's recorded articles come later that day)
    with psycopg.connect(warehouse_with_stocks) as conn:
        fetched = conn.execute(
            "SELECT min(fetched_at), max(fetched_at), count(*), count(*) FILTER (WHERE published_at > fetched_at) "
            "FROM (SELECT fetched_at, published_at FROM raw.naver_finance_news UNION ALL "
            "SELECT fetched_at, published_at FROM raw.hankyung_news) AS news").fetchone()
    assert fetched[2] > 0 and fetched[3] == 0
    assert news[0].at <= fetched[0] <= fetched[1] < SUNDAY_NIGHT + timedelta(hours=1)
    run = dg.DagsterInstance.get().get_run_by_id(news[0].run_id)
    assert run.tags["azak/simulated"] == "true"
    # the ledger's timing expectations on these runs: every article collected was linked within a
    # tick (by the news run itself); the automation rebuilt marts.news_articles at the next tick,
    # within 5 minutes of the news run, but not the news marts below tables this bare warehouse never
    # built (the stock list's staging view, the daily prices: eager waits for a missing mart), which
    # the expectation names
    with psycopg.connect(warehouse_with_stocks) as conn:
        assert conn.execute("SELECT count(*) FROM computed.news_articles WHERE first_seen_at >= %s",
                            (SUNDAY_NIGHT,)).fetchone()[0] > 0
        assert articles_linked_within_a_tick(conn, runs, SUNDAY_NIGHT, SUNDAY_NIGHT + 3 * TICK) == []
    marts = [r for r in runs if "marts/news_articles" in r.materialized]
    assert len(marts) == 1 and marts[0].ended <= news[0].ended + timedelta(minutes=5), marts
    assert marts_follow_raw(runs, asset_children(definitions()), SUNDAY_NIGHT + 3 * TICK) == [
        "marts/news_figures, marts/news_price_impact, marts/news_stock_matches, marts/similar_news_outcomes not "
        f"written within 0:05:00 of {news[0].request.label}, which wrote raw data until "
        f"{news[0].ended.astimezone(KST):%Y-%m-%d %H:%M:%S} KST"]
