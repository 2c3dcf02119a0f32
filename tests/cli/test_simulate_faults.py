"""`azak simulate` under injected faults, on the smallest windows that show them: the replay
servers misbehave, the daemon's own definitions run, and the ledger shows the behaviour each fault
states."""

from datetime import datetime

import dagster as dg
import psycopg
import pytest

from azak_cli.simulate.engine import TICK, Simulation
from azak_cli.simulate.faults import FAULTS, Fault, Window
from azak_cli.simulate.ledger import no_check_failed
from azak_cli.simulate.sources import live_news
from azak_pipelines.lib.calendar.krx_calendar import KST
from tests.pipelines.runs import definitions

MIDNIGHT = datetime(2025, 6, 9, 0, 0, tzinfo=KST)  # Sunday night into Monday: the news schedule at 00:00, 00:10


def _simulate(window: Window, faults: list[Fault]) -> list:
    with live_news(window, faults):
        simulation = Simulation(definitions(), dg.DagsterInstance.get(), window.start, window.end,
                                say=lambda line: None)
        return simulation.run()


@pytest.mark.slow
def test_naver_down_then_back_and_a_drifted_hankyung_feed_show_in_the_ledger(warehouse_with_stocks, dagster_home):
    # ticks 23:55 … 00:10; Naver is down for the window's first half (until 00:05): the news run of
    # 00:00 meets the outage, the one of 00:10 the recordings again; Hankyung drifts throughout
    window = Window(MIDNIGHT - TICK, MIDNIGHT + 3 * TICK)
    faults = [FAULTS["source-down:naver"], FAULTS["layout-drift:hankyung"]]
    runs = _simulate(window, faults)
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
    missing = FAULTS["source-down:naver"].missing(Window(MIDNIGHT, MIDNIGHT + TICK), [], None)
    assert missing == ["no naver run during the outage failed its check naming naver",
                       "no naver run after the outage passed its check (no catch-up)"]
