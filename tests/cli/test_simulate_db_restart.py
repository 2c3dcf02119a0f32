"""`azak simulate --fault db-restart` on its own throw-away embedded PostgreSQL: the cluster holding
the warehouse and the Dagster instance is stopped while a run is in flight and started again; the run
fails, is retried by the platform's run retries, and the real API answers 503 during the outage and
200 after."""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from azak_api.admin import run_migrations
from azak_cli.errors import UsageError
from azak_cli.runtime.postgres import EmbeddedPostgres, ensure_database
from azak_cli.simulate.engine import TICK, Simulation
from azak_cli.simulate.faults import DbRestart, Window, parse
from azak_cli.simulate.ledger import no_run_failed
from azak_cli.simulate.sources import live_kis, live_news
from azak_pipelines.lib.calendar.krx_calendar import KST
from tests.cli.simulation import watchlist_seen
from tests.conftest import PROJECT_ROOT, free_port
from tests.pipelines.runs import definitions, run

AFTER_CLOSE = datetime(2025, 6, 9, 15, 45, tzinfo=KST)  # a Monday's closing-price window: market_wide_job runs


@pytest.fixture
def own_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedPostgres]:
    """An embedded cluster of this test's own (own port, own data directory) holding the warehouse
    and the Dagster instance, as a home's does; stopped and removed afterwards. Its directory is not
    under ``tmp_path``: as root the cluster runs as a system user that must traverse the parents,
    and every pytest session that starts (on a shared machine, anyone's) resets pytest's base
    directory to 0700, after which ``pg_ctl`` could no longer reach the data to start it again."""
    root = Path(tempfile.mkdtemp(prefix="azak-db-restart-"))
    cluster = EmbeddedPostgres(root / "pg", free_port())
    cluster.start()
    try:
        warehouse, dagster = cluster.url("azak"), cluster.url("azak_dagster")
        ensure_database(warehouse)
        ensure_database(dagster)
        home = tmp_path / "dagster_home"  # read by this process only
        home.mkdir()
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("DAGSTER_PG_URL", dagster.render("postgresql+psycopg2"))
        monkeypatch.setenv("AZAK_DATABASE_URL", warehouse.render())
        monkeypatch.setenv("AZAK_JWT_SECRET", "a-test-secret-for-the-api-not-a-credential")
        monkeypatch.delenv("AZAK_REDIS_URL", raising=False)  # /health asks PostgreSQL only
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_database_restart_fails_the_run_in_flight_which_is_retried_and_the_api_answers_503_then_200(
        own_cluster):
    warehouse = os.environ["AZAK_DATABASE_URL"]
    run("reference_job", assets=["raw/stocks", "raw/trading_calendar"])  # the universe and the calendar
    run_migrations(warehouse)
    # one tick (15:45): market_wide_schedule's run meets the restart once its first step started
    window = Window(AFTER_CLOSE, AFTER_CLOSE + TICK)
    fault = parse(["db-restart"])[0]
    instance = dg.DagsterInstance.get()
    # dagster.yaml: retries on, none by default; the market_wide_job run asks for one (its job's tag)
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 0
    with live_news(window, [fault]), live_kis(window, [fault]), \
            fault.attached(own_cluster, dict(os.environ), instance):
        code = definitions()  # loaded with the live sources' environment, as the code server would be
        runs = Simulation(code, instance, window.start, window.end, say=lambda line: None,
                          disruption=fault.disruption, sensor_cursors=watchlist_seen(code, instance)).run()
    market = [r for r in runs if r.request.job == "market_wide_job"]
    assert [r.success for r in market] == [False, True], [r.failure for r in market]
    assert market[1].retry_of == market[0].run_id  # the platform's retry of the run in flight
    with psycopg.connect(warehouse) as conn:
        assert fault.missing(window, runs, conn) == []
        rankings = conn.execute("SELECT count(*) FROM raw.market_rankings WHERE trade_date = '2025-06-09'"
                                ).fetchone()[0]
    assert rankings > 0  # the retry stored the day's rankings
    seen = fault.observed()
    assert seen["stopped"] == seen["started"] == 1 and seen["down while the run was in flight"] == 1, seen
    assert seen["API 200 before"] == 1 and seen["API 503 while down"] == 2 and seen["API 200 after"] == 1, seen
    failed = instance.get_run_by_id(market[0].run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE and failed.tags["dagster/will_retry"] == "true"
    live = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    assert live == []  # no run left STARTED
    assert instance.event_log_storage.get_concurrency_run_ids() == set()  # no slot left claimed
    # the fault accounts for the run in flight only; a clean ledger would count it as a failure
    assert no_run_failed(runs, [fault]) == [] and len(no_run_failed(runs, [])) == 1


def test_a_restart_with_nothing_in_flight_is_reported_missing():
    window = Window(AFTER_CLOSE, AFTER_CLOSE + TICK)
    assert parse(["db-restart"])[0].missing(window, [], None) == [
        "no market_wide_job run was in flight to restart the database under"]


def test_the_fault_never_restarts_a_server_named_by_azak_database_url(tmp_path):
    with pytest.raises(UsageError, match="never restarts"):
        DbRestart.own_cluster(None)
    # the command refuses it before starting anything: exit 2, the reason on standard error
    env = {**os.environ, "AZAK_HOME": str(tmp_path / "home"),
           "AZAK_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/azak_not_restarted"}
    refused = subprocess.run([sys.executable, "-m", "azak_cli.main", "simulate", "--from", "2025-06-09", "--to",
                              "2025-06-09", "--fault", "db-restart"], env=env, capture_output=True, text=True,
                             timeout=120, cwd=PROJECT_ROOT)
    assert refused.returncode == 2 and "never restarts" in refused.stderr, (refused.returncode, refused.stderr)
