"""`azak match`: link JSON Lines to listed companies, from a file or standard input.

Input lines: ``{"id": …, "title": …, "content": …, "published_at"?: …}``. Output lines (standard
output): ``{"id": …, "matches": [{"code", "name", "score", "salient", "surface": [...]}]}``; with
``--explain`` each match also carries ``evidence``: ``[{"rule", "surface", "where", "detail"}]``.
A ``published_at`` (ISO date or timestamp) links names as of that day (renames, code reuse). A line that is
not a JSON object is reported on standard error with its number and skipped; the exit status is 1
if any line was skipped.
"""

import json
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import IO, Any

from azak_cli.jsonl import json_objects


def _day(record: dict[str, Any]) -> date | None:
    value = record.get("published_at") or record.get("day")
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def run_match(lines: Iterable[str], out: IO[str], err: IO[str], universe: Path | None = None,
              explain: bool = False) -> int:
    from azak_cli.runtime.environment import PROJECT_ROOT
    from azak_pipelines.lib.matching.linker import load_linker, load_linker_from_rows
    from azak_pipelines.lib.matching.linker_tables import NameSpan
    from azak_pipelines.lib.reference.listing_history import HistoryRow, apply_snapshot
    from azak_pipelines.lib.reference.universe import read_master_snapshots, snapshot_rows
    from azak_pipelines.lib.sample_data import sample_data_dir

    seeds = PROJECT_ROOT / "dbt_project" / "seeds"
    if universe is not None:
        linker = load_linker(universe, seeds)
    else:  # the bundled listing snapshots, with their history of renames and new listings
        history: list[HistoryRow] = []
        for day, records in read_master_snapshots(sample_data_dir() / "universe" / "kis_master"):
            history, _ = apply_snapshot(history, snapshot_rows(records), day)
        linker = load_linker_from_rows([(r.code, r.name) for r in history if r.valid_to is None], seeds,
                                       [NameSpan(r.code, r.name, r.valid_from, r.valid_to, r.ended_by)
                                        for r in history])
    skipped = 0
    for record in json_objects(lines, err, "match"):
        if record is None:
            skipped += 1
            continue
        title = record.get("title")
        content = record.get("content")
        matches = linker.link(title if isinstance(title, str) else None,
                              content if isinstance(content, str) else None, _day(record))
        out.write(json.dumps({"id": record.get("id"), "matches": [m.as_dict(explain) for m in matches]},
                             ensure_ascii=False) + "\n")
        out.flush() if out.isatty() else None
    return 1 if skipped else 0


def main(path: str, universe: str | None, explain: bool = False) -> int:
    with sys.stdin if path == "-" else Path(path).open(encoding="utf-8") as source:
        return run_match(source, sys.stdout, sys.stderr, Path(universe) if universe else None, explain)
