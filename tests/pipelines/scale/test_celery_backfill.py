"""The scale-out path: a sharded price backfill whose steps run on two Celery workers (`azak worker`,
the machine's RabbitMQ), against a local server speaking KIS's protocol over real HTTP.

Both workers run steps, the `kis` pool never lets more than two shards fetch at once, the rows equal
a single-process run's (in a second database), and the app key's rate limit holds across workers.
"""

import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import psycopg
import pytest

from azak_cli.market import backfill_prices
from azak_cli.runtime import environment
from azak_cli.runtime.postgres import PgUrl, drop_database, ensure_database
from azak_core.market import KST
from azak_pipelines.defs.executor import DEFAULT_BROKER
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import BIN, PROJECT_ROOT, _worker
from tests.pipelines.runs import run

CODES = sorted(path.name.removesuffix(".json.gz") for path in (BUNDLED / "kis" / "daily").glob("*.json.gz"))
START, END = date(2024, 7, 1), date(2025, 6, 17)  # 241 sessions: 3 pages of bars per stock
SHARDS = 4
COLUMNS = "stock_code, trade_date, price_basis, open, high, low, close, volume, trading_value, source"
BROKER = os.environ.get("AZAK_CELERY_BROKER", "").strip() or DEFAULT_BROKER


def require_broker() -> None:
    address = urlsplit(BROKER)
    try:
        socket.create_connection((address.hostname, address.port or 5672), timeout=3).close()
    except OSError as exc:
        message = (f"no RabbitMQ at {address.hostname}:{address.port or 5672} ({exc}): start it with "
                   "`rabbitmq-server -detached` (.ci/run does) or point AZAK_CELERY_BROKER at one")
        if os.environ.get("AZAK_REQUIRE_RABBITMQ") == "1":
            pytest.fail(message)
        pytest.skip(message + " (a laptop without a broker; CI sets AZAK_REQUIRE_RABBITMQ=1)")


def rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM raw.daily_prices ORDER BY 1, 2, 3").fetchall()


def kis_simulator(kind: type[KisSimulator] = KisSimulator) -> KisSimulator:
    """A local server speaking KIS's protocol (20 requests/s and one token a minute, like KIS)."""
    return kind(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 17, 18, tzinfo=KST)),
                app_key="scale-key", app_secret="scale-secret")


class MeetingKisSimulator(KisSimulator):
    """The same server, which holds every stock request until requests of two different shards have
    come (at most ``MEETING_S``): the shards are the backfill's contiguous runs of the sorted stocks
    (``stock_shards``), so two shards then overlap whatever the machine's speed. On a loaded machine a
    shard (~1 s of fetching) could otherwise end before the second worker's step had started, and
    "two at once" would measure the machine; if the pool let only one shard fetch at a time, the first
    would wait out the meeting alone and the test would fail as it should."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.met = threading.Event()
        self._shards_seen: set[int] = set()
        self._meeting = threading.Lock()

    def handle(self, method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Any:
        code = query.get("FID_INPUT_ISCD")
        if code in CODES and not self.met.is_set():
            with self._meeting:
                self._shards_seen.add(CODES.index(code) // -(-len(CODES) // SHARDS))  # as stock_shards cuts
                if len(self._shards_seen) >= 2:
                    self.met.set()
            self.met.wait(MEETING_S)
        return super().handle(method, path, headers, query, body)


MEETING_S = 120.0  # how long the first shard's request waits for a second shard's (a loaded machine)


@pytest.fixture
def kis_server(monkeypatch) -> Iterator[KisSimulator]:
    """Live mode against the local KIS protocol server."""
    simulator = kis_simulator(MeetingKisSimulator)
    with serve(simulator) as url:
        for name, value in {"AZAK_KIS_MODE": "live", "AZAK_KIS_ENV": "real", "AZAK_KIS_APP_KEY": "scale-key",
                            "AZAK_KIS_APP_SECRET": "scale-secret", "AZAK_KIS_BASE_URL": url}.items():
            monkeypatch.setenv(name, value)
        yield simulator


@pytest.fixture
def single_process_db(pg_server: PgUrl) -> Iterator[str]:
    url = pg_server.with_database(f"{_worker()}_single")
    drop_database(url)
    ensure_database(url)
    yield url.render()
    drop_database(url)


@pytest.fixture
def celery_runtime(db_url, dagster_database: PgUrl, kis_server, tmp_path: Path,
                   monkeypatch) -> environment.Runtime:
    """The `azak` runtime with the Celery executor on a queue of this test's own."""
    require_broker()
    with psycopg.connect(dagster_database.render(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    monkeypatch.setenv("AZAK_HOME", str(tmp_path / "azak"))
    monkeypatch.setenv("AZAK_DAGSTER_DATABASE_URL", dagster_database.render())
    monkeypatch.setenv("AZAK_EXECUTOR", "celery")
    monkeypatch.setenv("AZAK_CELERY_BROKER", BROKER)
    monkeypatch.setenv("AZAK_CELERY_QUEUE", f"azak-test-{uuid.uuid4().hex[:10]}")
    runtime = environment.resolve()
    for name, value in runtime.child_env().items():
        monkeypatch.setenv(name, value)
    return runtime


def start_workers(names: list[str], logs: Path) -> list[tuple[subprocess.Popen[bytes], Path]]:
    started = []
    for name in names:
        log = logs / f"{name}.log"
        with log.open("wb") as out:
            started.append((subprocess.Popen([str(BIN / "azak"), "worker", "--name", name], cwd=PROJECT_ROOT,
                                             env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT), log))
    return started


def wait_ready(workers: list[tuple[subprocess.Popen[bytes], Path]], timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    for process, log in workers:
        while " ready." not in log.read_text(errors="replace"):
            assert process.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the worker is not ready:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)


def stop_workers(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for process, _ in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in workers:
        try:
            process.wait(45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def delete_queue(name: str) -> None:
    import kombu

    with kombu.Connection(BROKER) as connection:
        connection.default_channel.queue_delete(name)


def shard_steps(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """Per shard step: the Celery worker that ran it, and when it started and ended."""
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not (entry.step_key or "").startswith("daily_prices_shard"):
            continue
        step = steps.setdefault(entry.step_key, {})
        if event.event_type_value == "ENGINE_EVENT":
            worker = (event.event_specific_data.metadata or {}).get("Celery worker")
            if worker is not None:
                step["worker"] = worker.value
        elif event.event_type_value == "STEP_START":
            step["start"] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            step["end"] = entry.timestamp
    return steps


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    return max(sum(1 for start, end in intervals if start <= moment < end) for moment, _ in intervals)


@pytest.mark.slow
def test_a_sharded_backfill_on_two_celery_workers_equals_one_process(celery_runtime, kis_server,
                                                                     single_process_db, monkeypatch, tmp_path):
    queue = os.environ["AZAK_CELERY_QUEUE"]
    names = [f"{queue}-a", f"{queue}-b"]
    workers = start_workers(names, tmp_path)  # they start while the single-process run goes
    try:
        # the single-process run: the asset's own step, in this process, into a second database
        # (with its own token store, so a KIS server of its own)
        warehouse, celery_kis = os.environ["AZAK_DATABASE_URL"], os.environ["AZAK_KIS_BASE_URL"]
        with serve(kis_simulator()) as url:
            monkeypatch.setenv("AZAK_DATABASE_URL", single_process_db)
            monkeypatch.setenv("AZAK_KIS_BASE_URL", url)
            run("daily_prices_job", (str(START), str(END)),
                {"ops": {"raw__daily_prices": {"config": {"codes": CODES}}}})
        monkeypatch.setenv("AZAK_DATABASE_URL", warehouse)
        monkeypatch.setenv("AZAK_KIS_BASE_URL", celery_kis)
        expected = rows(single_process_db)
        assert len(expected) > 20 * 200

        wait_ready(workers)
        report = backfill_prices(celery_runtime, START, END, CODES, shards=SHARDS)
    finally:
        stop_workers(workers)
        delete_queue(queue)

    assert rows(warehouse) == expected
    assert report["rows_written"] == len(expected) and report["shards"] == SHARDS

    instance = dg.DagsterInstance.get()
    steps = shard_steps(instance, report["run_id"])
    assert len(steps) == SHARDS
    hosts = {name: f"{name}@{socket.gethostname()}" for name in names}
    assert {step["worker"] for step in steps.values()} == set(hosts.values())  # both workers ran shards
    # the kis pool (limit 2) let two shards fetch at once and never three
    assert most_at_once([(step["start"], step["end"]) for step in steps.values()]) == 2
    assert instance.event_log_storage.get_concurrency_info("kis").slot_count == 2

    # One app key across both workers: the shared limiter grants 19 requests a second, so the KIS
    # server (20/s) refuses almost nothing, and the requests span what 19/s allows. Without the
    # shared limiter two workers would send up to 38/s and about half would be refused.
    sent = [moment for moment, _ in kis_server.requests]
    assert len(sent) >= len(CODES) * 3
    assert kis_server.throttled <= len(sent) // 10, f"{kis_server.throttled} of {len(sent)} refused"
    busiest = max(sum(1 for u in sent if t <= u < t + 1.0) for t in sent)
    assert busiest <= 20
    assert sent[-1] - sent[0] >= (len(sent) - 1) / 19 - 0.25
    assert kis_server.tokens_issued == 1  # one token, shared through PostgreSQL by both workers
