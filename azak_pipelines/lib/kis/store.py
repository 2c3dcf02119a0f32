"""What every process using one KIS app key shares, kept in PostgreSQL (schema ``ops``).

* :class:`PgTokenStore` — one access token per app key. A process that finds no fresh token takes
  an advisory lock, so only one of them issues; tokens are refreshed at least five minutes before
  expiry, and issuing is never attempted more than once a minute (KIS answers ``EGW00133``
  otherwise): a throttled attempt is recorded and retried after the minute has passed.
* :class:`PgRateLimiter` — one request budget per app key across processes: each request reserves
  the next free slot (``1/rate`` seconds apart) with a single ``UPDATE … RETURNING`` and sleeps
  until it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg

from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.kis.client import TOKEN_THROTTLED, IssuedToken, KisTokenError
from azak_pipelines.lib.kis.parsers import KisApiError

OPS_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.kis_tokens (
    key_id text PRIMARY KEY,
    access_token text,
    expires_at timestamptz,
    last_issue_attempt_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.rate_limits (
    bucket text PRIMARY KEY,
    next_slot timestamptz NOT NULL
);
"""
REFRESH_MARGIN = timedelta(minutes=5)
ISSUE_INTERVAL = timedelta(seconds=61)


async def ensure_ops_tables(conn: psycopg.AsyncConnection[Any]) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ops-ddl'))")
        await conn.execute(OPS_DDL)


class PgTokenStore:
    def __init__(self, database_url: str, key_id: str, attempts: int = 3,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 issue_interval: timedelta = ISSUE_INTERVAL):
        self._url = database_url
        self._key = key_id
        self._attempts = attempts
        self._interval = issue_interval
        self._sleep = sleep
        self._cached: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()
        self.issued = 0

    async def token(self, issue: Callable[[], Awaitable[IssuedToken]]) -> str:
        async with self._lock:
            if self._cached is not None:
                token, expires_at = self._cached
                if expires_at - REFRESH_MARGIN > utc_now():
                    return token
            token, expires_at = await self._shared_token(issue)
            self._cached = (token, expires_at)
            return token

    async def invalidate(self, stale: str) -> None:
        async with self._lock:
            self._cached = None
            async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                await conn.execute(
                    "UPDATE ops.kis_tokens SET access_token = NULL, expires_at = NULL "
                    "WHERE key_id = %s AND access_token = %s", (self._key, stale))

    async def _shared_token(self, issue: Callable[[], Awaitable[IssuedToken]]) -> tuple[str, datetime]:
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            await ensure_ops_tables(conn)
            for attempt in range(1, self._attempts + 1):
                throttled = False
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                                       (f"kis-token:{self._key}",))
                    cursor = await conn.execute(
                        "SELECT access_token, expires_at, last_issue_attempt_at, clock_timestamp() "
                        "FROM ops.kis_tokens WHERE key_id = %s", (self._key,))
                    row = await cursor.fetchone()
                    # a token's life is read on the platform's clock (it was stamped with it when
                    # issued; a simulation's is not PostgreSQL's), the once-a-minute rule on the server's
                    if row and row[0] and row[1] - REFRESH_MARGIN > utc_now():
                        return row[0], row[1]
                    if row:
                        wait = (row[2] + self._interval - row[3]).total_seconds()
                        if wait > 0:  # someone issued (or tried) within the minute: wait our turn
                            await self._sleep(wait)
                    await conn.execute(
                        "INSERT INTO ops.kis_tokens (key_id, last_issue_attempt_at) "
                        "VALUES (%s, clock_timestamp()) ON CONFLICT (key_id) "
                        "DO UPDATE SET last_issue_attempt_at = clock_timestamp()", (self._key,))
                    try:
                        issued = await issue()
                    except KisApiError as exc:
                        if exc.msg_cd != TOKEN_THROTTLED:
                            raise
                        throttled = True  # the attempt time above is committed with this block
                    else:
                        self.issued += 1
                        await conn.execute(
                            "UPDATE ops.kis_tokens SET access_token = %s, expires_at = %s "
                            "WHERE key_id = %s", (issued.access_token, issued.expires_at, self._key))
                        return issued.access_token, issued.expires_at
                if throttled and attempt < self._attempts:
                    await self._sleep(self._interval.total_seconds())
            raise KisTokenError(
                f"KIS kept answering {TOKEN_THROTTLED} (one token per minute) after "
                f"{self._attempts} attempts a minute apart"
            )


class PgRateLimiter:
    """At most ``rate`` requests per second for ``bucket``, across every process."""

    def __init__(self, database_url: str, bucket: str, rate: float,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 on_slot: Callable[[float], None] | None = None):
        """``on_slot`` receives each granted slot (epoch seconds, the database's clock)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._on_slot = on_slot
        self._url = database_url
        self._bucket = bucket
        self._interval = 1.0 / rate
        self._sleep = sleep
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            await ensure_ops_tables(self._conn)
            await self._conn.execute(
                "INSERT INTO ops.rate_limits (bucket, next_slot) VALUES (%s, clock_timestamp()) "
                "ON CONFLICT (bucket) DO NOTHING", (self._bucket,))
        return self._conn

    async def acquire(self) -> None:
        async with self._lock:
            conn = await self._connection()
            cursor = await conn.execute(
                "UPDATE ops.rate_limits "
                "SET next_slot = greatest(next_slot, clock_timestamp()) + make_interval(secs => %s) "
                "WHERE bucket = %s "
                "RETURNING extract(epoch FROM next_slot - make_interval(secs => %s) - clock_timestamp()), "
                "extract(epoch FROM next_slot - make_interval(secs => %s))",
                (self._interval, self._bucket, self._interval, self._interval))
            row = await cursor.fetchone()
        if row is None:
            raise RuntimeError(f"rate-limit bucket {self._bucket!r} vanished from ops.rate_limits")
        wait, slot = float(row[0]), float(row[1])
        if self._on_slot is not None:
            self._on_slot(slot)
        if wait > 0:
            await self._sleep(wait)

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
