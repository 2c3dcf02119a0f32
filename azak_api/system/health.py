"""Real checks of the API's dependencies."""

import asyncio
import time
from urllib.parse import urlsplit

import msgspec
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT_SECONDS = 3.0


class DependencyStatus(msgspec.Struct):
    status: str  # ok | down
    latency_ms: float | None = None
    error: str | None = None


async def _timed(check: object) -> DependencyStatus:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DependencyStatus("down", error=message[:200])
    return DependencyStatus("ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


async def check_postgres(engine: AsyncEngine) -> DependencyStatus:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return await _timed(probe())


async def check_redis(redis: Redis) -> DependencyStatus:
    return await _timed(redis.ping())


async def check_tcp(uri: str) -> DependencyStatus:
    parts = urlsplit(uri if "://" in uri else f"tcp://{uri}")

    async def probe() -> None:
        _, writer = await asyncio.open_connection(parts.hostname, parts.port or 19530)
        writer.close()
        await writer.wait_closed()

    return await _timed(probe())
