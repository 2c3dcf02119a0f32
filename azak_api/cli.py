"""What the ``azak`` command does on the API's side: migrations and users."""

import asyncio
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from azak_api.auth import hash_password
from azak_api.migrations import migrate


def _engine(database_url: str) -> AsyncEngine:
    parts = urlsplit(database_url)
    return create_async_engine(urlunsplit(parts._replace(scheme="postgresql+psycopg")))


async def _migrate(database_url: str) -> list[str]:
    engine = _engine(database_url)
    try:
        return await migrate(engine)
    finally:
        await engine.dispose()


def run_migrations(database_url: str) -> list[str]:
    """Apply pending ``app`` migrations; returns the names applied."""
    return asyncio.run(_migrate(database_url))


class UserExists(ValueError):
    """The e-mail is taken (and no reset was asked for)."""


async def upsert_user_async(database_url: str, email: str, password: str, role: str, reset: bool) -> tuple[int, bool]:
    engine = _engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            row = (await conn.execute(text(
                "INSERT INTO app.users (email, password_hash, role) VALUES (:e, :h, :r) "
                "ON CONFLICT (email) DO NOTHING RETURNING id"),
                {"e": email.lower(), "h": hash_password(password), "r": role})).first()
            if row is not None:
                return row.id, True
            if not reset:
                raise UserExists(f"a user with e-mail {email.lower()} already exists")
            row = (await conn.execute(text(
                "UPDATE app.users SET password_hash = :h, role = :r, is_active = true, updated_at = now(), "
                "token_version = token_version + 1 "
                "WHERE email = :e RETURNING id"),
                {"e": email.lower(), "h": hash_password(password), "r": role})).one()
            return row.id, False
    finally:
        await engine.dispose()


def upsert_user(database_url: str, email: str, password: str, admin: bool, reset: bool = False) -> tuple[int, bool]:
    """Create a user (or, with ``reset``, set an existing one's password and role)."""
    return asyncio.run(upsert_user_async(database_url, email, password, "admin" if admin else "user", reset))
