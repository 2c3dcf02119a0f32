"""A command's answer as JSON on standard output (``--json``): one document, UTF-8 text kept as is,
dates and times as ISO 8601 strings."""

import json
from datetime import date, datetime
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, default=_plain), flush=True)
