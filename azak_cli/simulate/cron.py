"""Does a cron expression fire at a minute? Five standard fields (minute hour day month weekday),
with ``*``, ``N``, ``A-B``, ``*/S``, ``A-B/S`` and comma lists: what the code location's schedules use.
(``tests/cli/test_simulate.py`` checks it against Dagster's own tick iterator for every schedule.)"""

from collections.abc import Sequence
from datetime import datetime

RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _values(field: str, low: int, high: int) -> set[int]:
    found: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            start, end = (int(x) for x in span.split("-"))
        else:
            start = end = int(span)
            if step:
                end = high
        found.update(range(start, end + 1, int(step or 1)))
    return {0 if v == 7 and high == 6 else v for v in found}  # weekday 7 is Sunday too


def fires(expression: str | Sequence[str], at: datetime) -> bool:
    """Whether ``expression`` (or any of a list) fires at ``at``'s minute, in ``at``'s own zone."""
    if not isinstance(expression, str):
        return any(fires(e, at) for e in expression)
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"not a five-field cron expression: {expression!r}")
    weekday = (at.weekday() + 1) % 7  # cron counts Sunday as 0
    actual = (at.minute, at.hour, at.day, at.month, weekday)
    return all(value in _values(field, low, high)
               for field, value, (low, high) in zip(fields, actual, RANGES, strict=True))
