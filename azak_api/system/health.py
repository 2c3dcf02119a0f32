"""Real checks of the API's dependencies. Anonymous callers learn which dependency is down and
whether it timed out or refused, never its host, user or the driver's message (those are logged)."""

import asyncio
import logging
import time
from urllib.parse import urlsplit

import msgspec
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT_SECONDS = 3.0
LOG = logging.getLogger("azak.api")


class DependencyStatus(msgspec.Struct):
    status: str  # ok | down
    latency_ms: float | None = None
    error: str | None = None


async def _timed(name: str, check: object) -> DependencyStatus:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except TimeoutError:
        LOG.warning("health: %s did not answer within %.0f s", name, CHECK_TIMEOUT_SECONDS)
        return DependencyStatus("down", error=f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s")
    except Exception as exc:
        LOG.warning("health: %s is down: %s", name, str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
        return DependencyStatus("down", error="unreachable or refused the connection")
    return DependencyStatus("ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


async def check_postgres(engine: AsyncEngine) -> DependencyStatus:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return await _timed("postgres", probe())


async def check_redis(redis: Redis) -> DependencyStatus:
    return await _timed("redis", redis.ping())


async def check_tcp(uri: str) -> DependencyStatus:
    parts = urlsplit(uri if "://" in uri else f"tcp://{uri}")

    async def probe() -> None:
        _, writer = await asyncio.open_connection(parts.hostname, parts.port or 19530)
        writer.close()
        await writer.wait_closed()

    return await _timed("milvus", probe())
