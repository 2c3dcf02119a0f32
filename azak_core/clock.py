"""The one clock of the pipelines: every Azak module asks it what time it is.

It reads the wall clock, unless a simulation (``azak simulate``) or a test has set it to a
function of its own, for the whole process: schedules, sensors, assets, clients and replay
servers then all see the same simulated "now". Durations (``time.monotonic``, ``perf_counter``)
and Dagster's own event timestamps stay real.
"""

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

from azak_core.market import KST

_source: Callable[[], datetime] | None = None


def utc_now() -> datetime:
    """Now, aware, in UTC: the simulated time when one is set, else the wall clock."""
    if _source is None:
        return datetime.now(UTC)
    now = _source()
    if now.tzinfo is None:
        raise ValueError(f"the clock answered a naive datetime ({now}): give it a time zone")
    return now.astimezone(UTC)


def kst_today() -> date:
    """Today's date in Korea by the same clock."""
    return utc_now().astimezone(KST).date()


def is_simulated() -> bool:
    return _source is not None


@contextlib.contextmanager
def simulated(source: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, this process's "now" is ``source()`` (nesting is refused: one clock)."""
    global _source
    if _source is not None:
        raise RuntimeError("a simulated clock is already set in this process")
    _source = source
    try:
        yield
    finally:
        _source = None
