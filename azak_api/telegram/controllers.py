"""Telegram subscribers and the outbox (admin): who gets what, and what was sent."""

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED, admin_only
from azak_api.cache import INVALIDATES
from azak_api.db import Total
from azak_api.errors import NotFound, error_responses
from azak_api.pages import paging
from azak_api.telegram import queries
from azak_api.telegram.schemas import Notification, NotificationPage, Subscriber, SubscriberPage
from azak_core.market import STOCK_CODE_PATTERN
from azak_core.patterns import whole

CHAT_PATTERN = whole("-?[0-9]{1,19}")
ChatId = Annotated[str, Parameter(pattern=CHAT_PATTERN, description="the Telegram chat id (decimal)")]
Status = Literal["pending", "sending", "sent", "failed", "skipped"]


def as_subscriber(row: Any) -> Subscriber:
    return Subscriber(str(row.chat_id), row.user_id, row.username, list(row.stocks), row.quiet_start, row.quiet_end,
                      row.language, row.active, row.inactive_reason, row.created_at, row.updated_at)


def as_notification(row: Any) -> Notification:
    return Notification(row.id, row.day, str(row.chat_id), row.kind, row.dedup_key, row.status, row.attempts,
                        row.telegram_message_id, row.error, row.body, row.not_before, row.created_at, row.sent_at)


def _chat(text: str) -> int | None:
    """The chat id, or ``None`` when no chat can have it (beyond a 64-bit integer)."""
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


class TelegramController(Controller):
    path = "/api/admin/telegram"
    tags = ["admin"]
    security = SECURED
    guards = [admin_only]

    @get("/subscribers", operation_id="listTelegramSubscribers", summary="Telegram subscribers (admin)",
         responses=error_responses(401, 403))
    async def list_subscribers(
        self, db: AsyncConnection,
        active: bool | None = None,
        stock: Annotated[str | None,
                         Parameter(pattern=STOCK_CODE_PATTERN, description="who watches this stock")] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> SubscriberPage:
        rows, total = await queries.subscribers(db, active, stock, (page - 1) * page_size, page_size)
        return SubscriberPage([as_subscriber(r) for r in rows], **paging(total, page, page_size))

    @post("/subscribers/{chat_id:str}/deactivate", operation_id="deactivateTelegramSubscriber", status_code=200,
          summary="Stop sending to a subscriber (admin); their pending messages are skipped",
          responses=error_responses(401, 403, 404, 413),
          opt={INVALIDATES: ()})
    async def deactivate(self, tx: AsyncConnection, chat_id: ChatId) -> Subscriber:
        chat = _chat(chat_id)
        row = await queries.deactivate(tx, chat, "deactivated by an admin") if chat is not None else None
        if row is None:
            raise NotFound(f"no subscriber {chat_id}")
        return as_subscriber(row)

    @get("/notifications", operation_id="listTelegramNotifications",
         summary="The outbox with receipts, newest first (admin)", responses=error_responses(401, 403))
    async def list_notifications(
        self, db: AsyncConnection,
        day: Annotated[date | None, Parameter(description="the KST day that produced them")] = None,
        status: Status | None = None,
        chat: Annotated[str | None, Parameter(pattern=CHAT_PATTERN, description="one chat")] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> NotificationPage:
        chat_id = _chat(chat) if chat else None
        if chat and chat_id is None:
            return NotificationPage([], **paging(Total(0, is_estimate=False), page, page_size))  # no chat has that id
        rows, total = await queries.notifications(db, day, status, chat_id, (page - 1) * page_size, page_size)
        return NotificationPage([as_notification(r) for r in rows], **paging(total, page, page_size))
