"""`azak simulate` under injected faults, on the smallest windows that show them: the replay
servers misbehave, the daemon's own definitions run, and the ledger shows the behaviour each fault
states."""

from datetime import datetime

import dagster as dg
import psycopg
import pytest

from azak_api.admin import run_migrations
from azak_cli.simulate.engine import TICK, Simulation
from azak_cli.simulate.faults import Fault, Window, parse
from azak_cli.simulate.ledger import no_check_failed, no_run_failed
from azak_cli.simulate.llm import MODEL_NAME, provider_model
from azak_cli.simulate.sources import live_kis, live_news
from azak_pipelines.lib.calendar.krx_calendar import KST
from tests.pipelines.runs import definitions

MIDNIGHT = datetime(2025, 6, 9, 0, 0, tzinfo=KST)  # Sunday night into Monday: the news schedule at 00:00, 00:10


def fresh(name: str) -> Fault:
    """A fresh fault, as `azak simulate --fault` makes one (it counts what it served)."""
    return parse([name])[0]


def _simulate(window: Window, faults: list[Fault], warehouse: str) -> list:
    run_migrations(warehouse)  # the registry and the outbox: what the prediction runs read
    with live_news(window, faults), live_kis(window, faults), provider_model(warehouse, window, faults):
        simulation = Simulation(definitions(), dg.DagsterInstance.get(), window.start, window.end,
                                say=lambda line: None, victim=lambda r: any(f.victim(r) for f in faults))
        return simulation.run()


@pytest.mark.slow
def test_naver_down_then_back_and_a_drifted_hankyung_feed_show_in_the_ledger(warehouse_with_stocks, dagster_home):
    # ticks 23:55 … 00:10; Naver is down for the window's first half (until 00:05): the news run of
    # 00:00 meets the outage, the one of 00:10 the recordings again; Hankyung drifts throughout
    window = Window(MIDNIGHT - TICK, MIDNIGHT + 3 * TICK)
    faults = [fresh("source-down:naver"), fresh("layout-drift:hankyung")]
    runs = _simulate(window, faults, warehouse_with_stocks)
    news = [r for r in runs if r.request.job == "news_job"]
    assert len(news) == 2 and all(r.success for r in news), [r.failure for r in news]
    with psycopg.connect(warehouse_with_stocks) as conn:
        assert {f.name: f.missing(window, runs, conn) for f in faults} == {f.name: [] for f in faults}
        assert conn.execute("SELECT count(*) FROM raw.hankyung_news").fetchone()[0] == 0
        quarantined = conn.execute("SELECT count(*) FROM ops.quarantine WHERE asset = 'raw/hankyung_news'"
                                   ).fetchone()[0]
    assert quarantined > 0  # the drifted items were set aside with their reason, not lost silently
    down = [c for c in news[0].checks if c.asset == "raw/naver_finance_news" and c.name == "layout_drift"]
    assert [c.passed for c in down] == [False] and "every fetch failed" in down[0].description
    back = [c for c in news[1].checks if c.asset == "raw/naver_finance_news" and c.name == "layout_drift"]
    assert [c.passed for c in back] == [True], back  # the next run caught up
    drift = [c for r in news for c in r.checks if c.asset == "raw/hankyung_news" and c.name == "layout_drift"]
    assert len(drift) == 2 and not any(c.passed for c in drift) and "'item > title'" in drift[0].description
    # the faults account for every failed drift check, which a clean simulation would count as
    # failures (the freshness checks of this bare warehouse fail on their own: never materialized)
    assert [f for f in no_check_failed(runs, faults) if "layout_drift" in f] == []
    assert len([f for f in no_check_failed(runs, []) if "layout_drift" in f]) == 3


def test_an_outage_no_run_met_is_reported_missing():
    # the ledger's verdict is not a formality: with no naver run, the behaviour is not shown
    missing = fresh("source-down:naver").missing(Window(MIDNIGHT, MIDNIGHT + TICK), [], None)
    assert missing == ["no naver run during the outage failed its check naming naver",
                       "no naver run after the outage passed its check (no catch-up)"]


AFTER_CLOSE = datetime(2025, 6, 9, 15, 45, tzinfo=KST)  # the closing-price window: market_wide every 5 minutes


@pytest.mark.slow
def test_kis_5xx_bursts_are_retried_and_an_expired_token_is_refreshed_once(warehouse_with_stocks, dagster_home):
    # ticks 15:45 and 15:50 of a Monday: market_wide_schedule fires at both (KIS's rankings and
    # sector levels, live against the replay server); KIS spoils the first two attempts of every
    # third request throughout, and expires its token at 15:50 (the window's midpoint)
    window = Window(AFTER_CLOSE, AFTER_CLOSE + 2 * TICK)
    faults = [fresh("kis-5xx"), fresh("token-expired")]
    runs = _simulate(window, faults, warehouse_with_stocks)
    kis = [r for r in runs if dict(r.request.tags).get("azak/source") == "kis"]
    assert [r.request.job for r in kis] == ["market_wide_job"] * 2, [r.request.label for r in runs]
    assert all(r.success for r in kis), [r.failure for r in kis]
    assert kis[1].at >= AFTER_CLOSE + TICK  # the second run met the expired token
    with psycopg.connect(warehouse_with_stocks) as conn:
        assert {f.name: f.missing(window, runs, conn) for f in faults} == {f.name: [] for f in faults}
        snapshots = conn.execute("SELECT count(DISTINCT captured_at), count(*) FROM raw.index_snapshots "
                                 "WHERE trade_date = '2025-06-09'").fetchone()
        rankings = conn.execute("SELECT count(*) FROM raw.market_rankings "
                                "WHERE trade_date = '2025-06-09'").fetchone()[0]
    bursts, expiry = faults[0].observed(), faults[1].observed()
    assert bursts["answered 500"] == 2 * bursts["requests met a burst"] > 0
    assert bursts["requests answered after a burst"] == bursts["requests met a burst"]  # nothing lost
    assert expiry["issued before"] == 1 and expiry["issued after the expiry"] == 1  # refreshed once
    assert expiry["answered EGW00123"] >= 1
    # nothing lost: both runs stored every index's level; the day keeps its latest ranking
    assert snapshots[0] == 2 and snapshots[1] % 2 == 0 and snapshots[1] > 2
    assert rankings > 0


@pytest.mark.slow
def test_a_run_killed_mid_run_is_reaped_its_slots_freed_and_the_next_tick_completes_it(
        warehouse_with_stocks, dagster_home):
    # ticks 15:45 and 15:50: the market_wide run of 15:45 runs in a child process, SIGKILLed once
    # its first step started (holding its KIS pool slot); the run of 15:50 completes the day
    window = Window(AFTER_CLOSE, AFTER_CLOSE + 2 * TICK)
    fault = fresh("kill-run")
    runs = _simulate(window, [fault], warehouse_with_stocks)
    market = [r for r in runs if r.request.job == "market_wide_job"]
    assert [r.success for r in market] == [False, True], [r.failure for r in market]
    assert market[0].killed["signal"] == "SIGKILL" and market[0].killed["reaped"], market[0].killed
    instance = dg.DagsterInstance.get()
    assert instance.get_run_by_id(market[0].run_id).status == dg.DagsterRunStatus.FAILURE
    live = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    assert live == []  # no run left STARTED
    assert instance.event_log_storage.get_concurrency_run_ids() == set()  # no slot left claimed
    with psycopg.connect(warehouse_with_stocks) as conn:
        assert fault.missing(window, runs, conn) == []
    assert no_run_failed(runs, [fault]) == [] and len(no_run_failed(runs, [])) == 1  # the fault accounts for it


EVENING = datetime(2025, 6, 9, 21, 0, tzinfo=KST)


@pytest.mark.slow
def test_a_rate_limited_provider_is_retried_and_every_prediction_is_made(warehouse_with_stocks, dagster_home):
    # ticks 21:00 (the news run), 21:05 (the predictions schedule, then the linker: the automation's
    # requests of a tick are evaluated before its runs), 21:10 and 21:15 (the predictions schedule
    # again: the links' predictions); a model calling a local provider is registered for the
    # simulation; the provider answers 429 to the first attempt of every prompt
    window = Window(EVENING, EVENING + 4 * TICK)
    fault = fresh("llm-429")
    runs = _simulate(window, [fault], warehouse_with_stocks)
    predictions = [r for r in runs if r.request.job == "news_predictions_job"]
    assert predictions and all(r.success for r in predictions), [r.failure for r in predictions]
    with psycopg.connect(warehouse_with_stocks) as conn:
        assert fault.missing(window, runs, conn) == []
        made = conn.execute("SELECT status, count(*) FROM computed.news_predictions WHERE model_name = %s "
                            "GROUP BY 1", (MODEL_NAME,)).fetchall()
        active = conn.execute("SELECT active FROM app.models WHERE name = %s", (MODEL_NAME,)).fetchone()[0]
    seen = fault.observed()
    assert seen["answered 429"] == seen["prompts met a 429"] == seen["prompts answered after a 429"] > 0
    assert dict(made) == {"ok": seen["prompts met a 429"]}, made  # one answer per prompt, each after its 429
    assert active is False  # the model is registered for the simulation only


def test_kis_faults_that_met_no_kis_run_are_reported_missing():
    window = Window(MIDNIGHT, MIDNIGHT + TICK)
    assert fresh("kis-5xx").missing(window, [], None) == [
        "no KIS request met a burst (no KIS run on the fault's day)"]
    assert fresh("token-expired").missing(window, [], None) == [
        "no KIS request used the expired token (no KIS run after the window's midpoint)"]
