"""SQL for ``app.users``."""

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, paged, row_as, rows_as

COLUMNS = ("id, email, role, display_name, is_active, created_at, last_login_at, token_version, expires_at, "
           "refresh_enabled, refreshes_per_day")


class UserRow(NamedTuple):
    id: int
    email: str
    role: str
    display_name: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    token_version: int
    expires_at: datetime | None
    refresh_enabled: bool
    refreshes_per_day: int | None


class Credentials(NamedTuple):
    id: int
    password_hash: str
    is_active: bool
    expires_at: datetime | None


async def credentials(conn: AsyncConnection, email: str) -> Credentials | None:
    row = (await conn.execute(text("SELECT id, password_hash, is_active, expires_at FROM app.users WHERE email = :e"),
                              {"e": email.lower()})).first()
    return row_as(Credentials, row)


async def by_id(conn: AsyncConnection, user_id: int) -> UserRow | None:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM app.users WHERE id = :id"), {"id": user_id})).first()
    return row_as(UserRow, row)


async def page(conn: AsyncConnection, offset: int, limit: int) -> tuple[list[UserRow], Total]:
    rows, total = await paged(conn, COLUMNS, "app.users", "TRUE", "id", {}, offset, limit)
    return rows_as(UserRow, rows), total


async def create(conn: AsyncConnection, email: str, password_hash: str, role: str,
                 display_name: str | None, expires_at: datetime | None = None) -> UserRow | None:
    row = (await conn.execute(text(
        f"INSERT INTO app.users (email, password_hash, role, display_name, expires_at) "
        f"VALUES (:e, :h, :r, :d, :x) ON CONFLICT (email) DO NOTHING RETURNING {COLUMNS}"),
        {"e": email.lower(), "h": password_hash, "r": role, "d": display_name, "x": expires_at})).first()
    return row_as(UserRow, row)


async def update(conn: AsyncConnection, user_id: int, changes: dict[str, Any]) -> UserRow | None:
    """Apply ``changes``; a new password or a change of the active flag moves ``token_version``
    on, so every token issued before is refused."""
    sets = [f"{column} = :{column}" for column in changes]
    if "password_hash" in changes or "is_active" in changes:
        # only when the flag really changes (re-sending is_active=true keeps sessions)
        sets.append("token_version = token_version + CASE WHEN :bump_always OR is_active IS DISTINCT FROM "
                    ":new_active THEN 1 ELSE 0 END")
        changes = {**changes, "bump_always": "password_hash" in changes,
                   "new_active": changes.get("is_active")}
    row = (await conn.execute(text(
        f"UPDATE app.users SET {', '.join(sets)}, updated_at = now() WHERE id = :id RETURNING {COLUMNS}"),
        {**changes, "id": user_id})).first()
    return row_as(UserRow, row)


async def touch_login(conn: AsyncConnection, user_id: int) -> UserRow:
    return rows_as(UserRow, [(await conn.execute(text(
        f"UPDATE app.users SET last_login_at = now() WHERE id = :id RETURNING {COLUMNS}"), {"id": user_id})).one()])[0]
