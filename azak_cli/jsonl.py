"""JSON Lines input of the commands that read one object a line (``azak match``, ``azak similar``)."""

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any


def json_objects(lines: Iterable[str], err: IO[str], command: str,
                 check: Callable[[dict[str, Any]], None] | None = None) -> Iterator[dict[str, Any] | None]:
    """Each non-blank line's JSON object, as it is read. A line that is not a JSON object, or that
    ``check`` refuses with a ``ValueError``, is reported on ``err`` with its number and yields
    ``None`` (the caller counts it as skipped)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            if check is not None:
                check(record)
        except ValueError as exc:
            print(f"azak {command}: line {number}: {exc}; skipped", file=err)
            yield None
            continue
        yield record
