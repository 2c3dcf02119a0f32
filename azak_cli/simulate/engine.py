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
from azak_core import clock
from azak_core.market import KST
from azak_core.runs import RANGE_END, RANGE_START
from azak_pipelines.runs import QUIET_LOGS, failure

TICK = timedelta(minutes=5)
# between ticks that ran nothing, only cron conditions can change their answer: evaluate then
# every 30 simulated minutes (an ``on_cron`` condition still sees the cron tick that passed)
QUIET_AUTOMATION = timedelta(minutes=30)


@dataclass(frozen=True)
class Request:
    """One run to make: a job, or assets the automation asked for, with a partition or a range."""

    origin: str
    job: str | None
    assets: tuple[dg.AssetKey, ...] = ()
    partition: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    run_config: str = "{}"

    @property
    def key(self) -> tuple[Any, ...]:
        ranges = tuple(t for t in self.tags if t[0] in (RANGE_START, RANGE_END))
        return self.job, self.assets, self.partition, ranges, self.run_config

    @property
    def label(self) -> str:
        what = self.job or ",".join(k.to_user_string() for k in self.assets)
        ranges = dict(self.tags)
        span = self.partition or "…".join(ranges[k] for k in (RANGE_START, RANGE_END) if k in ranges)
        return f"{what}[{span}]" if span else what


@dataclass
class RunRecord:
    at: datetime
    request: Request
    run_id: str
    success: bool
    seconds: float
    failure: str = ""


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
        self.now = self.start
        started = time.monotonic()
        tick, previous = self.start, self.start - TICK
        with clock.simulated(lambda: self.now):
            while tick < self.end:
                self.now = max(self.now, tick)
                for request in merged(self.requests(previous, tick)):
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
                    found += [_request(schedule.name, r, schedule.job_name) for r in result.run_requests or []]
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
            found += [_request(sensor.name, r, r.job_name or job) for r in result.run_requests or []]
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
        by_partition: dict[tuple[Any, str | None], list[dg.AssetKey]] = {}
        graph = self.definitions.resolve_asset_graph()
        for key in selection.resolve(graph):
            try:
                partitions = result.get_requested_partitions(key)
            except KeyError:
                continue
            for partition in partitions:
                by_partition.setdefault((id(graph.get(key).partitions_def), partition), []).append(key)
        return [Request("automation", None, tuple(sorted(keys)), partition)
                for (_, partition), keys in by_partition.items()]

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
                tags={"azak/simulated": "true", **dict(request.tags)}, raise_on_error=False,
                asset_selection=selection)
        seconds = time.monotonic() - started
        self.now = at + timedelta(seconds=seconds)
        record = RunRecord(at, request, result.run_id, result.success, seconds,
                           "" if result.success else failure(result))
        if not result.success:
            self.say(f"  run failed at {at.astimezone(KST):%Y-%m-%d %H:%M} KST: {request.label}: "
                     f"{record.failure[:300]}")
        return record

    def _progress(self, at: datetime, wall: float) -> None:
        failed = sum(not r.success for r in self.runs)
        self.say(f"{at.astimezone(KST):%Y-%m-%d %H:%M} KST  runs {len(self.runs)} (failed {failed})  "
                 f"wall {wall:.0f} s")


def _request(origin: str, request: dg.RunRequest, job: str | None) -> Request:
    import json

    tags = tuple(sorted((k, v) for k, v in (request.tags or {}).items()))
    selection = tuple(sorted(request.asset_selection)) if request.asset_selection and not job else ()
    return Request(origin, job, selection, request.partition_key, tags,
                   json.dumps(request.run_config or {}, sort_keys=True, default=str))


def merged(requests: list[Request]) -> list[Request]:
    """One run per job (or asset set) and partition within a tick; the first request's origin."""
    seen: dict[tuple[Any, ...], Request] = {}
    for request in requests:
        seen.setdefault(request.key, request)
    return list(seen.values())
