"""SQL for ``app.users``."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import paged

COLUMNS = "id, email, role, display_name, is_active, created_at, last_login_at"


async def by_email(conn: AsyncConnection, email: str) -> Any:
    return (await conn.execute(text(f"SELECT {COLUMNS}, password_hash FROM app.users WHERE email = :e"),
                               {"e": email.lower()})).first()


async def by_id(conn: AsyncConnection, user_id: int) -> Any:
    return (await conn.execute(text(f"SELECT {COLUMNS} FROM app.users WHERE id = :id"), {"id": user_id})).first()


async def page(conn: AsyncConnection, offset: int, limit: int) -> tuple[Sequence[Any], int]:
    return await paged(conn, COLUMNS, "app.users", "TRUE", "id", {}, offset, limit)


async def create(conn: AsyncConnection, email: str, password_hash: str, role: str,
                 display_name: str | None) -> Any:
    return (await conn.execute(text(
        f"INSERT INTO app.users (email, password_hash, role, display_name) "
        f"VALUES (:e, :h, :r, :d) ON CONFLICT (email) DO NOTHING RETURNING {COLUMNS}"),
        {"e": email.lower(), "h": password_hash, "r": role, "d": display_name})).first()


async def update(conn: AsyncConnection, user_id: int, changes: dict[str, Any]) -> Any:
    sets = ", ".join(f"{column} = :{column}" for column in changes)
    return (await conn.execute(text(
        f"UPDATE app.users SET {sets}, updated_at = now() WHERE id = :id RETURNING {COLUMNS}"),
        {**changes, "id": user_id})).first()


async def touch_login(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(text("UPDATE app.users SET last_login_at = now() WHERE id = :id"), {"id": user_id})
