"""One injected clock: no Azak module, schedule, sensor or asset reads the wall clock.

The stdlib's clocks are made to raise inside every Azak module (``datetime.now``/``today``/
``utcnow``, ``date.today``, ``time.time``), the clock is set to a simulated instant, and the
platform's own schedules, sensors and a real materialization run. Dagster's own timestamps and
durations (``time.monotonic``, ``perf_counter``) stay real.
"""

import sys
import types
from datetime import date, datetime
from typing import Any

import dagster as dg
import pytest

from azak_core import clock
from azak_pipelines.defs.common import kst_today
from azak_pipelines.lib.calendar.krx_calendar import KST, krx_calendar, utc_now
from tests.pipelines.runs import definitions, run

SIMULATED = datetime(2025, 6, 6, 21, 30, tzinfo=KST)  # Memorial Day evening


class WallClockRead(AssertionError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise WallClockRead("an Azak module read the wall clock: ask azak_core.clock instead")


class _Like(type):
    """isinstance() keeps working against the real class for values made elsewhere."""

    def __instancecheck__(cls, value: Any) -> bool:
        return isinstance(value, cls.__mro__[1])


class NoWallDatetime(datetime, metaclass=_Like):
    now = classmethod(_refuse)  # type: ignore[assignment]
    utcnow = classmethod(_refuse)  # type: ignore[assignment]
    today = classmethod(_refuse)  # type: ignore[assignment]


class NoWallDate(date, metaclass=_Like):
    today = classmethod(_refuse)  # type: ignore[assignment]


class NoWallTime(types.ModuleType):
    """The ``time`` module without ``time()``/``time_ns()``."""

    def __getattr__(self, name: str) -> Any:
        if name in ("time", "time_ns"):
            return _refuse
        return getattr(sys.modules["time"], name)


def _azak_modules() -> list[types.ModuleType]:
    return [m for name, m in list(sys.modules.items())
            if name.split(".")[0] in ("azak_pipelines", "azak_core") and m is not None]


@pytest.fixture
def no_wall_clock(monkeypatch: pytest.MonkeyPatch):
    definitions()  # every module of the code location loaded
    replaced = {datetime: NoWallDatetime, date: NoWallDate, sys.modules["time"]: NoWallTime("time")}
    patched = 0
    for module in _azak_modules():
        for name, value in list(vars(module).items()):
            if any(value is real for real in replaced):
                monkeypatch.setattr(module, name, next(v for r, v in replaced.items() if value is r))
                patched += 1
    assert patched > 30  # the fixture reaches the modules it claims to (about one per module using dates)
    krx_calendar.cache_clear()  # its cache key is dated: re-read under the simulated clock
    with clock.simulated(lambda: SIMULATED):
        yield
    krx_calendar.cache_clear()


def test_the_fixture_makes_a_wall_clock_read_fail(no_wall_clock):
    from azak_pipelines.lib.calendar import krx_calendar as module

    with pytest.raises(WallClockRead):
        module.datetime.now()


def test_the_platform_runs_on_the_simulated_clock_alone(no_wall_clock, warehouse_with_stocks, dagster_home, replay):
    assert utc_now() == SIMULATED and kst_today() == date(2025, 6, 6)
    result = run("reference_job", assets=["raw/stocks", "raw/trading_calendar"])
    assert result.success
    instance = dg.DagsterInstance.get()
    defs = definitions()
    repository = defs.get_repository_def()
    # each context closed after its tick: a schedule's context opens an instance of its own from the
    # reference when asked for one, which stays the process's current state storage until closed
    for schedule in defs.schedules:
        with dg.build_schedule_context(instance=instance, resources=defs.resources,
                                       scheduled_execution_time=SIMULATED, repository_def=repository) as context:
            tick = schedule.evaluate_tick(context)
        assert tick.skip_message or tick.run_requests, schedule.name
    for sensor in defs.sensors:
        if isinstance(sensor, dg.AutomationConditionSensorDefinition | dg.RunStatusSensorDefinition):
            continue  # the automation evaluator and run-status sensors use Dagster's own timestamps
        with dg.build_sensor_context(instance=instance, resources=defs.resources,
                                     repository_def=repository) as context:
            tick = sensor.evaluate_tick(context)
        assert tick.skip_message or tick.run_requests, sensor.name


def test_the_clock_refuses_a_naive_time_and_a_second_clock():
    with clock.simulated(lambda: datetime(2025, 6, 6, 12, 0)):
        with pytest.raises(ValueError, match="naive"):
            clock.utc_now()
        with pytest.raises(RuntimeError, match="already set"), clock.simulated(lambda: SIMULATED):
            pass
    assert not clock.is_simulated()
