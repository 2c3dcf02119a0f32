"""`azak demo` on the fresh-machine path: embedded PostgreSQL, bundled data, real Dagster runs."""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.cli.test_embedded_postgres import embedded_env
from tests.conftest import BIN, PROJECT_ROOT, free_port, run_azak


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """A fresh AZAK_HOME with the embedded server on its own port; stopped afterwards."""
    home = tmp_path_factory.mktemp("demo") / "home"
    env = {**embedded_env(home, free_port()), "AZAK_MILVUS_PORT": str(free_port()), "AZAK_EMBEDDER": "offline"}
    yield env
    run_azak("db", "stop", env=env)
    run_azak("milvus", "stop", env=env)


def query(env: dict[str, str], sql: str) -> list[tuple]:
    """Rows from the demo's warehouse (the embedded server is started for it)."""
    url = run_azak("db", "url", "--show-password", env=env).stdout.strip()
    started = run_azak("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def table_count(env: dict[str, str], table: str) -> int:
    return query(env, f"SELECT count(*) FROM {table}")[0][0]


# what docs/models.md's "The demo's A/B" paragraph says, at the precision it says it (tests/test_docs.py
# checks the page quotes them)
README_AB_FIGURES = {
    "hit": (962, 0.418, 0.198, 0.22, 0.189, 0.253, "A better"),
    "signed_return": (102, -0.007, -0.018, -0.0004, 0.375, "no significant difference"),
    "brier": (0.009, -0.001, 0.019, "no significant difference"),
    "neutral calls": {"baseline": (261, 714), "momentum": (635, 714)},
}


def readme_ab_figures(env: dict[str, str]) -> dict[str, object]:
    rows = {r[0]: r[1:] for r in query(
        env, "SELECT score, n, mean_a, mean_b, mean_diff, ci_low, ci_high, sign_test_p, verdict "
             "FROM computed.ab_comparisons WHERE ab_test_id = 1 AND mode = 'simulated'")}
    n, a, b, diff, low, high, _, verdict = rows["hit"]
    n_ret, _, _, diff_ret, low_ret, high_ret, p_ret, verdict_ret = rows["signed_return"]
    _, _, _, diff_brier, low_brier, high_brier, _, verdict_brier = rows["brier"]
    neutral = query(env, "SELECT model_name, count(*) FILTER (WHERE direction = 'neutral'), count(*) "
                         "FROM computed.news_predictions GROUP BY model_name")
    return {
        "hit": (n, round(a, 3), round(b, 3), round(diff, 3), round(low, 3), round(high, 3), verdict),
        "signed_return": (n_ret, round(diff_ret, 3), round(low_ret, 3), round(high_ret, 4), round(p_ret, 3),
                          verdict_ret),
        "brier": (round(diff_brier, 3), round(low_brier, 3), round(high_brier, 3), verdict_brier),
        "neutral calls": {model: (calls, links) for model, calls, links in neutral},
    }


@pytest.mark.slow
def test_demo_materializes_the_sample_window_and_prints_a_summary(demo_home):
    result = run_azak("demo", "--no-serve", env=demo_home, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    assert "(embedded PostgreSQL)" in out and "(embedded milvus-lite)" in out
    assert "demo data ready in" in out
    summary = {line.split()[0]: line.split()[1:] for line in out.splitlines()
               if line.startswith(("raw/", "staging/", "marts/", "computed/", "milvus/"))}
    assert summary["raw/stocks"] == ["1", "2,882"]  # the replayed listing of 2025-11-28
    assert summary["marts/stocks"][1] == "2,882"
    assert summary["computed/model_leaderboard"][0] == "1"
    # with no keys the offline baselines predict and report
    assert int(summary["computed/news_predictions"][1].replace(",", "")) > 0
    assert int(summary["computed/stock_reports"][1].replace(",", "")) > 0
    # the demo's A/B pair (full baseline vs its price-only variant) is configured and compared
    assert "A/B test 1: baseline vs momentum (configured now)" in out
    assert summary["computed/ab_comparisons"][0] == "1"
    assert int(summary["computed/ab_comparisons"][1].replace(",", "")) > 0
    # the run is in the real instance under AZAK_HOME, not a temporary one
    assert (demo_home["AZAK_HOME"] and os.path.exists(os.path.join(demo_home["AZAK_HOME"], "dagster",
                                                                   "dagster.yaml")))
    # embeddings over every news day, each article's earlier neighbours, and what followed them
    assert summary["milvus/news_embeddings"][0] == summary["computed/news_articles"][0]
    assert int(summary["computed/similar_news"][1].replace(",", "")) > 1000
    assert int(summary["marts/similar_news_outcomes"][1].replace(",", "")) > 100
    # the command stops the embedded servers it started
    assert run_azak("db", "status", env=demo_home).returncode == 3
    assert run_azak("milvus", "status", env=demo_home).returncode == 3
    # both baselines answered the same links: the pair's hit rates are compared on real data
    [(n, diff, low, high, verdict)] = query(
        demo_home, "SELECT n, mean_diff, ci_low, ci_high, verdict FROM computed.ab_comparisons "
                   "WHERE ab_test_id = 1 AND mode = 'simulated' AND score = 'hit'")
    assert n >= 30 and verdict != "not enough data"
    # every figure the Evaluation section of docs/models.md quotes (deterministic: offline models, bundled data)
    assert (n, round(diff, 3), round(low, 3), round(high, 3), verdict) == (962, 0.22, 0.189, 0.253, "A better")
    assert readme_ab_figures(demo_home) == README_AB_FIGURES
    run_azak("db", "stop", env=demo_home)

    again = run_azak("demo", "--no-serve", env=demo_home, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "already materialized" in again.stdout


def simulated(env: dict[str, str], start: str, hours: float) -> dict:
    """`azak simulate` of ``hours`` from ``start`` (KST) on the demo's home, its ledger; every
    expectation must hold (exit 0). A fixed cost per run, so the 5-minute expectations measure the
    platform's decisions, not this machine's load (docs/simulation.md, "Time cost")."""
    result = run_azak("simulate", "--from", start, "--to", start[:10], "--hours", str(hours),
                      "--run-cost", "10", "--json", env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.slow
def test_a_holiday_a_weekend_evening_and_a_trading_days_start_keep_every_expectation(demo_home):
    """Issue 24's short window, in three pieces on the fresh demo home (each `azak simulate` of its
    own; the hours between them are not simulated): Memorial Day's report slot, a Saturday evening's
    news, and the next trading day's report slot and first KIS minutes."""
    holiday = simulated(demo_home, "2025-06-06T08:25", 10 / 60)  # ticks 08:25, 08:30 (a report slot)
    [(day, entry)] = holiday["days"].items()
    assert day == "2025-06-06" and entry["reports"] == {}  # closed: the slot makes no report
    assert "stock_reports_job" not in entry["runs_by_job"] and entry["runs_by_job"]["news_job"] == 1
    evening = simulated(demo_home, "2025-06-07T21:00", 10 / 60)  # ticks 21:00 (news), 21:05 (predictions)
    [(day, entry)] = evening["days"].items()
    assert day == "2025-06-07" and entry["runs_by_job"]["news_predictions_job"] == 1  # was 07:00-18:59 weekdays
    assert entry["runs_by_job"]["news_job"] == 1 and sum(entry["articles"].values()) > 0
    assert not {"minute_prices_job", "market_wide_job", "stock_reports_job"} & set(entry["runs_by_job"])
    start = simulated(demo_home, "2025-06-09T08:25", 40 / 60)  # ticks 08:25 … 09:00
    [(day, entry)] = start["days"].items()
    assert day == "2025-06-09" and entry["failed_runs"] == 0 and entry["failed_checks"] == 0
    assert entry["reports"] == {"08:30": {"baseline": 20, "momentum": 20}}  # every watch-list stock, both models
    assert {"minute_prices_job", "quote_snapshots_job", "market_wide_job"} <= set(entry["runs_by_job"])  # 09:00
    for ledger in (holiday, evening, start):
        assert ledger["failed_expectations"] == [] and "fixed 10 s per run" in " ".join(ledger["notes"])


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            said = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"azak demo exited with {process.returncode} before {url} answered:\n{said[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer within {timeout:.0f} s"
        time.sleep(1)


@pytest.mark.slow
def test_demo_serves_dagit_and_the_api_with_the_demo_admin_until_sigterm(demo_home):
    dagit_port, api_port = free_port(), free_port()
    env = {**demo_home, "AZAK_DAGIT_PORT": str(dagit_port), "AZAK_API_PORT": str(api_port)}
    process = subprocess.Popen([str(BIN / "azak"), "demo"], env=env, cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        api = f"http://127.0.0.1:{api_port}"
        wait_until_up(f"{api}/health", process)
        wait_until_up(f"http://127.0.0.1:{dagit_port}/server_info", process)
        nodes = httpx.post(f"http://127.0.0.1:{dagit_port}/graphql",
                           json={"query": "{ assetNodes { assetKey { path } } }"}).json()["data"]["assetNodes"]
        assert ["marts", "news_price_impact"] in [n["assetKey"]["path"] for n in nodes]
        password = (Path(demo_home["AZAK_HOME"]) / "demo-admin-password").read_text().strip()
        login = httpx.post(f"{api}/api/auth/login", json={"email": "admin@azak.local", "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        stock = httpx.get(f"{api}/api/stocks/005930", headers=headers)
        assert stock.status_code == 200 and stock.json()["latest"]["date"] == "2025-06-17"
        found = httpx.get(f"{api}/api/news/search", params={"q": "삼성전자 실적", "k": 3}, headers=headers, timeout=60)
        assert found.status_code == 200 and len(found.json()["items"]) == 3, found.text
        similar = httpx.get(f"{api}/api/news/{found.json()['items'][0]['id']}/similar", headers=headers, timeout=60)
        assert similar.status_code == 200, similar.text
        analysis = httpx.get(f"{api}/api/stocks/005930/analysis",
                             headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert analysis.status_code == 200
        assert [r["provenance"]["model_name"] for r in analysis.json()["reports"]] == ["baseline", "momentum"]
        [pair] = httpx.get(f"{api}/api/ab-tests", headers=headers).json()
        assert (pair["model_a"], pair["model_b"], pair["active"]) == ("baseline", "momentum", True)
        results = httpx.get(f"{api}/api/ab-tests/{pair['id']}/results", headers=headers).json()
        assert results["computed"] and "hit" in {r["score"] for r in results["simulated"]}
        # what a process manager sends: everything stops, after the demo's in-process Dagster runs too
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a failed assertion above: let the demo stop its servers first
            process.terminate()
            try:
                process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
    assert process.returncode == 0, out[-3000:]
    assert "stopping…" in out and "admin@azak.local" in out
    for port in (dagit_port, api_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    # nothing the demo started is left running (a Dagster code server spawned during shutdown was)
    deadline = time.monotonic() + 15
    while (left := processes_with(f"AZAK_HOME={demo_home['AZAK_HOME']}")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], left


def processes_with(variable: str) -> list[str]:
    """Command lines of the processes whose environment holds ``variable`` (NAME=value)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if variable.encode() in environ.read_bytes().split(b"\0"):
                found.append((environ.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:160])
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_an_interrupted_demo_leaves_nothing_half_written(demo_home):
    expected = table_count(demo_home, "raw.stocks")
    process = subprocess.Popen(
        [str(BIN / "azak"), "demo", "--no-serve", "--refresh"], env=demo_home, cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if "running" in line or time.monotonic() > deadline:
            break
    time.sleep(2)  # inside a run
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert table_count(demo_home, "raw.stocks") == expected  # old slice or new slice, never half
    rerun = run_azak("demo", "--no-serve", env=demo_home, timeout=1800)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert table_count(demo_home, "raw.stocks") == expected


def test_a_taken_dagit_port_is_reported_before_any_work(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = embedded_env(tmp_path / "home", free_port())
        env["AZAK_DAGIT_PORT"] = str(port)
        result = run_azak("demo", env=env)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "AZAK_DAGIT_PORT" in result.stderr
    assert not (tmp_path / "home" / "pg").exists()  # failed fast: nothing was started
