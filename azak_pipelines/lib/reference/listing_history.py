"""Which company held which code and name when: listing snapshots folded into a history.

Each snapshot (the KIS master files of one day) is compared with the open rows of the history:
a code seen for the first time opens a row (``listed``; ``first_seen`` in the very first snapshot),
a new name for a code closes the old row (``renamed``) and opens one, a code that disappears is
closed (``delisted``), and a code that comes back after a delisting — or whose listing date moved
past its open row — belongs to another company (``code_reused``). Dates are the snapshot day,
or the record's listing date when that is later than what the history knew: with weekly
snapshots a rename is placed within a week of the real day.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any


class HistoryError(ValueError):
    """A snapshot that cannot be applied (older than the history, a duplicated code)."""


@dataclass(frozen=True)
class SnapshotRow:
    code: str
    name: str
    market: str
    isin: str | None
    listed_on: date | None


@dataclass(frozen=True)
class HistoryRow:
    code: str
    name: str
    market: str
    isin: str | None
    valid_from: date
    valid_to: date | None  # exclusive; None while the code holds the name
    began_by: str  # first_seen | listed | renamed | code_reused
    ended_by: str | None  # renamed | delisted | code_reused
    last_seen: date

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.code, self.name, self.market, self.isin, self.valid_from, self.valid_to,
                self.began_by, self.ended_by, self.last_seen)


@dataclass(frozen=True)
class Change:
    kind: str  # listed | renamed | delisted | code_reused
    code: str
    before: str | None
    after: str | None
    day: date


def apply_snapshot(history: Iterable[HistoryRow], snapshot: Iterable[SnapshotRow],
                   as_of: date) -> tuple[list[HistoryRow], list[Change]]:
    """The history after the snapshot of ``as_of``, and what changed. Applying the same snapshot
    twice changes nothing; an older snapshot than the history has seen is refused."""
    rows = list(history)
    latest = max((row.last_seen for row in rows), default=None)
    if latest is not None and as_of < latest:
        raise HistoryError(f"snapshot of {as_of} is older than the history (last seen {latest}); "
                           "apply snapshots in date order")
    first = not rows
    by_code: dict[str, SnapshotRow] = {}
    for item in snapshot:
        if item.code in by_code:
            raise HistoryError(f"snapshot of {as_of}: code {item.code} appears twice")
        by_code[item.code] = item
    open_rows = {row.code: i for i, row in enumerate(rows) if row.valid_to is None}
    closed_codes = {row.code for row in rows if row.valid_to is not None}
    changes: list[Change] = []
    out = list(rows)
    for code, item in sorted(by_code.items()):
        index = open_rows.get(code)
        if index is not None:
            current = out[index]
            # a listing date after the row began: another company was listed under the code
            reused = item.listed_on is not None and item.listed_on > current.valid_from
            if current.name == item.name and not reused:
                out[index] = replace(current, last_seen=as_of, market=item.market)
                continue
            kind = "code_reused" if reused else "renamed"
            start = item.listed_on if reused and item.listed_on else as_of
            out[index] = replace(current, valid_to=start, ended_by=kind)
            out.append(HistoryRow(code, item.name, item.market, item.isin, start, None, kind, None, as_of))
            changes.append(Change(kind, code, current.name, item.name, start))
            continue
        if first:
            start = item.listed_on or as_of
            out.append(HistoryRow(code, item.name, item.market, item.isin, start, None, "first_seen", None, as_of))
            continue
        kind = "code_reused" if code in closed_codes else "listed"
        start = item.listed_on if item.listed_on and item.listed_on <= as_of else as_of
        ended = max((r.valid_to for r in out if r.code == code and r.valid_to), default=None)
        if ended is not None and start < ended:
            start = ended
        out.append(HistoryRow(code, item.name, item.market, item.isin, start, None, kind, None, as_of))
        changes.append(Change(kind, code, None, item.name, start))
    for code, index in open_rows.items():
        if code not in by_code:
            current = out[index]
            out[index] = replace(current, valid_to=as_of, ended_by="delisted")
            changes.append(Change("delisted", code, current.name, None, as_of))
    out.sort(key=lambda row: (row.code, row.valid_from))
    return out, changes
