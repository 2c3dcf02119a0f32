"""`azak simulate` under injected faults, on the smallest windows that show them: the replay
servers misbehave, the daemon's own definitions run, and the ledger shows the behaviour each fault
states."""

from datetime import datetime

import dagster as dg
import psycopg
import pytest

from azak_api.admin import run_migrations
from azak_cli.simulate.engine import TICK, RunRecord, Simulation
from azak_cli.simulate.faults import Fault, Window, parse, victim_of
from azak_cli.simulate.ledger import no_check_failed, no_run_failed
from azak_cli.simulate.llm import MODEL_NAME, provider_model
from azak_cli.simulate.requests import Request
from azak_cli.simulate.sources import live_kis, live_news
from azak_pipelines.defs.market.tables import MARKET_RANKINGS
from azak_pipelines.lib.calendar.krx_calendar import KST
from azak_pipelines.lib.warehouse import ensure_table
from tests.pipelines.runs import definitions

MIDNIGHT = datetime(2025, 6, 9, 0, 0, tzinfo=KST)  # Sunday night into Monday: the news schedule at 00:00, 00:10


def fresh(name: str) -> Fault:
    """A fresh fault, as `azak simulate --fault` makes one (it counts what it served)."""
    return parse([name])[0]


def _simulate(window: Window, faults: list[Fault], warehouse: str) -> list:
    run_migrations(warehouse)  # the registry and the outbox: what the prediction runs read
    with live_news(window, faults), live_kis(window, faults), provider_model(warehouse, window, faults):
        simulation = Simulation(definitions(), dg.DagsterInstance.get(), window.start, window.end,
                                say=lambda line: None, victim=victim_of(faults))
        return simulation.run()


def _missing(faults: list[Fault], window: Window, runs: list, warehouse: str) -> dict[str, list[str]]:
    """Each fault's own verdict (what of its behaviour the ledger does not show)."""
    with psycopg.connect(warehouse) as conn:
        return {f.name: f.missing(window, runs, conn) for f in faults}


EVENING = datetime(2025, 6, 9, 21, 0, tzinfo=KST)  # a Monday evening: news every 10 minutes, no KIS run


@pytest.mark.slow
def test_naver_down_a_drifted_hankyung_feed_and_a_rate_limited_provider_show_in_the_ledger(
        warehouse_with_stocks, dagster_home, milvus_uri):
    # one evening window for the three news-side faults (each acts on its own server): ticks 21:00,
    # 21:05, 21:10 and 21:15. Naver is down for the window's first half (until 21:10): the news run
    # of 21:00 meets the outage, the one of 21:10 the recordings again; Hankyung drifts throughout;
    # Maeil and Reddit answer, so the predictions schedule (21:05, 21:15) has links to predict with
    # a model calling a local provider, registered for the simulation, which answers 429 to the
    # first attempt of every prompt
    window = Window(EVENING, EVENING + 4 * TICK)
    faults = [fresh("source-down:naver"), fresh("layout-drift:hankyung"), fresh("llm-429")]
    runs = _simulate(window, faults, warehouse_with_stocks)
    assert window.outage_end == EVENING + 2 * TICK
    assert _missing(faults, window, runs, warehouse_with_stocks) == {f.name: [] for f in faults}
    news = [r for r in runs if r.request.job == "news_job"]
    assert len(news) == 2 and all(r.success for r in news), [r.failure for r in news]
    assert no_run_failed(runs, faults) == []  # the embeddings too: the session's Milvus is there
    with psycopg.connect(warehouse_with_stocks) as conn:
        assert conn.execute("SELECT count(*) FROM raw.hankyung_news").fetchone()[0] == 0
        quarantined = conn.execute("SELECT count(*) FROM ops.quarantine WHERE asset = 'raw/hankyung_news'"
                                   ).fetchone()[0]
        made = conn.execute("SELECT status, count(*) FROM computed.news_predictions WHERE model_name = %s "
                            "GROUP BY 1", (MODEL_NAME,)).fetchall()
        active = conn.execute("SELECT active FROM app.models WHERE name = %s", (MODEL_NAME,)).fetchone()[0]
    # source-down:naver: the run during the outage failed its check naming naver, the next caught up
    assert quarantined > 0  # the drifted items were set aside with their reason, not lost silently
    down = [c for c in news[0].checks if c.asset == "raw/naver_finance_news" and c.name == "layout_drift"]
    assert [c.passed for c in down] == [False] and "every fetch failed" in down[0].description
    back = [c for c in news[1].checks if c.asset == "raw/naver_finance_news" and c.name == "layout_drift"]
    assert [c.passed for c in back] == [True], back  # the next run caught up
    # layout-drift:hankyung: both runs' drift check failed naming the title
    drift = [c for r in news for c in r.checks if c.asset == "raw/hankyung_news" and c.name == "layout_drift"]
    assert len(drift) == 2 and not any(c.passed for c in drift) and "'item > title'" in drift[0].description
    # the faults account for every failed drift check, which a clean simulation would count as
    # failures (the freshness checks of this bare warehouse fail on their own: never materialized)
    assert [f for f in no_check_failed(runs, faults) if "layout_drift" in f] == []
    assert len([f for f in no_check_failed(runs, []) if "layout_drift" in f]) == 3
    # llm-429: every prompt met a 429, was answered after it, and made one ok prediction
    predictions = [r for r in runs if r.request.job == "news_predictions_job"]
    assert predictions and all(r.success for r in predictions), [r.failure for r in predictions]
    seen = faults[2].observed()
    assert seen["answered 429"] == seen["prompts met a 429"] == seen["prompts answered after a 429"] > 0
    assert dict(made) == {"ok": seen["prompts met a 429"]}, made  # one answer per prompt, each after its 429
    assert active is False  # the model is registered for the simulation only


def test_an_outage_no_run_met_is_reported_missing():
    # the ledger's verdict is not a formality: with no naver run, the behaviour is not shown
    missing = fresh("source-down:naver").missing(Window(MIDNIGHT, MIDNIGHT + TICK), [], None)
    assert missing == ["no naver run during the outage failed its check naming naver",
                       "no naver run after the outage passed its check (no catch-up)"]


AFTER_CLOSE = datetime(2025, 6, 9, 15, 45, tzinfo=KST)  # the closing-price window: market_wide every 5 minutes


@pytest.mark.slow
def test_kis_bursts_an_expired_token_and_a_run_killed_inside_its_write_show_in_the_ledger(
        warehouse_with_stocks, dagster_home, milvus_uri):
    # one window for the three KIS-side faults: ticks 15:45, 15:50 and 15:55 of a Monday, where
    # market_wide_schedule fires at each (KIS's rankings and sector levels, live against the replay
    # server). KIS spoils the first two attempts of every third request throughout (kis-5xx) and
    # expires its token at 15:52:30, the window's midpoint (token-expired); the run of 15:50 runs in
    # a child process SIGKILLed inside its write of raw.market_rankings (kill-run): the run of 15:45
    # stored the day's rankings (the old slice), the run of 15:55 meets the expired token and
    # completes the day
    window = Window(AFTER_CLOSE, AFTER_CLOSE + 3 * TICK)
    faults = [fresh("kis-5xx"), fresh("token-expired"), fresh("kill-run")]
    runs = _simulate(window, faults, warehouse_with_stocks)
    kis = [r for r in runs if dict(r.request.tags).get("azak/source") == "kis"]
    assert [r.request.job for r in kis] == ["market_wide_job"] * 3, [r.request.label for r in runs]
    assert [r.success for r in kis] == [True, False, True], [r.failure for r in kis]
    assert kis[2].at >= window.start + (window.end - window.start) / 2  # the third run met the expired token
    assert _missing(faults, window, runs, warehouse_with_stocks) == {f.name: [] for f in faults}
    # kis-5xx: bursts met and absorbed by the retries
    bursts, expiry = faults[0].observed(), faults[1].observed()
    assert bursts["answered 500"] == 2 * bursts["requests met a burst"] > 0
    assert bursts["requests answered after a burst"] == bursts["requests met a burst"]  # nothing lost
    # token-expired: the killed child used the token the first run stored (ops.kis_tokens), and the
    # token was refreshed once after the expiry
    assert expiry["issued before"] == 1 and expiry["issued after the expiry"] == 1
    assert expiry["answered EGW00123"] >= 1
    # kill-run: killed inside the write, the old slice deleted and the new one copied, uncommitted;
    # after the kill the table was exactly the first run's slice
    killed = kis[1].killed
    assert killed["signal"] == "SIGKILL" and killed["reaped"], killed
    assert killed["inside_write"] == "raw.market_rankings", killed
    assert killed["old_rows_deleted_uncommitted"] == killed["rows_before"] > 0, killed
    assert killed["table_unchanged"] is True, killed
    instance = dg.DagsterInstance.get()
    assert instance.get_run_by_id(kis[1].run_id).status == dg.DagsterRunStatus.FAILURE
    live = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    assert live == []  # no run left STARTED
    assert instance.event_log_storage.get_concurrency_run_ids() == set()  # no slot left claimed
    # kill-run accounts for the killed run, the one run a clean ledger counts as failed
    assert no_run_failed(runs, faults) == [] and len(no_run_failed(runs, [])) == 1
    with psycopg.connect(warehouse_with_stocks) as conn:
        snapshots = conn.execute("SELECT count(DISTINCT captured_at), count(*) FROM raw.index_snapshots "
                                 "WHERE trade_date = '2025-06-09'").fetchone()
        rankings = conn.execute("SELECT count(DISTINCT captured_at), count(*) FROM raw.market_rankings "
                                "WHERE trade_date = '2025-06-09'").fetchone()
    # nothing lost: the two runs that completed stored every index's level (the killed one's level
    # write, if it came first, too); the day keeps its latest ranking: the third run's
    assert snapshots[0] in (2, 3) and snapshots[1] % snapshots[0] == 0 and snapshots[1] > snapshots[0]
    assert rankings[0] == 1 and rankings[1] > 0


def test_a_kill_that_landed_outside_the_write_is_reported_missing(db_url):
    # the verdict checks where the kill landed: a child killed before it wrote showed nothing
    window = Window(AFTER_CLOSE, AFTER_CLOSE + 3 * TICK)
    fault = fresh("kill-run")
    requests = [Request("market_wide_schedule", "market_wide_job", (), "2025-06-09", (), "{}")] * 3
    assert [fault.victim(r) for r in requests] == [None, "raw.market_rankings", None]
    killed = {"signal": "SIGKILL", "inside_write": None, "why_not": "the child ended or timed out before writing",
              "table_unchanged": True, "status": "FAILURE", "slots_claimed_after": 0}
    record = RunRecord(AFTER_CLOSE + TICK, requests[1], "r", False, 1.0, "killed", killed=killed)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ensure_table(conn, MARKET_RANKINGS)
        assert fault.missing(window, [record], conn) == [
            "the kill did not land inside the write of raw.market_rankings: the child ended or timed out "
            "before writing", "no later market_wide_job run completed ['2025-06-09']"]


def test_kis_faults_that_met_no_kis_run_are_reported_missing():
    window = Window(MIDNIGHT, MIDNIGHT + TICK)
    assert fresh("kis-5xx").missing(window, [], None) == [
        "no KIS request met a burst (no KIS run on the fault's day)"]
    assert fresh("token-expired").missing(window, [], None) == [
        "no KIS request used the expired token (no KIS run after the window's midpoint)"]
