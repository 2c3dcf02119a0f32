"""SQL over ``app.models``."""

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

COLUMNS = ("id, name, provider, model, base_url, kind, structured, api_key_env, params, "
           "price_in_per_m::float8 AS price_in_per_m, price_out_per_m::float8 AS price_out_per_m, active, "
           "created_at, updated_at")


async def all_models(conn: AsyncConnection) -> Sequence[Any]:
    return (await conn.execute(text(f"SELECT {COLUMNS} FROM app.models ORDER BY id"))).all()


async def by_name(conn: AsyncConnection, name: str) -> Any:
    return (await conn.execute(text(f"SELECT {COLUMNS} FROM app.models WHERE name = :n"), {"n": name})).first()


async def locked_by_id(conn: AsyncConnection, model_id: int) -> Any:
    """The row, locked until the transaction ends: two changes cannot pass the egress check apart
    and combine into a row that fails it."""
    return (await conn.execute(text(f"SELECT {COLUMNS} FROM app.models WHERE id = :id FOR UPDATE"),
                               {"id": model_id})).first()


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> Any:
    row = (await conn.execute(text(
        "INSERT INTO app.models (name, provider, model, base_url, kind, structured, api_key_env, params, "
        "price_in_per_m, price_out_per_m, active) VALUES (:name, :provider, :model, :base_url, :kind, "
        f":structured, :api_key_env, CAST(:params AS jsonb), :price_in_per_m, :price_out_per_m, :active) "
        f"RETURNING {COLUMNS}"), {**values, "params": json.dumps(values["params"])})).first()
    return row


async def update(conn: AsyncConnection, model_id: int, changes: dict[str, Any]) -> Any:
    allowed = ("active", "base_url", "kind", "structured", "api_key_env", "params", "price_in_per_m",
               "price_out_per_m")
    sets = [f"{c} = CAST(:{c} AS jsonb)" if c == "params" else f"{c} = :{c}" for c in allowed if c in changes]
    values = {**changes, "id": model_id}
    if "params" in changes:
        values["params"] = json.dumps(changes["params"])
    return (await conn.execute(text(
        f"UPDATE app.models SET {', '.join([*sets, 'updated_at = now()'])} WHERE id = :id RETURNING {COLUMNS}"),
        values)).first()


# a backfill request with its models' names (A then B), as the API shows it
BACKFILL = ("o.id, o.status, o.run_id, o.step, o.ab_test_id, o.window_start, o.window_end, "
            "o.budget_usd::float8 AS budget_usd, o.spent_usd::float8 AS spent_usd, o.requested_at, o.finished_at, "
            "o.error, array(SELECT m.name FROM unnest(o.model_ids) WITH ORDINALITY AS u(id, n) "
            "JOIN app.models m ON m.id = u.id ORDER BY u.n) AS models")


async def request_backfill(tx: AsyncConnection, model_ids: list[int], ab_test_id: int | None, values: dict[str, Any],
                           user_id: int) -> Any:
    """A request the daemon's model_onboarding_sensor turns into a run."""
    return (await tx.execute(text(
        "INSERT INTO app.model_onboarding AS o (model_ids, ab_test_id, window_start, window_end, budget_usd, "
        "origin, requested_by) VALUES (:ids, :pair, :start, :end, :budget, 'api', :user) "
        f"RETURNING {BACKFILL}"),
        {"ids": model_ids, "pair": ab_test_id, "start": values.get("start"), "end": values.get("end"),
         "budget": values.get("budget_usd"), "user": user_id})).first()


async def latest_backfills(conn: AsyncConnection, *, model_ids: Sequence[int] = (),
                           ab_test_ids: Sequence[int] = ()) -> dict[tuple[str, int], Any]:
    """The latest request naming each model (key ``("model", id)``) and of each pair (``("pair", id)``)."""
    rows = (await conn.execute(text(
        f"SELECT DISTINCT ON (k.kind, k.ref) k.kind, k.ref, {BACKFILL} FROM app.model_onboarding o "
        "CROSS JOIN LATERAL (SELECT 'model' AS kind, unnest(o.model_ids) AS ref "
        "UNION ALL SELECT 'pair', o.ab_test_id WHERE o.ab_test_id IS NOT NULL) k "
        "WHERE (k.kind = 'model' AND k.ref = ANY(:models)) OR (k.kind = 'pair' AND k.ref = ANY(:pairs)) "
        "ORDER BY k.kind, k.ref, o.id DESC"), {"models": list(model_ids), "pairs": list(ab_test_ids)})).all()
    return {(r.kind, r.ref): r for r in rows}
