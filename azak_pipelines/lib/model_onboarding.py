"""The requests in ``app.model_onboarding`` (the API's table): a model or an A/B pair whose
predictions and reports wait for a backfill over a window, and that run's progress. The adding paths
(API, CLI) insert a request; the daemon's sensor turns it into a run; the run writes its id, its
window, its step, what it spent and its end. The progress columns are those of a stock's onboarding
(``lib/onboarding.py`` updates both tables)."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from azak_pipelines.lib.warehouse import table_exists

TABLE = "app.model_onboarding"
RUN_TAG = "azak/model_onboarding"  # the request a run backfills


@dataclass(frozen=True)
class Request:
    id: int
    origin: str


@dataclass(frozen=True)
class Started:
    models: list[str]  # registry names: A then B for a pair
    start: date | None  # None: the default window
    end: date | None  # inclusive
    budget_usd: float | None  # None: AZAK_LLM_BUDGET_USD


def pending(conn: psycopg.Connection[Any]) -> list[Request]:
    """Requests waiting for their run, oldest first."""
    if not table_exists(conn, TABLE):
        return []
    return [Request(int(i), origin) for i, origin in conn.execute(
        f"SELECT id, origin FROM {TABLE} WHERE status = 'requested' ORDER BY id")]


def request(conn: psycopg.Connection[Any], model_ids: list[int], origin: str, *, ab_test_id: int | None = None,
            start: date | None = None, end: date | None = None, budget_usd: float | None = None,
            user_id: int | None = None) -> int:
    """A new request (the daemon's model_onboarding_sensor launches its run); its id."""
    row = conn.execute(
        f"INSERT INTO {TABLE} (model_ids, ab_test_id, window_start, window_end, budget_usd, origin, requested_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (model_ids, ab_test_id, start, end, budget_usd, origin, user_id)).fetchone()
    assert row is not None  # INSERT … RETURNING always returns the row
    return int(row[0])


def started(conn: psycopg.Connection[Any], request_id: int, run_id: str, at: datetime) -> Started:
    """Mark the request running in ``run_id``; what it asks for."""
    row = conn.execute(
        f"UPDATE {TABLE} o SET status = 'running', run_id = %s, started_at = %s, step = 'starting', "
        "finished_at = NULL, error = NULL WHERE id = %s AND status NOT IN ('succeeded', 'stopped') RETURNING "
        "array(SELECT m.name FROM unnest(o.model_ids) WITH ORDINALITY AS u(id, n) "
        "JOIN app.models m ON m.id = u.id ORDER BY u.n), window_start, window_end, budget_usd::float8, "
        "array(SELECT m.name FROM unnest(o.model_ids) AS u(id) JOIN app.models m ON m.id = u.id "
        "WHERE m.provider = 'external')",
        (run_id, at, request_id)).fetchone()
    if row is None:
        ended = conn.execute(f"SELECT status FROM {TABLE} WHERE id = %s", (request_id,)).fetchone()
        raise LookupError(f"model onboarding request {request_id} already ended ({ended[0]}); add a new one"
                          if ended else f"no model onboarding request {request_id} in {TABLE}")
    if row[4]:  # every adding path ends here, the API's, the CLI's and Dagit's alike
        raise LookupError(f"an external model's predictions are imported, not backfilled: {', '.join(row[4])}")
    return Started(list(row[0]), row[1], row[2], row[3])


def refused(conn: psycopg.Connection[Any], request_id: int, run_id: str, at: datetime, reason: str) -> None:
    """A waiting request its run cannot carry out ends failed, with why (an ended one is left as it is)."""
    conn.execute(f"UPDATE {TABLE} SET status = 'failed', run_id = %s, finished_at = %s, error = %s "
                 "WHERE id = %s AND status IN ('requested', 'running')", (run_id, at, reason, request_id))


def window(conn: psycopg.Connection[Any], request_id: int, start: date, end: date) -> None:
    """The window the run backfills (the default one resolved), shown by the API."""
    conn.execute(f"UPDATE {TABLE} SET window_start = %s, window_end = %s WHERE id = %s", (start, end, request_id))


def spent(conn: psycopg.Connection[Any], request_id: int, usd: float) -> None:
    conn.execute(f"UPDATE {TABLE} SET spent_usd = %s WHERE id = %s", (usd, request_id))


def stopped(conn: psycopg.Connection[Any], run_id: str, at: datetime, reason: str) -> None:
    """The run's end when the budget ran out: what it made is evaluated; ``reason`` says where it stopped."""
    conn.execute(f"UPDATE {TABLE} SET status = 'stopped', finished_at = %s, error = %s, step = NULL "
                 "WHERE run_id = %s", (at, reason, run_id))
