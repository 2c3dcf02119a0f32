"""`azak match`: link JSON Lines to listed companies, from a file or standard input.

Input lines: ``{"id": …, "title": …, "content": …}``. Output lines (standard output):
``{"id": …, "matches": [{"code", "name", "score", "salient", "surface": [...]}]}``. A line that is
not a JSON object is reported on standard error with its number and skipped; the exit status is 1
if any line was skipped.
"""

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO


def run_match(lines: Iterable[str], out: IO[str], err: IO[str], universe: Path | None = None) -> int:
    from azak_cli.environment import PROJECT_ROOT
    from azak_pipelines.lib.linker import load_linker
    from azak_pipelines.lib.sample_data import sample_data_dir

    listing = universe or sample_data_dir() / "universe" / "krx_listed_2025_09.csv"
    linker = load_linker(listing, PROJECT_ROOT / "dbt_project" / "seeds")
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            print(f"azak match: line {number}: {exc}; skipped", file=err)
            skipped += 1
            continue
        title = record.get("title")
        content = record.get("content")
        matches = linker.link(title if isinstance(title, str) else None,
                              content if isinstance(content, str) else None)
        out.write(json.dumps({"id": record.get("id"), "matches": [m.as_dict() for m in matches]},
                             ensure_ascii=False) + "\n")
        out.flush() if out.isatty() else None
    return 1 if skipped else 0


def main(path: str, universe: str | None) -> int:
    with sys.stdin if path == "-" else Path(path).open(encoding="utf-8") as source:
        return run_match(source, sys.stdout, sys.stderr, Path(universe) if universe else None)
