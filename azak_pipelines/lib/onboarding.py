"""The requests in ``app.stock_onboarding`` (the API's table): which stocks wait for their
onboarding run, and that run's progress. The adding paths (API, CLI) insert a request; the
daemon's sensor turns it into a run; the run writes its id, its step and its end."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from azak_pipelines.lib.warehouse import table_exists

TABLE = "app.stock_onboarding"


@dataclass(frozen=True)
class Request:
    id: int
    stock_code: str
    origin: str


def pending(conn: psycopg.Connection[Any]) -> tuple[list[Request], list[str]]:
    """Requests waiting for a run whose stock is on the watch-list in ``raw.stocks`` (so the run sees
    it in the universe), oldest first; and the codes still waiting for the universe to include them
    (the watch-list sensor's reference run adds a new listing first)."""
    if not table_exists(conn, TABLE) or not table_exists(conn, "raw.stocks"):
        return [], []
    rows = conn.execute(
        f"SELECT o.id, o.stock_code, o.origin, coalesce(s.is_watchlist, false) FROM {TABLE} o "
        "LEFT JOIN raw.stocks s ON s.code = o.stock_code WHERE o.status = 'requested' ORDER BY o.id").fetchall()
    return [Request(i, code, origin) for i, code, origin, ready in rows if ready], \
        [code for _, code, _, ready in rows if not ready]


def open_requests(conn: psycopg.Connection[Any], table: str = TABLE) -> list[int]:
    """Ids of the requests not finished (requested or running), in ``table`` (a stock's onboarding,
    or a model's: ``app.model_onboarding`` has the same progress columns)."""
    if not table_exists(conn, table):
        return []
    return [int(r[0]) for r in conn.execute(
        f"SELECT id FROM {table} WHERE status IN ('requested', 'running') ORDER BY id")]


def abandoned(conn: psycopg.Connection[Any], request_id: int, run_id: str, at: datetime, reason: str,
              table: str = TABLE) -> None:
    """Mark a request failed whose run ended without saying so itself (canceled, or killed)."""
    conn.execute(f"UPDATE {table} SET status = 'failed', run_id = %s, finished_at = %s, error = %s "
                 "WHERE id = %s AND status IN ('requested', 'running')", (run_id, at, reason, request_id))


def request(conn: psycopg.Connection[Any], code: str, origin: str, user_id: int | None = None) -> int:
    """The open request of ``code`` (requested or running), or a new one; its id."""
    found = conn.execute(f"SELECT id FROM {TABLE} WHERE stock_code = %s AND status IN ('requested', 'running') "
                         "ORDER BY id DESC LIMIT 1", (code,)).fetchone()
    if found:
        return int(found[0])
    row = conn.execute(f"INSERT INTO {TABLE} (stock_code, origin, requested_by) VALUES (%s, %s, %s) "
                       "ON CONFLICT DO NOTHING RETURNING id", (code, origin, user_id)).fetchone()
    if row is None:  # a concurrent add recorded the open request between the two statements
        return request(conn, code, origin, user_id)
    return int(row[0])


def started(conn: psycopg.Connection[Any], request_id: int, run_id: str, at: datetime) -> str:
    """Mark the request running in ``run_id``; the stock's code."""
    row = conn.execute(f"UPDATE {TABLE} SET status = 'running', run_id = %s, started_at = %s, step = 'prices', "
                       "finished_at = NULL, error = NULL WHERE id = %s RETURNING stock_code",
                       (run_id, at, request_id)).fetchone()
    if row is None:
        raise LookupError(f"no onboarding request {request_id} in {TABLE}")
    return str(row[0])


def step(conn: psycopg.Connection[Any], request_id: int, name: str, table: str = TABLE) -> None:
    conn.execute(f"UPDATE {table} SET step = %s WHERE id = %s", (name, request_id))


def finished(conn: psycopg.Connection[Any], run_id: str, at: datetime, error: str | None = None,
             table: str = TABLE) -> None:
    """The run's end: succeeded, or failed with what went wrong."""
    conn.execute(f"UPDATE {table} SET status = %s, finished_at = %s, error = %s, "
                 "step = CASE WHEN %s::text IS NULL THEN NULL ELSE step END WHERE run_id = %s",
                 ("failed" if error else "succeeded", at, error, error, run_id))
