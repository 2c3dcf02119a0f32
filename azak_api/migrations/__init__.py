"""Schema migrations for ``app.*``: numbered SQL files applied once each, in order.

``app.schema_migrations`` records what ran; an advisory lock lets several API workers start at
once. Run by ``azak`` (demo, serve, users) and at API start-up unless ``AZAK_AUTO_MIGRATE=false``.
"""

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = sorted(Path(__file__).parent.glob("*.sql"))


async def migrate(engine: AsyncEngine) -> list[str]:
    """Apply pending migrations; returns the names applied now."""
    applied_now: list[str] = []
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL statement_timeout = 0"))  # the API's limit is for requests
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('azak-app-migrations'))"))
        await conn.execute(text(
            "CREATE SCHEMA IF NOT EXISTS app; "
            "CREATE TABLE IF NOT EXISTS app.schema_migrations "
            "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"))
        done = {row[0] for row in await conn.execute(text("SELECT version FROM app.schema_migrations"))}
        for path in MIGRATIONS:
            if path.stem in done:
                continue
            await conn.exec_driver_sql(path.read_text(encoding="utf-8"))
            await conn.execute(text("INSERT INTO app.schema_migrations (version) VALUES (:v)"),
                               {"v": path.stem})
            applied_now.append(path.stem)
    return applied_now
