"""Dead runs do not stall the platform: a killed `azak import prices` is seen, failed and its `kis`
slots freed; an import waiting for a slot says who holds it and stops on SIGTERM; a rejected row
never deletes the valid row stored for its day. Real subprocesses, a real Dagster instance."""

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import dagster as dg
import psutil

from azak_pipelines.definitions import defs
from azak_pipelines.defs.pools import KIS, ensure_pool_limits
from azak_pipelines.run_monitor import process_tags
from tests.cli.test_market_commands import IMPORTS, cli_env, table  # noqa: F401  (cli_env is a fixture)
from tests.conftest import BIN, PROJECT_ROOT, run_azak

# the test's detection window: how often a waiting import looks again (the daemon's sensor looks
# every AZAK_DEAD_RUN_CHECK_SECONDS, 60 by default)
POLL = "0.2"


def instance_of(env: dict[str, str]) -> dg.DagsterInstance:
    """The CLI's own Dagster instance (its AZAK_HOME, its database, the pools' limits), made ready
    before the CLI first runs, as its first command would leave it."""
    home = Path(env["AZAK_HOME"]) / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_PG_URL"] = env["AZAK_DAGSTER_DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg2://", 1)
    instance = dg.DagsterInstance.from_config(str(home))
    ensure_pool_limits(instance)
    return instance


def first_rows(tmp_path: Path, rows: int) -> Path:
    """The first ``rows`` days of a bundled file: a run short enough for a test, long enough to be
    killed while its step holds its slot."""
    lines = (IMPORTS / "005930_D.csv").read_text().splitlines()
    path = tmp_path / "005930.csv"
    path.write_text("\n".join(lines[: rows + 1]) + "\n")
    return path


def start_azak(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN / "azak"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=PROJECT_ROOT)


def claimed(instance: dg.DagsterInstance) -> list:
    return instance.event_log_storage.get_concurrency_info(KIS).claimed_slots


def test_a_killed_import_is_failed_and_its_kis_slot_freed(cli_env, tmp_path):
    instance = instance_of(cli_env)
    victim = start_azak("import", "prices", str(first_rows(tmp_path, 120)), env=cli_env)
    deadline = time.monotonic() + 300
    while not claimed(instance) and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert victim.poll() is None, f"the import ended before it claimed a slot: {victim.communicate()}"
    held = claimed(instance)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    run_id = held[0].run_id
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # nothing else notices

    # the daemon's sensor, evaluated as the daemon does
    sensor = next(s for s in defs().sensors if s.name == "dead_runs_sensor")
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert run_id in (result.skip_message or "")
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert claimed(instance) == []
    failure = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert "is gone: killed or crashed mid-run" in failure[0].event_log_entry.dagster_event.message


def hold_kis_pool(instance: dg.DagsterInstance, holder: subprocess.Popen[str]) -> list[str]:
    """Two runs of a live process (``holder``) holding both `kis` slots, as two running imports do."""
    tags = {**process_tags(), "azak/pid": str(holder.pid)}
    tags["azak/process_started"] = f"{psutil.Process(holder.pid).create_time():.2f}"
    job = defs().resolve_job_def("daily_prices_job")
    run_ids = []
    for step in ("raw__daily_prices", "raw__daily_prices"):
        run = instance.create_run_for_job(job, run_id=str(uuid.uuid4()), tags=tags,
                                          status=dg.DagsterRunStatus.STARTED)
        assert instance.event_log_storage.claim_concurrency_slot(KIS, run.run_id, step).is_claimed
        run_ids.append(run.run_id)
    return run_ids


def test_a_waiting_import_names_the_holders_sleeps_and_stops_on_sigterm(cli_env, tmp_path):
    instance = instance_of(cli_env)
    path = str(first_rows(tmp_path, 5))
    holder = subprocess.Popen(["sleep", "600"])
    try:
        holders = hold_kis_pool(instance, holder)
        waiting = start_azak("import", "prices", path,
                             env={**cli_env, "AZAK_POOL_POLL_SECONDS": POLL})
        line = ""
        while "waiting for a free slot" not in line and waiting.poll() is None:
            line = waiting.stderr.readline()  # type: ignore[union-attr]
        assert "pool kis (2 slots) held by run" in line, line
        assert all(run_id in line for run_id in holders) and f"pid {holder.pid}" in line
        cpu = psutil.Process(waiting.pid)
        cpu.cpu_percent()
        time.sleep(2)
        assert cpu.cpu_percent() < 30  # it sleeps between looks (Dagster's own wait spun a core at ~90 %)
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(timeout=60) == 130  # (a loaded machine takes seconds to tear Python down)
        assert "interrupted" in waiting.stderr.read()  # type: ignore[union-attr]
        assert [r.status for r in instance.get_runs(dg.RunsFilter(tags={"azak/pid": str(waiting.pid)}))] == []
        assert {s.run_id for s in claimed(instance)} == set(holders)  # a live holder keeps its slots

        holder.kill()
        holder.wait()
        done = run_azak("import", "prices", path,
                        env={**cli_env, "AZAK_POOL_POLL_SECONDS": POLL})
        assert done.returncode == 0, done.stderr  # the holders' process died: reaped, the import goes on
        assert {instance.get_run_by_id(r).status for r in holders} == {dg.DagsterRunStatus.FAILURE}
    finally:
        holder.kill()


def test_a_rejected_row_keeps_the_valid_row_stored_for_its_day(cli_env, db_url, tmp_path):
    header = "date,open,high,low,close,volume\n"
    good = tmp_path / "005930.csv"
    good.write_text(header + "20250602,100,110,90,105,1000\n20250603,105,112,101,108,1200\n"
                    "20250604,108,115,104,111,1300\n20250605,111,116,109,112,900\n")
    assert run_azak("import", "prices", str(good), env=cli_env).returncode == 0
    query = "SELECT trade_date::text, close FROM raw.daily_prices ORDER BY trade_date"
    assert [close for _, close in table(db_url, query)] == [105, 108, 111, 112]

    bad = tmp_path / "again" / "005930.csv"
    bad.parent.mkdir()
    # inside the file's window: 06-03's high is below its low (rejected: the stored 06-03 stays);
    # 06-04 is absent (the file is authoritative for its window: the stored 06-04 goes, as before)
    bad.write_text(header + "20250602,100,110,90,106,1000\n20250603,105,99,101,108,1200\n"
                   "20250605,111,116,109,113,900\n")
    again = run_azak("import", "prices", str(bad), env=cli_env)
    assert again.returncode == 0, again.stderr
    assert "2 valid rows for 1 stock(s), 1 rejected" in again.stdout
    assert "rejected 005930.csv:3: high 99 is below low 101" in again.stdout
    assert "kept 1 stored row(s) whose replacement in the files was rejected" in again.stdout
    assert table(db_url, query) == [("2025-06-02", 106), ("2025-06-03", 108), ("2025-06-05", 113)]
    reasons = table(db_url, "SELECT locator, reason FROM ops.quarantine WHERE asset = 'raw/daily_prices'")
    assert reasons == [("005930.csv:3", "high 99 is below low 101")]
