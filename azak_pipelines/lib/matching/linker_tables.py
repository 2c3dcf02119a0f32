"""The linker's data: the seed tables (dbt seeds, loaded into the warehouse by ``dbt seed``) and the
listing history. Pure: files and rows in, typed records out.

Every table is data with a provenance column saying where a row comes from (a KIND legal name,
a KRX rename, press usage, market slang, a team rule). Rules live in ``linker.py``; what they
apply to lives here, so a new broker, brand or group phrase is a row, not code.
"""

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

SEED_FILES = ("stock_aliases.csv", "entity_blockers.csv", "short_name_overrides.csv", "brokers.csv",
              "group_context.csv")


@dataclass(frozen=True)
class NameSpan:
    """A listed name held by a code over ``[valid_from, valid_to)``; open ends are unknown/current.
    ``ended_by`` says why the span closed: ``renamed`` (the company lives on under a new name),
    ``delisted`` or ``code_reused`` (the code now belongs to another company)."""

    code: str
    name: str
    valid_from: date | None = None
    valid_to: date | None = None
    ended_by: str | None = None

    def holds(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Broker:
    """A securities firm as headlines cite it: a short form (``KB``, ``키움``) and the firm; ``code``
    is None when the firm is not listed (then a citation links nothing — never the group's holding
    company). ``bare_source``: the bare short before a quote is the firm even without research words
    (키움, 미래), unlike group-wide shorts (삼성, KB, 신한) that may be the group speaking."""

    short: str
    firm: str
    code: str | None
    bare_source: bool


@dataclass(frozen=True)
class GroupContext:
    """A bare group prefix (현대, LG …) in a pair such as "현대·기아" or "LG·SK" is the listing
    whose keywords appear in the same sentence — or nothing."""

    prefix: str
    keywords: tuple[str, ...]
    code: str


@dataclass(frozen=True)
class SeedTables:
    aliases: list[tuple[str, str, str]]
    blockers: list[tuple[str, str]]
    overrides: dict[str, str]
    brokers: list[Broker]
    group_context: list[GroupContext]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(line for line in handle if line.strip() and not line.startswith("#")))


def read_seeds(seeds: Path) -> SeedTables:
    """The seed CSVs of ``dbt_project/seeds`` as typed tables."""
    return SeedTables(
        aliases=[(r["alias"], r["stock_code"], r["kind"]) for r in rows(seeds / "stock_aliases.csv")],
        blockers=[(r["surface"], r["kind"]) for r in rows(seeds / "entity_blockers.csv")],
        overrides={r["name"]: r["treatment"] for r in rows(seeds / "short_name_overrides.csv")},
        brokers=[Broker(r["short"], r["firm"], r["stock_code"] or None, r["bare_source"] == "yes")
                 for r in rows(seeds / "brokers.csv")],
        group_context=[GroupContext(r["group_prefix"], tuple(r["keywords"].split("|")), r["stock_code"])
                       for r in rows(seeds / "group_context.csv")],
    )


def spans_from_rows(history: Iterable[tuple[Any, ...]]) -> list[NameSpan]:
    """``computed.stock_history`` rows ``(code, name, valid_from, valid_to, ended_by)``."""
    return [NameSpan(code, name, start, end, ended_by) for code, name, start, end, ended_by in history]


def seeds_digest(seeds: Path) -> str:
    digest = hashlib.sha256()
    for name in SEED_FILES:
        digest.update((seeds / name).read_bytes())
    return digest.hexdigest()
