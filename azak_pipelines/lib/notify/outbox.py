"""The outbox (``app.telegram_notifications``): every message is written here before it is sent.

``UNIQUE (chat_id, dedup_key)`` is what makes a message go out once: :func:`enqueue` inserts or,
for a message not yet sent, refreshes its body (a later run of the same day knows more — the
digest's closing prices, a second model's call); a row that was sent, failed or skipped is never
touched again. The sender claims due rows (``pending``, or ``sending`` past the lease of a sender
that died), sends them and records the receipt.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from azak_pipelines.lib.warehouse import missing_tables

TABLE = "app.telegram_notifications"
SUBSCRIBERS = "app.telegram_subscribers"
KINDS = ("prediction", "report_change", "digest", "run_failure", "check_failure")
# a sender that claimed a row and vanished (killed mid-batch) gives it back after this long
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5


class OutboxMissing(RuntimeError):
    """The app migrations have not run on this database."""


@dataclass(frozen=True)
class Outgoing:
    """A message to put in the outbox."""

    chat_id: int
    kind: str
    dedup_key: str
    day: date
    body: str
    not_before: datetime


@dataclass(frozen=True)
class EnqueueResult:
    new: int
    refreshed: int
    unchanged: int  # already sent, failed or skipped: left alone


def require_tables(conn: psycopg.Connection[Any]) -> None:
    """Fail with the fix when the app migrations (0005) have not been applied."""
    missing = missing_tables(conn, [TABLE, SUBSCRIBERS])
    if missing:
        raise OutboxMissing(f"{' and '.join(missing)} missing: apply the app migrations first (`azak db migrate`)")


ENQUEUE = f"""
INSERT INTO {TABLE} AS o (chat_id, kind, dedup_key, day, body, not_before, status, error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (chat_id, dedup_key) DO UPDATE
   SET body = EXCLUDED.body, not_before = EXCLUDED.not_before
 WHERE o.status = 'pending' AND (o.body, o.not_before) IS DISTINCT FROM (EXCLUDED.body, EXCLUDED.not_before)
RETURNING (xmax = 0) AS inserted
"""


def enqueue(conn: psycopg.Connection[Any], messages: Iterable[Outgoing], stale_before: date | None = None
            ) -> EnqueueResult:
    """Write messages in one transaction. Messages for days before ``stale_before`` are recorded
    as ``skipped`` (a backfill shows what it would have sent, and sends nothing)."""
    new = refreshed = unchanged = 0
    with conn.transaction():
        for m in messages:
            if m.kind not in KINDS:
                raise ValueError(f"unknown message kind {m.kind!r}; expected one of {KINDS}")
            stale = stale_before is not None and m.day < stale_before
            row = conn.execute(ENQUEUE, (
                m.chat_id, m.kind, m.dedup_key, m.day, m.body, m.not_before,
                "skipped" if stale else "pending",
                f"stale: {m.day} is before {stale_before}; not sent" if stale else None,
            )).fetchone()
            if row is None:
                unchanged += 1
            elif row[0]:
                new += 1
            else:
                refreshed += 1
    return EnqueueResult(new, refreshed, unchanged)


@dataclass(frozen=True)
class Claimed:
    id: int
    chat_id: int
    kind: str
    body: str
    attempts: int  # including this one


async def skip_inactive(conn: psycopg.AsyncConnection[Any]) -> int:
    """Messages to subscribers who stopped or blocked the bot are never sent."""
    cursor = await conn.execute(
        f"UPDATE {TABLE} o SET status = 'skipped', error = 'subscriber inactive: ' || "
        f"coalesce(s.inactive_reason, 'stopped') FROM {SUBSCRIBERS} s "
        "WHERE o.chat_id = s.chat_id AND NOT s.active AND o.status = 'pending'")
    return cursor.rowcount


async def due(conn: psycopg.AsyncConnection[Any], now: datetime, limit: int
              ) -> list[tuple[int, int, int | None, int | None]]:
    """Due rows (id, chat_id, quiet_start, quiet_end), oldest first. Chats that are not
    subscribers (the admin chat) have no quiet hours."""
    cursor = await conn.execute(
        f"SELECT o.id, o.chat_id, s.quiet_start, s.quiet_end FROM {TABLE} o "
        f"LEFT JOIN {SUBSCRIBERS} s ON s.chat_id = o.chat_id "
        "WHERE o.not_before <= %s AND (o.status = 'pending' OR (o.status = 'sending' AND o.claimed_at < %s)) "
        "ORDER BY o.id LIMIT %s", (now, now - LEASE, limit))
    return [(r[0], r[1], r[2], r[3]) for r in await cursor.fetchall()]


async def claim(conn: psycopg.AsyncConnection[Any], ids: Sequence[int], now: datetime) -> list[Claimed]:
    """Take the rows for this sender; a row another sender took meanwhile is not returned."""
    cursor = await conn.execute(
        f"UPDATE {TABLE} SET status = 'sending', claimed_at = %s, attempts = attempts + 1 "
        "WHERE id = ANY(%s) AND (status = 'pending' OR (status = 'sending' AND claimed_at < %s)) "
        "RETURNING id, chat_id, kind, body, attempts", (now, list(ids), now - LEASE))
    rows = await cursor.fetchall()
    return sorted((Claimed(*r) for r in rows), key=lambda c: c.id)


async def record_sent(conn: psycopg.AsyncConnection[Any], outbox_id: int, message_id: int, at: datetime) -> None:
    await conn.execute(
        f"UPDATE {TABLE} SET status = 'sent', telegram_message_id = %s, sent_at = %s, error = NULL "
        "WHERE id = %s", (message_id, at, outbox_id))


async def record_error(conn: psycopg.AsyncConnection[Any], outbox_id: int, error: str, permanent: bool,
                       attempts: int) -> str:
    """A failed try: back to ``pending`` for the next pass, or ``failed`` when it cannot succeed
    or has used up its attempts. Returns the new status."""
    status = "failed" if permanent or attempts >= MAX_ATTEMPTS else "pending"
    await conn.execute(f"UPDATE {TABLE} SET status = %s, error = %s, claimed_at = NULL WHERE id = %s",
                       (status, error[:1000], outbox_id))
    return status


async def deactivate_chat(conn: psycopg.AsyncConnection[Any], chat_id: int, reason: str) -> None:
    """The chat blocked the bot (or is gone): stop writing to it."""
    await conn.execute(
        f"UPDATE {SUBSCRIBERS} SET active = false, inactive_reason = %s, updated_at = now() WHERE chat_id = %s",
        (reason, chat_id))
    await conn.execute(
        f"UPDATE {TABLE} SET status = 'skipped', error = %s WHERE chat_id = %s AND status IN ('pending', 'sending')",
        (f"chat inactive: {reason}", chat_id))


def rows_for_day(conn: psycopg.Connection[Any], day: date | None, limit: int = 200) -> list[tuple[Any, ...]]:
    """What the outbox holds (for `azak telegram outbox` and asset metadata), newest first."""
    where, params = ("WHERE day = %s", [day]) if day else ("", [])
    return conn.execute(
        f"SELECT id, day, chat_id, kind, dedup_key, status, attempts, telegram_message_id, error, body, sent_at "
        f"FROM {TABLE} {where} ORDER BY id DESC LIMIT %s", [*params, limit]).fetchall()
