"""Subscribers (``app.telegram_subscribers``): what the bot and operators change."""

from dataclasses import dataclass
from typing import Any

import psycopg

TABLE = "app.telegram_subscribers"
MAX_STOCKS = 100


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    stocks: tuple[str, ...]
    quiet_start: int | None
    quiet_end: int | None
    active: bool


Conn = psycopg.AsyncConnection[Any]


async def get(conn: Conn, chat_id: int) -> Subscriber | None:
    cursor = await conn.execute(
        f"SELECT chat_id, stocks, quiet_start, quiet_end, active FROM {TABLE} WHERE chat_id = %s", (chat_id,))
    row = await cursor.fetchone()
    return Subscriber(row[0], tuple(row[1]), row[2], row[3], row[4]) if row else None


async def start(conn: Conn, chat_id: int, username: str | None) -> Subscriber:
    """Subscribe (again): active, keeping the stocks and quiet hours of an earlier subscription."""
    await conn.execute(
        f"INSERT INTO {TABLE} (chat_id, username) VALUES (%s, %s) ON CONFLICT (chat_id) DO UPDATE "
        "SET active = true, inactive_reason = NULL, username = coalesce(EXCLUDED.username, "
        f"{TABLE}.username), updated_at = now()", (chat_id, username))
    found = await get(conn, chat_id)
    assert found is not None
    return found


async def stop(conn: Conn, chat_id: int, reason: str = "stopped by the user (/stop)") -> bool:
    cursor = await conn.execute(
        f"UPDATE {TABLE} SET active = false, inactive_reason = %s, updated_at = now() WHERE chat_id = %s",
        (reason, chat_id))
    return cursor.rowcount > 0


async def watch(conn: Conn, chat_id: int, code: str, username: str | None = None) -> tuple[bool, Subscriber]:
    """Add a stock (subscribing the chat if needed); ``False`` when it was already watched."""
    current = await get(conn, chat_id) or await start(conn, chat_id, username)
    if code in current.stocks:
        return False, current
    if len(current.stocks) >= MAX_STOCKS:
        raise ValueError(f"관심 종목은 {MAX_STOCKS}개까지 등록할 수 있습니다.")
    await conn.execute(
        f"UPDATE {TABLE} SET stocks = array_append(stocks, %s), updated_at = now() WHERE chat_id = %s",
        (code, chat_id))
    updated = await get(conn, chat_id)
    assert updated is not None
    return True, updated


async def unwatch(conn: Conn, chat_id: int, code: str) -> bool:
    cursor = await conn.execute(
        f"UPDATE {TABLE} SET stocks = array_remove(stocks, %s), updated_at = now() "
        "WHERE chat_id = %s AND %s = ANY(stocks)", (code, chat_id, code))
    return cursor.rowcount > 0


async def set_quiet(conn: Conn, chat_id: int, start_hour: int | None, end_hour: int | None) -> bool:
    cursor = await conn.execute(
        f"UPDATE {TABLE} SET quiet_start = %s, quiet_end = %s, updated_at = now() WHERE chat_id = %s",
        (start_hour, end_hour, chat_id))
    return cursor.rowcount > 0


async def account_is_active(conn: Conn, chat_id: int) -> bool:
    """Whether the chat is linked to an Azak account that may log in (``app.users.is_active``).

    Reports are behind login in the API, so the bot serves them only to such chats."""
    cursor = await conn.execute(
        f"SELECT u.is_active FROM {TABLE} s JOIN app.users u ON u.id = s.user_id WHERE s.chat_id = %s",
        (chat_id,))
    row = await cursor.fetchone()
    return bool(row and row[0])


async def link(conn: Conn, chat_id: int, email: str) -> bool:
    """Link the chat (subscribing it if needed) to the account with this email; ``False`` when no
    account has it."""
    cursor = await conn.execute("SELECT id FROM app.users WHERE email = lower(%s)", (email.strip(),))
    row = await cursor.fetchone()
    if row is None:
        return False
    await get(conn, chat_id) or await start(conn, chat_id, None)
    await conn.execute(f"UPDATE {TABLE} SET user_id = %s, updated_at = now() WHERE chat_id = %s",
                       (row[0], chat_id))
    return True


def parse_quiet(text: str) -> tuple[int | None, int | None]:
    """``22-07`` → (22, 7); ``off`` → no quiet hours. Raises ValueError with the accepted forms."""
    text = text.strip().lower()
    if text in {"off", "해제", "끄기"}:
        return None, None
    parts = text.replace("~", "-").split("-")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        start_hour, end_hour = (int(p) for p in parts)
        if 0 <= start_hour <= 23 and 0 <= end_hour <= 23 and start_hour != end_hour:
            return start_hour, end_hour
    raise ValueError("방해 금지 시간은 /quiet 22-07 처럼 시작-끝 시각(0–23, KST)으로, 해제는 /quiet off 로 입력하세요.")
