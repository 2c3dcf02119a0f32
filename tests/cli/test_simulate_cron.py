"""The simulation's cron reading agrees with Dagster's own tick iterator for every schedule of the
code location, minute by minute over a week with a weekend and a holiday."""

from datetime import datetime, timedelta

from dagster._utils.schedules import cron_string_iterator  # the daemon's tick iterator (tests only)

from azak_cli.simulate.cron import fires
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
    from azak_cli.simulate.engine import Request, merged

    minute_bars = [Request("minute_prices_schedule", "minute_prices_job", partition="2025-06-09",
                           tags=(("azak/source", "kis"),)) for _ in range(5)]
    other_day = Request("minute_prices_schedule", "minute_prices_job", partition="2025-06-10")
    news = Request("news_schedule", "news_job", tags=(("dagster/asset_partition_range_end", "2025-06-09"),
                                                      ("dagster/asset_partition_range_start", "2025-06-08")))
    runs = merged([*minute_bars, other_day, news, news])
    assert [r.label for r in runs] == ["minute_prices_job[2025-06-09]", "minute_prices_job[2025-06-10]",
                                       "news_job[2025-06-08…2025-06-09]"]
