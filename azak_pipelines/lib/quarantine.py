"""Rows a source or file could not use, kept with the reason a person can act on."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from azak_pipelines.lib.http import redact_secrets
from azak_pipelines.lib.warehouse import Column, TableSpec, WriteResult, replace_slice

QUARANTINE = TableSpec(
    schema="ops",
    name="quarantine",
    comment="Rejected input rows, per asset and window, with the reason and the raw input.",
    columns=(
        Column("asset", "text", nullable=False),
        Column("window_start", "date", nullable=False),
        Column("window_end", "date", nullable=False),
        Column("locator", "text", nullable=False, comment="file:line, URL or record id"),
        Column("reason", "text", nullable=False),
        Column("raw", "text"),
        Column("recorded_at", "timestamptz", nullable=False),
    ),
    natural_key=("asset", "window_start", "locator", "reason"),
    partition_column="window_start",
    granularity="year",
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row, page or line that was refused, with where it was and why — the one type every
    parser returns and the quarantine stores."""

    locator: str  # URL, file:line or record id
    reason: str  # what a person can act on
    raw: Any = None
    # the natural key of the row, when it was read far enough to know it: the valid row stored for
    # that key stays (a rejection never deletes it)
    key: tuple[Any, ...] | None = None


def record_quarantine(conn: psycopg.Connection[Any], asset: str, start: date, end: date,
                      rows: Iterable[Rejected], recorded_at: Any) -> WriteResult:
    """Replace this asset's quarantine for ``[start, end)`` (re-runs do not pile up)."""
    seen: set[tuple[str, str]] = set()
    records = []
    for row in rows:
        if (row.locator, row.reason) in seen:
            continue
        seen.add((row.locator, row.reason))
        raw = row.raw if isinstance(row.raw, str) or row.raw is None else json.dumps(
            row.raw, ensure_ascii=False, default=str)
        # locators and reasons are often URLs, and URLs can carry a key (DART's crtfc_key)
        records.append((asset, start, end, redact_secrets(row.locator), redact_secrets(row.reason), raw,
                        recorded_at))
    return replace_slice(conn, QUARANTINE, records, start, end, scope={"asset": [asset]})


def reasons_summary(rows: Iterable[Rejected], limit: int = 20) -> str:
    """A markdown list of the first rejected rows, for asset metadata."""
    lines = [f"- `{row.locator}`: {row.reason}" for _, row in zip(range(limit), rows, strict=False)]
    return "\n".join(lines) or "none"
