"""The simulation's cron reading agrees with Dagster's own tick iterator for every schedule of the
code location, minute by minute over a week with a weekend and a holiday; what a tick asks for
becomes as few runs as the requests and the assets' backfill policies allow."""

from datetime import datetime, timedelta

import dagster as dg
from dagster._utils.schedules import cron_string_iterator  # the daemon's tick iterator (tests only)

from azak_cli.simulate.cron import fires
from azak_cli.simulate.requests import Request, automation_runs, merged
from azak_pipelines.lib.calendar.krx_calendar import KST
from tests.pipelines.runs import definitions

START = datetime(2025, 5, 31, 0, 0, tzinfo=KST)  # Saturday; 3 June closed (election), 6 June Memorial Day
END = START + timedelta(days=7)


def _daemon_ticks(cron: str | list[str]) -> set[datetime]:
    ticks: set[datetime] = set()
    for expression in [cron] if isinstance(cron, str) else cron:
        for tick in cron_string_iterator(START.timestamp() - 1, expression, KST.key):
            if tick >= END:
                break
            ticks.add(tick)
    return ticks


def test_every_schedule_fires_at_the_minutes_the_daemon_ticks():
    schedules = definitions().get_repository_def().schedule_defs
    assert len(schedules) >= 10
    minutes = [START + timedelta(minutes=i) for i in range(int((END - START).total_seconds() // 60))]
    for schedule in schedules:
        daemon = _daemon_ticks(schedule.cron_schedule)
        ours = {m for m in minutes if fires(schedule.cron_schedule, m)}
        assert ours == daemon, schedule.name
        assert daemon, schedule.name  # each fires at least once in a week (the test compares something)


def test_requests_for_the_same_job_and_partition_within_a_tick_make_one_run():
    minute_bars = [Request("minute_prices_schedule", "minute_prices_job", partition="2025-06-09",
                           tags=(("azak/source", "kis"),)) for _ in range(5)]
    other_day = Request("minute_prices_schedule", "minute_prices_job", partition="2025-06-10")
    news = Request("news_schedule", "news_job", tags=(("dagster/asset_partition_range_end", "2025-06-09"),
                                                      ("dagster/asset_partition_range_start", "2025-06-08")))
    runs = merged([*minute_bars, other_day, news, news])
    assert [r.label for r in runs] == ["minute_prices_job[2025-06-09]", "minute_prices_job[2025-06-10]",
                                       "news_job[2025-06-08…2025-06-09]"]


EMBEDDINGS = (dg.AssetKey(["computed", "similar_news"]), dg.AssetKey(["milvus", "news_embeddings"]))
OUTBOX = dg.AssetKey(["app", "telegram_notifications"])
MARTS = (dg.AssetKey(["marts", "news_articles"]), dg.AssetKey(["staging", "stg_news__articles"]))


def test_the_automations_adjacent_days_of_one_asset_set_make_one_range_run():
    graph = definitions().resolve_asset_graph()
    days = ["2025-05-30", "2025-05-29", "2025-05-31", "2025-06-02"]  # 1 June missing: two spans
    requested = {**{key: days for key in EMBEDDINGS}, OUTBOX: ["2025-06-02"],
                 **{key: [None] for key in MARTS}}
    runs = automation_runs(graph, requested)
    assert [r.label for r in runs] == [
        "marts/news_articles,staging/stg_news__articles",  # unpartitioned: one run, whatever it holds
        "computed/similar_news,milvus/news_embeddings[2025-05-29…2025-05-31]",
        "app/telegram_notifications,computed/similar_news,milvus/news_embeddings[2025-06-02]"]
    assert runs[1].partition is None and runs[2].partition == "2025-06-02"  # a range; one day
    assert all(r.origin == "automation" for r in runs)


def test_a_range_run_never_exceeds_the_backfill_policys_partitions_per_run():
    from azak_cli.simulate.requests import contiguous

    daily = dg.DailyPartitionsDefinition("2025-01-01")
    days = [f"2025-01-{d:02d}" for d in (1, 2, 3, 4, 5, 7)]
    assert contiguous(daily, days, 2) == [["2025-01-01", "2025-01-02"], ["2025-01-03", "2025-01-04"],
                                          ["2025-01-05"], ["2025-01-07"]]
    assert contiguous(daily, list(reversed(days)), None) == [days[:5], days[5:]]


def test_a_schedules_context_reuses_the_simulations_instance_and_builds_only_its_resources(tmp_path, monkeypatch):
    """Pins Dagster's private ``ScheduleEvaluationContext._instance`` (engine.py sets it): a Dagster
    upgrade that renames it makes every schedule evaluation open an instance again, and this fails."""
    from azak_cli.simulate.engine import Simulation

    defs = definitions()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        simulation = Simulation(defs, instance, START, END)

        def refused(*_args, **_kwargs):
            raise AssertionError("a schedule's context opened an instance of its own")

        monkeypatch.setattr(dg.DagsterInstance, "from_ref", refused)
        by_name = {s.name: s for s in defs.get_repository_def().schedule_defs}
        context = simulation._schedule_context(by_name["price_gaps_schedule"], START + timedelta(hours=19, minutes=30))
        assert context.instance is instance
        assert set(context.resource_defs or {}) == {"kis"}  # not every resource of the code location
        context = simulation._schedule_context(by_name["stock_reports_schedule"], START)
        assert not context.resource_defs
