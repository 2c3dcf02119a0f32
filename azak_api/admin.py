"""What the ``azak`` command does on the API's side: migrations and users."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from azak_api.auth import hash_password
from azak_api.evaluations import queries as evaluations
from azak_api.evaluations.schemas import DEFAULT_MIN_N
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


async def upsert_user_async(database_url: str, email: str, password: str, role: str, reset: bool,
                            expires_at: datetime | None = None) -> tuple[int, bool]:
    """Create a user (ending at ``expires_at``; None: never), or with ``reset`` set an existing
    one's password, role and end."""
    engine = _engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            row = (await conn.execute(text(
                "INSERT INTO app.users (email, password_hash, role, expires_at) VALUES (:e, :h, :r, :x) "
                "ON CONFLICT (email) DO NOTHING RETURNING id"),
                {"e": email.lower(), "h": hash_password(password), "r": role, "x": expires_at})).first()
            if row is not None:
                return row.id, True
            if not reset:
                raise UserExists(f"a user with e-mail {email.lower()} already exists")
            row = (await conn.execute(text(
                "UPDATE app.users SET password_hash = :h, role = :r, is_active = true, expires_at = :x, "
                "updated_at = now(), token_version = token_version + 1 "
                "WHERE email = :e RETURNING id"),
                {"e": email.lower(), "h": hash_password(password), "r": role, "x": expires_at})).one()
            return row.id, False
    finally:
        await engine.dispose()


def upsert_user(database_url: str, email: str, password: str, admin: bool, reset: bool = False,
                expires_at: datetime | None = None) -> tuple[int, bool]:
    """Create a user (or, with ``reset``, set an existing one's password, role and end)."""
    return asyncio.run(upsert_user_async(database_url, email, password, "admin" if admin else "user", reset,
                                         expires_at))


@dataclass(frozen=True)
class AbPair:
    id: int
    model_a: str
    model_b: str
    created: bool  # False: a pair was active already and is kept


async def ensure_ab_test_async(database_url: str, model_a: str, model_b: str, note: str,
                               replace: bool = False) -> AbPair:
    engine = _engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await evaluations.lock_ab_tests(conn)
            active = await evaluations.active_ab_test(conn)
            if active is not None and not replace:
                return AbPair(active.id, active.model_a, active.model_b, created=False)
            found = await conn.execute(text("SELECT name, id FROM app.models WHERE name IN (:a, :b)"),
                                       {"a": model_a, "b": model_b})
            ids: dict[str, int] = {row.name: row.id for row in found}
            missing = [name for name in (model_a, model_b) if name not in ids]
            if missing:
                raise LookupError(f"no model named {', '.join(missing)} in app.models (see `azak models list`)")
            new_id = await evaluations.create_ab_test(conn, ids[model_a], ids[model_b], DEFAULT_MIN_N, note,
                                                     None)
            return AbPair(new_id, model_a, model_b, created=True)
    finally:
        await engine.dispose()


def ensure_ab_test(database_url: str, model_a: str, model_b: str, note: str, replace: bool = False) -> AbPair:
    """An active A/B pair: the one configured already (an admin's pair is never replaced), else
    ``model_a`` vs ``model_b``, made now under the lock ``POST /api/ab-tests`` takes. ``replace``:
    made now whatever is active (the active one is kept as history, as the API does)."""
    return asyncio.run(ensure_ab_test_async(database_url, model_a, model_b, note, replace))
