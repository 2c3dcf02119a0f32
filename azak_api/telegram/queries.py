"""SQL over ``app.telegram_subscribers`` and ``app.telegram_notifications``."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, paged

SUBSCRIBER = ("chat_id, user_id, username, stocks, quiet_start, quiet_end, language, active, inactive_reason, "
              "created_at, updated_at")
NOTIFICATION = ("id, day, chat_id, kind, dedup_key, status, attempts, telegram_message_id, error, body, not_before, "
                "created_at, sent_at")


async def subscribers(conn: AsyncConnection, active: bool | None, stock: str | None, offset: int, limit: int
                      ) -> tuple[Sequence[Any], Total]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if active is not None:
        conditions.append("active = :active")
        params["active"] = active
    if stock:
        conditions.append(":stock = ANY(stocks)")
        params["stock"] = stock
    return await paged(conn, SUBSCRIBER, "app.telegram_subscribers", " AND ".join(conditions), "chat_id",
                       params, offset, limit)


async def deactivate(conn: AsyncConnection, chat_id: int, reason: str) -> Any:
    """Stop a subscriber and skip what is still waiting for them; ``None`` when unknown."""
    row = (await conn.execute(text(
        f"UPDATE app.telegram_subscribers SET active = false, inactive_reason = :reason, updated_at = now() "
        f"WHERE chat_id = :chat RETURNING {SUBSCRIBER}"), {"chat": chat_id, "reason": reason})).one_or_none()
    if row is not None:
        await conn.execute(text(
            "UPDATE app.telegram_notifications SET status = 'skipped', error = :error "
            "WHERE chat_id = :chat AND status = 'pending'"), {"chat": chat_id, "error": f"chat inactive: {reason}"})
    return row


async def notifications(conn: AsyncConnection, day: date | None, status: str | None, chat_id: int | None,
                        offset: int, limit: int) -> tuple[Sequence[Any], Total]:
    conditions: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    for column, value in (("day", day), ("status", status), ("chat_id", chat_id)):
        if value is not None:
            conditions.append(f"{column} = :{column}")
            params[column] = value
    return await paged(conn, NOTIFICATION, "app.telegram_notifications", " AND ".join(conditions), "id DESC",
                       params, offset, limit)
