"""Telegram subscribers and outbox messages: response types."""

from datetime import date, datetime

import msgspec

from azak_api.pages import Paged


class Subscriber(msgspec.Struct):
    chat_id: str  # Telegram chat ids exceed 2^53 for some groups: strings, like news ids
    user_id: int | None
    username: str | None
    stocks: list[str]
    quiet_start: int | None
    quiet_end: int | None
    language: str
    active: bool
    inactive_reason: str | None
    created_at: datetime
    updated_at: datetime


class SubscriberPage(Paged):
    items: list[Subscriber]


class Notification(msgspec.Struct):
    id: int
    day: date
    chat_id: str
    kind: str
    dedup_key: str
    status: str
    attempts: int
    telegram_message_id: int | None
    error: str | None
    body: str  # Telegram HTML exactly as sent: data, never to be rendered as HTML by a client
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None


class NotificationPage(Paged):
    items: list[Notification]
