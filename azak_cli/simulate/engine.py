"""The tick loop: what the daemon would request at each simulated tick, executed in order.

Every five simulated minutes the code location's own schedules (each cron minute of the tick that
fires), its sensors and Dagster's automation evaluator (the ``automation_sensor``'s selection) are
evaluated with the clock set to the simulated time; requests for the same job (or assets) and
partition within a tick are merged into one run; the runs execute in this process, in order, in
the real Dagster instance. Simulated time advances by each run's measured wall duration.
"""

import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from azak_cli.simulate.cron import fires
from azak_cli.simulate.requests import Request, automation_runs, from_run_request, merged
from azak_core import clock
from azak_core.market import KST
from azak_pipelines.run_monitor import process_tags
from azak_pipelines.runs import QUIET_LOGS, failure

TICK = timedelta(minutes=5)
# between ticks that ran nothing, only cron conditions can change their answer: evaluate then
# every 30 simulated minutes (an ``on_cron`` condition still sees the cron tick that passed)
QUIET_AUTOMATION = timedelta(minutes=30)
# Dagster's in-process execution turns Ctrl-C (or SIGTERM) into a failed run with this reason and
# returns; the simulation must stop there instead of carrying on with the next run
# (the tag is Dagster's own string; no test pins it yet: see docs/simulation.md on Ctrl-C)
FAILURE_REASON_TAG, INTERRUPTED = "dagster/failure_reason", "UNEXPECTED_TERMINATION"


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
    seconds: float
    failure: str = ""
    checks: tuple[CheckOutcome, ...] = ()
    materialized: tuple[str, ...] = ()  # the assets the run wrote

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
    now: datetime = field(init=False)
    runs: list[RunRecord] = field(default_factory=list)
    sensor_cursors: dict[str, str | None] = field(default_factory=dict)
    automation_cursor: Any = None
    automation_at: datetime | None = None
    runs_seen: int = -1

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
                if (tick + TICK).hour != tick.hour:
                    self._progress(tick + TICK, time.monotonic() - started)
                previous, tick = tick, tick + TICK
        return self.runs

    def requests(self, after: datetime, upto: datetime) -> list[Request]:
        return [*self._schedules(after, upto), *self._sensors(), *self._automation()]

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
                if fires(schedule.cron_schedule, local):
                    context = dg.build_schedule_context(
                        instance=self.instance, scheduled_execution_time=local,
                        resources=self.definitions.resources, repository_def=repository)
                    result = schedule.evaluate_tick(context)
                    found += [from_run_request(schedule.name, r, schedule.job_name) for r in result.run_requests or []]
                minute += timedelta(minutes=1)
        return found

    def _sensors(self) -> list[Request]:
        repository = self.definitions.get_repository_def()
        found = []
        for sensor in repository.sensor_defs:
            if isinstance(sensor, dg.AutomationConditionSensorDefinition | dg.RunStatusSensorDefinition):
                continue  # the automation: below; run-status sensors react to runs (see the ledger's notes)
            context = dg.build_sensor_context(instance=self.instance, cursor=self.sensor_cursors.get(sensor.name),
                                              resources=self.definitions.resources, repository_def=repository)
            result = sensor.evaluate_tick(context)
            self.sensor_cursors[sensor.name] = result.cursor
            job = sensor.job_name if sensor.has_jobs else None
            found += [from_run_request(sensor.name, r, r.job_name or job) for r in result.run_requests or []]
        return found

    def _automation(self) -> list[Request]:
        quiet = self.runs_seen == len(self.runs) and self.automation_at is not None
        if quiet and self.now - self.automation_at < QUIET_AUTOMATION:  # type: ignore[operator]
            return []
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
        """Run ``request`` in this process; the simulated clock moves by the run's wall duration."""
        import json

        at, started = self.now, time.monotonic()
        if request.job is not None:
            job = self.definitions.resolve_job_def(request.job)
            selection = None
        else:
            implicit = self.definitions.resolve_implicit_job_def_def_for_assets(list(request.assets))
            if implicit is None:
                raise RuntimeError(f"no job materializes {request.label}")
            job = implicit
            selection = list(request.assets)
        config = {**QUIET_LOGS, **json.loads(request.run_config)}
        with contextlib.redirect_stdout(sys.stderr):
            result = job.execute_in_process(
                instance=self.instance, run_config=config, partition_key=request.partition,
                tags={"azak/simulated": "true", **dict(request.tags), **process_tags()},
                raise_on_error=False, asset_selection=selection)
        if not result.success and interrupted(self.instance, result.run_id):
            raise KeyboardInterrupt(f"interrupted during run {result.run_id} ({request.label}), marked failed")
        seconds = time.monotonic() - started
        self.now = at + timedelta(seconds=seconds)
        record = RunRecord(at, request, result.run_id, result.success, seconds,
                           "" if result.success else failure(result), check_outcomes(result),
                           tuple(sorted({e.materialization.asset_key.to_user_string()
                                         for e in result.get_asset_materialization_events()})))
        if not result.success:
            self.say(f"  run failed at {at.astimezone(KST):%Y-%m-%d %H:%M} KST: {request.label}: "
                     f"{record.failure[:300]}")
        return record

    def _progress(self, at: datetime, wall: float) -> None:
        failed = sum(not r.success for r in self.runs)
        self.say(f"{at.astimezone(KST):%Y-%m-%d %H:%M} KST  runs {len(self.runs)} (failed {failed})  "
                 f"wall {wall:.0f} s")



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
