"""The tick loop: what the daemon would request at each simulated tick, executed in order.

Every five simulated minutes the code location's own schedules (each cron minute of the tick that
fires), its sensors and Dagster's automation evaluator (the ``automation_sensor``'s selection) are
evaluated with the clock set to the simulated time; requests for the same job (or assets) and
partition within a tick are merged into one run; the runs execute in this process, in order, in
the real Dagster instance. Simulated time advances by each run's measured wall duration, or by a
fixed cost per run (``run_cost``: then the simulated times do not depend on the machine's load).
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import psycopg
import psycopg2
import sqlalchemy.exc
from dagster_postgres.utils import DagsterPostgresException
from psycopg import sql

from azak_cli.simulate.cron import fires
from azak_cli.simulate.requests import Request, automation_runs, from_run_request, merged
from azak_core import clock
from azak_core.market import KST
from azak_core.settings_registry import read
from azak_pipelines.defs.versions import DATA_VERSION_TAG
from azak_pipelines.run_monitor import process_tags, reap_dead_runs
from azak_pipelines.runs import QUIET_LOGS, failure

TICK = timedelta(minutes=5)
# the session's intraday schedules (every minute, every 5 minutes on the daemon): fired every
# ``Simulation.intraday_every`` simulated minutes and at the session day's last tick (15:55, which
# keeps the closing window's final state); issue 24 allows them sampled more coarsely, the ledger says so
INTRADAY = frozenset({"minute_prices_schedule", "quote_snapshots_schedule", "market_wide_schedule"})
EVERY_TICK = 5  # minutes: each tick, as the daemon (the every-minute requests of a tick merged)
INTRADAY_EVERY = 30  # `azak simulate`'s default; each minute-bar run tops up the whole day so far
LAST_TICK = (15, 55)
# after runs that changed no data (a poll that stored nothing new, a checks run) or none at all,
# only cron conditions can change their answer (every other condition follows data versions:
# defs/automation.py): evaluate then every 30 simulated minutes (an ``on_cron`` condition still sees
# the cron tick that passed, up to 30 minutes late)
QUIET_AUTOMATION = timedelta(minutes=30)
WAVES = 5  # automation evaluations after a tick's runs, each answering the runs before it
# Dagster's in-process execution turns Ctrl-C (or SIGTERM) into a failed run with this reason and
# returns; the simulation must stop there instead of carrying on with the next run
# (the tag is Dagster's own string; no test pins it yet: see docs/simulation.md on Ctrl-C)
FAILURE_REASON_TAG, INTERRUPTED = "dagster/failure_reason", "UNEXPECTED_TERMINATION"
VICTIM_TAG = "azak/simulation_victim"  # a run executed in a child process to be killed (--fault kill-run)
KILL_WAIT_S = 600.0  # how long the child may take to reach the write (imports, fetches on a loaded machine)
# every slice write's last statement, inside its transaction after the delete and the copy, inserts
# into the slice log (azak_pipelines/lib/warehouse.py): holding it in SHARE mode stops the write there
SLICE_LOG = "raw.written_slices"
POLL_S = 0.05  # how often the kill looks for the child's write waiting on the slice log (pg_locks)
BACKEND_GONE_S = 60.0  # a killed client's backend ends once its statement is done (seconds, loaded)
# what a run's execution raises when the instance's database goes away under it (--fault db-restart):
# Dagster then cannot even record the run's failure
STORAGE_ERRORS = (DagsterPostgresException, sqlalchemy.exc.OperationalError, psycopg2.OperationalError,
                  psycopg.OperationalError)
# Dagster's run-retry tags (named in its private dagster._core.storage.tags; their strings are public
# in its docs): tests/cli/test_simulate_retries.py fails if an upgrade changes them or the decision
MAX_RETRIES_TAG, RETRY_NUMBER_TAG, WILL_RETRY_TAG = "dagster/max_retries", "dagster/retry_number", "dagster/will_retry"
ATTEMPT_TAG = "azak/simulation_attempt"  # finds a run whose execution raised before it returned its id
# the request's first failed run, on each in-process retry of it (Dagster's own run group needs a
# parent run id, which execute_in_process cannot set)
RETRY_OF_TAG = "azak/retry_of"


@dataclass(frozen=True)
class CheckOutcome:
    """An asset check's evaluation in a run."""

    asset: str
    name: str
    passed: bool
    description: str


@dataclass
class RunRecord:
    at: datetime
    request: Request
    run_id: str
    success: bool
    seconds: float  # simulated duration: the run's measured wall duration, or the fixed run cost
    failure: str = ""
    checks: tuple[CheckOutcome, ...] = ()
    materialized: tuple[str, ...] = ()  # the assets the run wrote
    # those whose data version it changed (a partition of it, at least); None: not known (every asset
    # it wrote counts as changed)
    changed: tuple[str, ...] | None = None
    killed: dict[str, Any] | None = None  # killed mid-run: its status and the slots it held once reaped
    retry_of: str = ""  # the failed run this one retries (the platform's run retries, dagster.yaml)

    @property
    def ended(self) -> datetime:
        """The simulated time the run ended."""
        return self.at + timedelta(seconds=self.seconds)

    @property
    def updated(self) -> tuple[str, ...]:
        """The assets whose data the run changed (what the automation follows)."""
        return self.materialized if self.changed is None else self.changed

    @property
    def days(self) -> list[str]:
        """The KST days (daily partitions) the run covered."""
        return self.request.days


@dataclass
class Simulation:
    """The platform's daemon decisions replayed from ``start`` to ``end`` (aware datetimes)."""

    definitions: dg.Definitions
    instance: dg.DagsterInstance
    start: datetime
    end: datetime
    say: Callable[[str], None] = print
    # the table inside whose write to SIGKILL a run, or None (--fault kill-run: once, the first run named)
    victim: Callable[[Request], str | None] | None = None
    run_cost: float | None = None  # simulated seconds per run (--run-cost); None: its measured wall duration
    intraday_every: int = EVERY_TICK  # minutes between firings of the INTRADAY schedules (--intraday-every)
    # a context around each run's execution, given its request and its attempt tag (--fault db-restart)
    disruption: Callable[[Request, str], contextlib.AbstractContextManager[Any]] | None = None
    now: datetime = field(init=False)
    runs: list[RunRecord] = field(default_factory=list)
    sensor_cursors: dict[str, str | None] = field(default_factory=dict)
    automation_cursor: Any = None
    automation_at: datetime | None = None
    runs_seen: int = 0  # runs recorded when the automation was last evaluated

    def run(self) -> list[RunRecord]:
        """Every tick of the window; Ctrl-C or SIGTERM raises ``KeyboardInterrupt`` (Dagster raises
        its own interrupt error when the signal comes while it evaluates a schedule's resources)."""
        self.now = self.start
        started = time.monotonic()
        tick, previous = self.start, self.start - TICK
        with clock.simulated(lambda: self.now):
            while tick < self.end:
                self.now = max(self.now, tick)
                try:
                    requests = merged(self.requests(previous, tick))
                except dg.DagsterExecutionInterruptedError as interrupt:
                    raise KeyboardInterrupt("interrupted while evaluating the tick") from interrupt
                for request in requests:
                    self.runs.append(self.execute(request))
                self._follow_up()
                if (tick + TICK).hour != tick.hour:
                    self._progress(tick + TICK, time.monotonic() - started)
                previous, tick = tick, tick + TICK
        return self.runs

    def requests(self, after: datetime, upto: datetime) -> list[Request]:
        """The tick's requests, the automation's first: they answer the writes of the ticks before,
        which the daemon's automation sensor (every 30 s, its runs beside the scheduled ones) would
        have launched before this tick's schedules."""
        return [*self._automation(), *self._schedules(after, upto), *self._sensors()]

    def _follow_up(self) -> None:
        """The automation again after the tick's runs, and again after the runs it asks for, until it
        asks for nothing (at most ``WAVES`` times): the daemon's automation sensor looks every 30 s,
        so a mart two automation steps below a write (the links' marts after the embeddings of the
        news they follow) is built within the tick, not one tick per step."""
        for _ in range(WAVES):
            try:
                requests = self._automation()
            except dg.DagsterExecutionInterruptedError as interrupt:
                raise KeyboardInterrupt("interrupted while evaluating the automation") from interrupt
            if not requests:
                return
            for request in merged(requests):
                self.runs.append(self.execute(request))

    def _schedules(self, after: datetime, upto: datetime) -> list[Request]:
        repository = self.definitions.get_repository_def()
        found = []
        for schedule in repository.schedule_defs:
            if schedule.execution_timezone != KST.key:
                raise RuntimeError(f"{schedule.name} runs in {schedule.execution_timezone}: the simulation "
                                   "reads every cron in KST")
            minute = after + timedelta(minutes=1)
            while minute <= upto:
                local = minute.astimezone(KST)  # every schedule of the code location runs in KST
                if fires(schedule.cron_schedule, local) and self._sampled(schedule.name, local):
                    result = schedule.evaluate_tick(self._schedule_context(schedule, local))
                    found += [from_run_request(schedule.name, r, schedule.job_name) for r in result.run_requests or []]
                minute += timedelta(minutes=1)
        return found

    def _sampled(self, name: str, local: datetime) -> bool:
        """Whether a firing of schedule ``name`` at ``local`` (KST) is kept (only INTRADAY ones are sampled)."""
        if name not in INTRADAY:
            return True
        # the intraday crons end at 15:59: from 15:55 on is the session day's last firings
        return local.minute % self.intraday_every == 0 or (local.hour, local.minute) >= LAST_TICK

    def _schedule_context(self, schedule: dg.ScheduleDefinition, at: datetime) -> dg.ScheduleEvaluationContext:
        """A schedule's context at ``at`` with this simulation's instance and the resources it asks
        for. Dagster's context opens a new instance from the reference (three storages, each a
        database connection and a migration check) and builds every resource it was given at each
        evaluation: ~10 s per simulated trading hour, where the minute-bar schedule alone fires 60
        times. The daemon pays that once per tick in a process of its own; here it would be per
        firing. ``_instance`` is Dagster's private slot, pinned by ``tests/cli/test_simulate_cron.py``."""
        resources = self.definitions.resources or {}
        needed = {key: resources[key] for key in schedule.required_resource_keys}
        context = dg.build_schedule_context(instance=self.instance, scheduled_execution_time=at,
                                            resources=needed, repository_def=self.definitions.get_repository_def())
        context._instance = self.instance  # type: ignore[assignment]  # Dagster's private slot (pinned)
        return context

    def _sensors(self) -> list[Request]:
        repository = self.definitions.get_repository_def()
        found = []
        for sensor in repository.sensor_defs:
            if isinstance(sensor, dg.AutomationConditionSensorDefinition | dg.RunStatusSensorDefinition):
                continue  # the automation: above; run-status sensors react to runs (see the ledger's notes)
            # the resources the sensor asks for only: building all of them at each tick cost ~4 s of
            # every simulated hour (the daemon builds a sensor's own resources too)
            resources = self.definitions.resources or {}
            needed = {key: resources[key] for key in sensor.required_resource_keys}
            context = dg.build_sensor_context(instance=self.instance, cursor=self.sensor_cursors.get(sensor.name),
                                              resources=needed, repository_def=repository)
            result = sensor.evaluate_tick(context)
            self.sensor_cursors[sensor.name] = result.cursor
            job = sensor.job_name if sensor.has_jobs else None
            found += [from_run_request(sensor.name, r, r.job_name or job) for r in result.run_requests or []]
        return found

    def _automation(self) -> list[Request]:
        """The automation's requests now, or nothing without evaluating it when no run since its last
        evaluation changed any data and it was evaluated under ``QUIET_AUTOMATION`` ago."""
        changed = any(record.updated for record in self.runs[self.runs_seen:])
        if not changed and self.automation_at is not None and self.now - self.automation_at < QUIET_AUTOMATION:
            return []
        return self.evaluate_automation()

    def evaluate_automation(self) -> list[Request]:
        """Dagster's evaluation of the ``automation_sensor``'s selection now (its cursor kept), as runs."""
        self.automation_at, self.runs_seen = self.now, len(self.runs)
        sensors = self.definitions.get_repository_def().sensor_defs
        sensor = next(s for s in sensors if isinstance(s, dg.AutomationConditionSensorDefinition))
        selection = sensor.asset_selection
        result = dg.evaluate_automation_conditions(
            defs=self.definitions, instance=self.instance, asset_selection=selection,
            evaluation_time=self.now, cursor=self.automation_cursor)
        self.automation_cursor = result.cursor
        if not result.total_requested:
            return []
        graph = self.definitions.resolve_asset_graph()
        requested = {}
        for key in selection.resolve(graph):
            with contextlib.suppress(KeyError):  # not requested this time
                requested[key] = result.get_requested_partitions(key)
        return automation_runs(graph, requested)

    def execute(self, request: Request) -> RunRecord:
        """Run ``request`` in this process; the simulated clock moves by the run's wall duration, or
        by ``run_cost``. A failed run is retried as the daemon retries the runs it launches
        (:func:`retry_tags`): the failed attempts are recorded, the last attempt is returned."""
        table = self.victim(request) if self.victim is not None and not any(r.killed for r in self.runs) else None
        if table:
            return self.kill(request, table)
        record = self._attempt(request, {})
        retries = 0
        while not record.success and (tags := retry_tags(self.instance, record.run_id, retries, record.retry_of)):
            self.runs.append(record)
            retries += 1
            self.say(f"  retrying {record.run_id} ({request.label}): retry {retries}")
            record = self._attempt(request, tags)
        return record

    def _attempt(self, request: Request, tags: dict[str, str]) -> RunRecord:
        at, started, token = self.now, time.monotonic(), uuid.uuid4().hex
        tags = {ATTEMPT_TAG: token, **tags}
        disruption = self.disruption(request, token) if self.disruption else contextlib.nullcontext()
        result, error = None, ""
        with disruption, contextlib.redirect_stdout(sys.stderr):
            try:
                result = execute_request(self.definitions, self.instance, request, tags)
            except STORAGE_ERRORS as storage_error:  # the instance's database went away mid-run
                error = f"the run could not record its events: {type(storage_error).__name__}: {storage_error}"
        run_id = result.run_id if result is not None else self._run_of(token)
        if result is None:
            self._fail_unfinished(run_id, error)
        elif not result.success and interrupted(self.instance, result.run_id):
            raise KeyboardInterrupt(f"interrupted during run {result.run_id} ({request.label}), marked failed")
        seconds = time.monotonic() - started if self.run_cost is None else self.run_cost
        self.now = at + timedelta(seconds=seconds)
        success = result is not None and result.success
        events = result.get_asset_materialization_events() if result is not None else []
        record = RunRecord(at, request, run_id, success, seconds,
                           error if result is None else "" if success else failure(result),
                           check_outcomes(result) if result is not None else (),
                           tuple(sorted({e.materialization.asset_key.to_user_string() for e in events})),
                           changed_assets(self.instance, events), retry_of=tags.get(RETRY_OF_TAG, ""))
        if not success:
            self.say(f"  run failed at {at.astimezone(KST):%Y-%m-%d %H:%M} KST: {request.label}: "
                     f"{record.failure[:300]}")
        return record

    def _run_of(self, token: str) -> str:
        runs = self.instance.get_runs(dg.RunsFilter(tags={ATTEMPT_TAG: token}), limit=1)
        return runs[0].run_id if runs else ""

    def _fail_unfinished(self, run_id: str, error: str) -> None:
        """Mark FAILURE a run whose execution raised before it could record its end (its database
        was down), and free its pool slots: this process is alive, so the run monitor would not."""
        run = self.instance.get_run_by_id(run_id) if run_id else None
        if run is not None and not run.is_finished:
            self.instance.report_run_failed(run, f"{error}; marked failed by the simulation once the database "
                                                 "answered again")
            self.instance.event_log_storage.free_concurrency_slots_for_run(run_id)

    def kill(self, request: Request, table: str) -> RunRecord:
        """Run ``request`` in a child process (:mod:`azak_cli.simulate.victim`), SIGKILL it inside its
        write transaction of ``table`` (:func:`_kill_inside_write`), and reap it as the platform does
        (:func:`reap_dead_runs`); the record says where the kill landed and what was left behind."""
        at, started, token = self.now, time.monotonic(), uuid.uuid4().hex
        spec = json.dumps({"at": at.isoformat(), "token": token, "job": request.job, "partition": request.partition,
                           "assets": [k.to_user_string() for k in request.assets], "tags": dict(request.tags),
                           "run_config": request.run_config})
        url = read("AZAK_DATABASE_URL")
        if url is None:
            raise RuntimeError("AZAK_DATABASE_URL is not set: the kill watches the warehouse's locks through it")
        with psycopg.connect(url, application_name="azak-simulate-kill") as conn:
            before = _fingerprint(conn, table)
            child = subprocess.Popen([sys.executable, "-m", "azak_cli.simulate.victim", spec],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
            try:
                where = _kill_inside_write(conn, child, table)
            finally:
                if child.poll() is None:
                    os.kill(child.pid, signal.SIGKILL)
                child.wait()
            after = _fingerprint(conn, table)
        runs = self.instance.get_runs(dg.RunsFilter(tags={VICTIM_TAG: token}), limit=1)
        run_id = runs[0].run_id if runs else None
        reaped = reap_dead_runs(self.instance)
        run = self.instance.get_run_by_id(run_id) if run_id else None
        claimed = [s.run_id for info in self.instance.event_log_storage.get_concurrency_infos(
            sorted(self.instance.event_log_storage.get_concurrency_keys())).values() for s in info.claimed_slots
            if s.run_id == run_id]
        killed = {"run_id": run_id, "signal": "SIGKILL" if child.returncode == -signal.SIGKILL else
                  f"none (exited {child.returncode})", **where, "rows_before": before[0],
                  "table_unchanged": before == after, "status": run.status.value if run else "no run",
                  "reaped": run_id in reaped, "slots_claimed_after": len(claimed)}
        seconds = time.monotonic() - started if self.run_cost is None else self.run_cost
        self.now = at + timedelta(seconds=seconds)
        self.say(f"  killed at {self.now.astimezone(KST):%Y-%m-%d %H:%M} KST: {request.label}: {killed}")
        return RunRecord(at, request, run_id or "", False, seconds, f"killed mid-write (kill-run fault): {killed}",
                         killed=killed)

    def _progress(self, at: datetime, wall: float) -> None:
        failed = sum(not r.success for r in self.runs)
        self.say(f"{at.astimezone(KST):%Y-%m-%d %H:%M} KST  runs {len(self.runs)} (failed {failed})  "
                 f"wall {wall:.0f} s")



# the backend waiting on the slice log behind this session (only a write's last statement does), with
# whether it holds a RowExclusiveLock on the table (its delete and copy are done) and its transaction
WAITING = """SELECT w.pid, bool_or(h.relation = %(table)s::regclass), max(x.transactionid::text)
FROM pg_locks w
LEFT JOIN pg_locks h ON h.pid = w.pid AND h.granted AND h.mode = 'RowExclusiveLock'
LEFT JOIN pg_locks x ON x.pid = w.pid AND x.granted AND x.locktype = 'transactionid'
WHERE NOT w.granted AND w.relation = %(log)s::regclass AND pg_backend_pid() = ANY(pg_blocking_pids(w.pid))
GROUP BY w.pid"""


def _kill_inside_write(conn: psycopg.Connection[Any], child: subprocess.Popen[bytes], table: str) -> dict[str, Any]:
    """SIGKILL ``child`` inside its write transaction of ``table``: hold the slice log in SHARE mode
    until the child's write of ``table`` waits on it (writes of other tables are let through, one at a
    time); then the old slice is deleted and the new one copied, uncommitted. What the kill met: the
    rows of ``table`` that transaction had deleted (visible to others still, marked by its xid)."""
    if conn.execute("SELECT to_regclass(%s)", (SLICE_LOG,)).fetchone()[0] is None:  # type: ignore[index]
        return {"inside_write": None, "why_not": f"no {SLICE_LOG} yet (no slice written before)"}
    deadline = time.monotonic() + KILL_WAIT_S
    lock = sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(*SLICE_LOG.split(".")))
    conn.execute(lock)  # opens this session's transaction (psycopg: not autocommit)
    try:
        while child.poll() is None and time.monotonic() < deadline:
            found = conn.execute(WAITING, {"table": table, "log": SLICE_LOG}).fetchone()
            if found is None:
                time.sleep(POLL_S)
                continue
            pid, inside, xid = found
            if not inside:  # another table's write (the job's other asset): let it commit, hold again
                conn.commit()
                conn.execute(lock)
                continue
            deleted = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE xmax = %s::xid").format(
                sql.Identifier(*table.split("."))), (xid,)).fetchone()[0]  # type: ignore[index]
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            conn.rollback()  # the backend's statement ends, it reads the closed socket, and rolls back
            _wait_backend_gone(conn, pid)
            return {"inside_write": table, "old_rows_deleted_uncommitted": deleted}
        return {"inside_write": None, "why_not": "the child ended or timed out before writing"}
    finally:
        conn.rollback()


def _wait_backend_gone(conn: psycopg.Connection[Any], pid: int) -> None:
    deadline = time.monotonic() + BACKEND_GONE_S
    while conn.execute("SELECT count(*) FROM pg_locks WHERE pid = %s", (pid,)).fetchone()[0]:  # type: ignore[index]
        conn.rollback()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the killed run's backend {pid} still holds locks after {BACKEND_GONE_S:.0f} s")
        time.sleep(POLL_S)
    conn.rollback()


def _fingerprint(conn: psycopg.Connection[Any], table: str) -> tuple[int, str]:
    """``table``'s row count and a digest of its rows (committed: what any reader sees); none yet: 0."""
    if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:  # type: ignore[index]
        conn.rollback()
        return 0, ""
    row = conn.execute(sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                               "FROM {} AS t").format(sql.Identifier(*table.split(".")))).fetchone()
    conn.rollback()
    return row[0], row[1]  # type: ignore[index]


def execute_request(definitions: dg.Definitions, instance: dg.DagsterInstance, request: Request,
                    tags: dict[str, str] | None = None) -> Any:
    """Execute ``request`` in this process (its job, or the assets the automation asked for),
    tagged as a simulated run of this process (``tags`` added)."""
    if request.job is not None:
        job, selection = definitions.resolve_job_def(request.job), None
    else:
        implicit = definitions.resolve_implicit_job_def_def_for_assets(list(request.assets))
        if implicit is None:
            raise RuntimeError(f"no job materializes {request.label}")
        job, selection = implicit, list(request.assets)
    config = {**QUIET_LOGS, **json.loads(request.run_config)}
    return job.execute_in_process(
        instance=instance, run_config=config, partition_key=request.partition,
        tags={"azak/simulated": "true", **dict(request.tags), **process_tags(), **(tags or {})},
        raise_on_error=False, asset_selection=selection)


def retry_tags(instance: dg.DagsterInstance, run_id: str, retries: int, root: str = "") -> dict[str, str] | None:
    """The tags of the retry of the failed run ``run_id`` (its ``retries``-th so far), or None when
    the platform would not retry it. Dagster decides as its daemon does when the failure is recorded
    (``dagster.yaml``'s ``run_retries``, the run's ``dagster/max_retries`` tag: the
    ``dagster/will_retry`` tag it sets); the count is kept here, since in-process retries are not in
    one run group."""
    run = instance.get_run_by_id(run_id) if run_id else None
    if run is None or run.tags.get(WILL_RETRY_TAG) != "true":
        return None
    limit = int(run.tags.get(MAX_RETRIES_TAG) or instance.run_retries_max_retries)
    if retries >= limit:
        return None
    return {RETRY_OF_TAG: root or run_id, RETRY_NUMBER_TAG: str(retries + 1)}


def changed_assets(instance: dg.DagsterInstance, events: list[Any]) -> tuple[str, ...]:
    """The assets among a run's materialization ``events`` whose data version differs from the one
    stored before for the same partition (or that had none before): what the automation's
    ``DEPS_CHANGED`` follows (``azak_pipelines/defs/automation.py``). The runs execute one at a time,
    so the previous materialization is the one just before the latest."""
    changed = set()
    for event in events:
        mat = event.materialization
        key, partition = mat.asset_key, mat.partition
        if key.to_user_string() in changed:
            continue
        records = instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=key, asset_partitions=[partition] if partition else None), limit=2).records
        versions = [(r.asset_materialization.tags or {}).get(DATA_VERSION_TAG) if r.asset_materialization else None
                    for r in records]
        if len(versions) < 2 or versions[0] != versions[1] or versions[0] is None:
            changed.add(key.to_user_string())
    return tuple(sorted(changed))


def interrupted(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run failed because this process was interrupted (Ctrl-C, SIGTERM)."""
    run = instance.get_run_by_id(run_id)
    return run is not None and run.tags.get(FAILURE_REASON_TAG) == INTERRUPTED


def check_outcomes(result: Any) -> tuple[CheckOutcome, ...]:
    """Every asset check evaluated in a run, with its verdict and description."""
    found = (e.asset_check_evaluation_data for e in result.all_events
             if e.event_type_value == "ASSET_CHECK_EVALUATION")
    return tuple(CheckOutcome(c.asset_key.to_user_string(), c.check_name, c.passed, c.description or "")
                 for c in found)
