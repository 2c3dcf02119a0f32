"""Named SQL statements kept in ``.sql`` files beside the code that runs them.

A file holds blocks introduced by ``-- name: <identifier>``; :func:`load_queries` returns them
by name.
"""

import re
from functools import lru_cache
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@lru_cache(maxsize=32)
def load_queries(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    names = list(_NAME.finditer(text))
    if not names:
        raise ValueError(f"{path} has no '-- name:' blocks")
    queries = {}
    for i, match in enumerate(names):
        end = names[i + 1].start() if i + 1 < len(names) else len(text)
        queries[match.group(1)] = text[match.end():end].strip().rstrip(";")
    return queries
