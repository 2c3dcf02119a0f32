"""Market schedules follow the KRX calendar; the nightly healer refills gaps in one run."""

from datetime import datetime

import dagster as dg
import pytest

from azak_core.market import KST
from azak_pipelines.defs.market.resources import kis_from_env
from azak_pipelines.defs.market.schedules import (
    daily_prices_schedule,
    market_wide_schedule,
    minute_prices_schedule,
    price_gaps_schedule,
)
from tests.pipelines.runs import run


def evaluate(schedule, at: datetime, instance=None):
    context = dg.build_schedule_context(instance=instance or dg.DagsterInstance.ephemeral(),
                                        scheduled_execution_time=at, resources={"kis": kis_from_env()})
    return schedule(context)


@pytest.fixture
def live_credentials(monkeypatch):
    monkeypatch.setenv("AZAK_KIS_APP_KEY", "key")
    monkeypatch.setenv("AZAK_KIS_APP_SECRET", "secret")
    monkeypatch.setenv("AZAK_SOURCE_MODE", "auto")


def test_replay_mode_skips_collection(replay):
    result = evaluate(daily_prices_schedule, datetime(2025, 6, 4, 15, 40, tzinfo=KST))
    assert isinstance(result, dg.SkipReason) and "replay" in result.skip_message


def test_closed_days_are_skipped_with_the_reason(live_credentials):
    result = evaluate(daily_prices_schedule, datetime(2025, 6, 3, 15, 40, tzinfo=KST))
    assert isinstance(result, dg.SkipReason)
    assert "2025-06-03 is not a KRX trading day (ad-hoc closure" in result.skip_message


def test_trading_days_request_todays_partition(live_credentials):
    result = evaluate(daily_prices_schedule, datetime(2025, 6, 4, 15, 40, tzinfo=KST))
    assert isinstance(result, dg.RunRequest) and result.partition_key == "2025-06-04"


def test_intraday_schedules_run_only_in_session(live_credentials):
    early = evaluate(minute_prices_schedule, datetime(2025, 6, 4, 8, 50, tzinfo=KST))
    assert isinstance(early, dg.SkipReason) and "outside the session" in early.skip_message
    during = evaluate(minute_prices_schedule, datetime(2025, 6, 4, 10, 1, tzinfo=KST))
    assert isinstance(during, dg.RunRequest) and during.partition_key == "2025-06-04"
    csat = evaluate(minute_prices_schedule, datetime(2025, 11, 13, 9, 30, tzinfo=KST))
    assert isinstance(csat, dg.SkipReason)  # the CSAT-day market opens at 10:00


def test_market_wide_runs_through_the_closing_window_on_real_accounts_only(live_credentials, monkeypatch):
    monkeypatch.setenv("AZAK_KIS_ENV", "real")
    closing = evaluate(market_wide_schedule, datetime(2025, 6, 4, 15, 45, tzinfo=KST))
    assert isinstance(closing, dg.RunRequest) and closing.partition_key == "2025-06-04"
    night = evaluate(market_wide_schedule, datetime(2025, 6, 4, 16, 5, tzinfo=KST))
    assert isinstance(night, dg.SkipReason) and "outside the session" in night.skip_message
    monkeypatch.setenv("AZAK_KIS_ENV", "paper")
    paper = evaluate(market_wide_schedule, datetime(2025, 6, 4, 10, 0, tzinfo=KST))
    assert isinstance(paper, dg.SkipReason) and "real accounts only (AZAK_KIS_ENV=paper)" in paper.skip_message


def test_the_healer_refills_missing_days_in_one_run(warehouse_with_stocks, dagster_home, monkeypatch,
                                                    live_credentials):
    instance = dg.DagsterInstance.get()  # a persistent instance: the project's dagster.yaml
    monkeypatch.setenv("AZAK_SOURCE_MODE", "replay")
    run("daily_prices_job", ("2025-06-09", "2025-06-11"), instance=instance)
    monkeypatch.setenv("AZAK_SOURCE_MODE", "auto")  # live again for the evaluation
    request = evaluate(price_gaps_schedule, datetime(2025, 6, 17, 19, 30, tzinfo=KST), instance)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["dagster/asset_partition_range_start"] == "2025-06-12"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-06-17"
    assert request.tags["azak/healing"] == "2025-06-12,2025-06-13,2025-06-16,2025-06-17"

    monkeypatch.setenv("AZAK_SOURCE_MODE", "replay")
    run("daily_prices_job", ("2025-06-12", "2025-06-17"), instance=instance)
    monkeypatch.setenv("AZAK_SOURCE_MODE", "auto")
    healed = evaluate(price_gaps_schedule, datetime(2025, 6, 17, 19, 30, tzinfo=KST), instance)
    assert isinstance(healed, dg.SkipReason) and "no gaps" in healed.skip_message
