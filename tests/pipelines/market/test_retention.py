"""Retention of the intraday tables: the nightly schedule, evaluated as the daemon does, launches a
run that drops whole monthly children past the window and reports what it freed."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from azak_core.market import KST
from azak_pipelines.defs.market.tables import MINUTE_PRICES, QUOTE_SNAPSHOTS
from azak_pipelines.lib.warehouse import connect, replace_slice
from tests.pipelines.runs import definitions, run

CODES = ["005930", "000660"]
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
# the schedule's night: 12 months of minute bars keep 2025-11 on; 3 months of quotes keep 2026-08 on
NIGHT = datetime(2026, 11, 30, 4, 30, tzinfo=KST)
MINUTE_DAYS = [date(2025, 9, 30), date(2025, 10, 31), date(2025, 11, 3), date(2026, 11, 27)]
QUOTE_DAYS = [date(2026, 6, 15), date(2026, 7, 31), date(2026, 8, 3), date(2026, 11, 27)]


def _day_range(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def load_intraday(url: str) -> None:
    """Two stocks × two bars (or snapshots) a day on the days above, through the warehouse writer."""
    with connect(url) as conn:
        for day in MINUTE_DAYS:
            bars = [(code, day, datetime.combine(day, datetime.min.time(), KST).replace(hour=9, minute=m),
                     100, 101, 99, 100, 10, "kis:live", FETCHED) for code in CODES for m in (0, 1)]
            replace_slice(conn, MINUTE_PRICES, bars, *_day_range(day))
        for day in QUOTE_DAYS:
            quotes = [(code, day, datetime.combine(day, datetime.min.time(), KST).replace(hour=9, minute=m),
                       100, "kis:live", FETCHED) for code in CODES for m in (0, 5)]
            replace_slice(conn, QUOTE_SNAPSHOTS, quotes, *_day_range(day),
                          columns=["stock_code", "trade_date", "captured_at", "price", "source", "fetched_at"])


def rows_by_day(url: str, table: str) -> dict[date, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(f"SELECT trade_date, count(*) FROM raw.{table} GROUP BY 1").fetchall())


def observations(result) -> dict[str, dict]:
    return {e.asset_key.to_user_string(): {k: v.value for k, v in e.asset_observation_data.asset_observation
                                           .metadata.items()}
            for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"}


@pytest.fixture
def live_credentials(monkeypatch):
    monkeypatch.setenv("AZAK_KIS_APP_KEY", "key")
    monkeypatch.setenv("AZAK_KIS_APP_SECRET", "secret")
    monkeypatch.setenv("AZAK_SOURCE_MODE", "auto")


def evaluate(instance: dg.DagsterInstance, at: datetime = NIGHT):
    """One tick of the schedule as the daemon runs it: the code location's resources and repository."""
    defs = definitions()
    schedule = next(s for s in defs.schedules if s.name == "retention_schedule")
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                        repository_def=defs.get_repository_def(), resources=defs.resources)
    return schedule.evaluate_tick(context)


def test_the_nightly_run_drops_expired_children_and_keeps_the_rest_whole(db_url, dagster_home, live_credentials):
    load_intraday(db_url)
    instance = dg.DagsterInstance.get()
    tick = evaluate(instance)
    [request] = tick.run_requests
    assert request.run_key == "retention:2026-11-30"

    result = run("retention_job", run_config=request.run_config, instance=instance)
    assert rows_by_day(db_url, "minute_prices") == {date(2025, 11, 3): 4, date(2026, 11, 27): 4}
    assert rows_by_day(db_url, "quote_snapshots") == {date(2026, 8, 3): 4, date(2026, 11, 27): 4}
    seen = observations(result)
    minute = seen["raw/minute_prices"]
    assert (minute["retention_months"], minute["cutoff"], minute["rows_freed"]) == (12, "2025-11-01", 8)
    assert [p["name"] for p in minute["partitions_dropped"]] == ["minute_prices_y2025m09", "minute_prices_y2025m10"]
    assert minute["bytes_freed"] > 0
    quotes = seen["raw/quote_snapshots"]
    assert (quotes["retention_months"], quotes["cutoff"], quotes["rows_freed"]) == (3, "2026-08-01", 8)
    assert [p["name"] for p in quotes["partitions_dropped"]] == ["quote_snapshots_y2026m06",
                                                                 "quote_snapshots_y2026m07"]

    again = run("retention_job", run_config=request.run_config, instance=instance)
    assert {key: (o["partitions_dropped"], o["rows_freed"]) for key, o in observations(again).items()} == {
        "raw/minute_prices": ([], 0), "raw/quote_snapshots": ([], 0)}
    assert rows_by_day(db_url, "minute_prices") == {date(2025, 11, 3): 4, date(2026, 11, 27): 4}


def test_the_windows_are_configurable(db_url, monkeypatch):
    load_intraday(db_url)
    monkeypatch.setenv("AZAK_RETENTION_MINUTE_PRICES_MONTHS", "1")
    monkeypatch.setenv("AZAK_RETENTION_QUOTE_SNAPSHOTS_MONTHS", "24")
    run("retention_job", run_config={"ops": {"drop_expired_partitions": {"config": {"as_of": "2026-11-30"}}}})
    assert rows_by_day(db_url, "minute_prices") == {date(2026, 11, 27): 4}
    assert len(rows_by_day(db_url, "quote_snapshots")) == len(QUOTE_DAYS)


def test_a_dry_run_reports_and_drops_nothing(db_url):
    load_intraday(db_url)
    result = run("retention_job", run_config={"ops": {"drop_expired_partitions": {
        "config": {"as_of": "2026-11-30", "dry_run": True}}}})
    assert observations(result)["raw/minute_prices"]["rows_freed"] == 8
    assert len(rows_by_day(db_url, "minute_prices")) == len(MINUTE_DAYS)


@pytest.mark.parametrize(("value", "message"), [
    ("0", "minute_prices_months (AZAK_RETENTION_MINUTE_PRICES_MONTHS) must be at least 1 month"),
    ("-3", "must be at least 1 month"),
    ("twelve", "minute_prices_months (AZAK_RETENTION_MINUTE_PRICES_MONTHS) must be a whole number of "
               "months, got 'twelve'"),
])
def test_a_bad_window_is_refused_before_anything_is_dropped(db_url, monkeypatch, value, message):
    load_intraday(db_url)
    monkeypatch.setenv("AZAK_RETENTION_MINUTE_PRICES_MONTHS", value)
    with pytest.raises(dg.Failure) as refused:
        run("retention_job", run_config={"ops": {"drop_expired_partitions": {"config": {"as_of": "2026-11-30"}}}})
    assert message in str(refused.value)
    assert len(rows_by_day(db_url, "minute_prices")) == len(MINUTE_DAYS)
    assert len(rows_by_day(db_url, "quote_snapshots")) == len(QUOTE_DAYS)


def test_replay_mode_skips_retention(db_url, dagster_home, replay):
    tick = evaluate(dg.DagsterInstance.get())
    assert not tick.run_requests and "replay" in tick.skip_message


def test_the_schedule_runs_at_night_in_seoul():
    schedule = next(s for s in definitions().schedules if s.name == "retention_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 4 * * *", "Asia/Seoul")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
