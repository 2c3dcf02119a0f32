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


async def by_id(conn: AsyncConnection, model_id: int) -> Any:
    return (await conn.execute(text(f"SELECT {COLUMNS} FROM app.models WHERE id = :id"), {"id": model_id})).first()


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
