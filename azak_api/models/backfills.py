"""Onboarding backfills of models and A/B pairs (``app.model_onboarding``): the request an admin's
add records, and how the API shows it. The daemon's model_onboarding_sensor runs each request."""

from collections.abc import Sequence
from typing import Any

import msgspec
from litestar.exceptions import ValidationException
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.models import queries
from azak_api.models.schemas import Backfill, BackfillIn
from azak_core.runs import backfill_window_problem


def as_backfill(r: Any) -> Backfill:
    return Backfill(id=r.id, status=r.status, run_id=r.run_id,
                    status_url=f"/api/runs/{r.run_id}" if r.run_id else None, step=r.step, models=list(r.models),
                    ab_test_id=r.ab_test_id, window_start=r.window_start, window_end=r.window_end,
                    budget_usd=r.budget_usd, spent_usd=r.spent_usd, requested_at=r.requested_at,
                    finished_at=r.finished_at, error=r.error)


def check_window(backfill: BackfillIn) -> None:
    """400 for a window that ends before it starts or spans more than ten years."""
    problem = backfill_window_problem(backfill.start, backfill.end)
    if problem:
        raise ValidationException(problem)


async def request(tx: AsyncConnection, model_ids: list[int], ab_test_id: int | None, backfill: BackfillIn,
                  user_id: int) -> Backfill:
    check_window(backfill)
    values = {k: v for k, v in msgspec.structs.asdict(backfill).items() if k in ("start", "end", "budget_usd")}
    return as_backfill(await queries.request_backfill(tx, model_ids, ab_test_id, values, user_id))


async def latest(conn: AsyncConnection, *, model_ids: Sequence[int] = (),
                 ab_test_ids: Sequence[int] = ()) -> dict[tuple[str, int], Backfill]:
    """The latest backfill naming each model (``("model", id)``) and of each pair (``("pair", id)``)."""
    rows = await queries.latest_backfills(conn, model_ids=model_ids, ab_test_ids=ab_test_ids)
    return {key: as_backfill(r) for key, r in rows.items()}
