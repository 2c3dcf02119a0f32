"""A `.env` file in the current folder, read before any command runs.

The environment wins over the file; an empty value counts as unset on both sides (an empty
variable in the environment takes the file's value; an empty line in the file sets nothing).
Lines are ``NAME=value``, optionally prefixed with ``export`` and quoted with ' or "; ``#`` starts
a comment line. A line that is none of these is an error naming the file and line, so a typo
never silently drops a setting.
"""

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

from azak_cli.errors import UsageError

LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")


def parse(text: str, source: str = ".env") -> dict[str, str]:
    """The file's settings, in order; quotes removed, surrounding spaces stripped."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.fullmatch(line)
        if match is None:
            raise UsageError(f"{source}:{number}: not NAME=value: {line[:60]!r}")
        name, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:  # an unquoted value ends at a comment
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def load(path: Path = Path(".env"), environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Set the file's non-empty values that the environment leaves unset or empty; the names set."""
    env = os.environ if environ is None else environ
    if not path.is_file():
        return []
    applied = []
    for name, value in parse(path.read_text(encoding="utf-8"), str(path)).items():
        if value and not env.get(name, "").strip():
            env[name] = value
            applied.append(name)
    return applied
