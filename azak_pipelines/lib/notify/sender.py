"""Delivering the outbox through the Bot API (python-telegram-bot), with receipts.

Telegram's limits are kept by pacing, not by hoping: at most ``per_second`` messages overall
(about 30/s) and one per chat per ``chat_interval`` (1 s). Each chat's messages go out in order
from their own task; every send first takes the next free global slot. A 429 carries
``retry_after``: the whole sender waits it out and tries the same message again (flood control
is not the message's fault, so it costs no attempt beyond the one in flight). Network errors and
5xx are retried with backoff a few times in this pass, then left ``pending`` for the next pass
until :data:`~azak_pipelines.lib.notify.outbox.MAX_ATTEMPTS`. A 403 means the user blocked the bot
(or left the group): the subscriber becomes inactive and their pending messages are skipped. A
400 is permanent (the message itself is wrong). Subscribers' quiet hours (KST) hold their messages
until the quiet time is over.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.notify import outbox

LOG = logging.getLogger("azak.telegram")
DEFAULT_API_URL = "https://api.telegram.org"


def make_bot(token: str, api_url: str = DEFAULT_API_URL, timeout: float = 10.0) -> Bot:
    """A Bot talking to ``{api_url}/bot{token}/{method}`` (Telegram, a self-hosted Bot API server,
    or the local one in the tests)."""
    root = api_url.rstrip("/")
    request = HTTPXRequest(connect_timeout=5.0, read_timeout=timeout, write_timeout=timeout, pool_timeout=5.0)
    return Bot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot", request=request)


def is_quiet(hour: int, start: int | None, end: int | None) -> bool:
    """Is ``hour`` (KST, 0–23) inside the quiet hours ``[start, end)``? 22-7 wraps midnight;
    equal bounds or none mean no quiet hours."""
    if start is None or end is None or start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


def seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pacer:
    """Hands out send times: one global slot every ``1/per_second`` s, one per chat every
    ``chat_interval`` s, and a global hold after a 429."""

    def __init__(self, per_second: float, chat_interval: float, clock: Callable[[], float]):
        self.interval = 1.0 / per_second
        self.chat_interval = chat_interval
        self.clock = clock
        self.next_global = 0.0
        self.next_chat: dict[int, float] = {}
        self.lock = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        async with self.lock:
            now = self.clock()
            at = max(now, self.next_global, self.next_chat.get(chat_id, 0.0))
            self.next_global = at + self.interval
            self.next_chat[chat_id] = at + self.chat_interval
        if at > now:
            await asyncio.sleep(at - now)

    def hold(self, delay: float) -> None:
        self.next_global = max(self.next_global, self.clock() + delay)


@dataclass
class Receipt:
    outbox_id: int
    chat_id: int
    kind: str
    status: str  # sent | pending (will be retried) | failed | skipped
    message_id: int | None = None
    error: str | None = None
    first_line: str = ""


@dataclass
class DeliveryReport:
    receipts: list[Receipt] = field(default_factory=list)
    quiet_held: int = 0
    skipped_inactive: int = 0
    rate_limited: int = 0  # 429s waited out

    def count(self, status: str) -> int:
        return sum(1 for r in self.receipts if r.status == status)

    def summary(self) -> str:
        return (f"{self.count('sent')} sent, {self.count('pending')} to retry, {self.count('failed')} failed, "
                f"{self.count('skipped')} skipped (blocked), {self.quiet_held} held for quiet hours, "
                f"{self.skipped_inactive} skipped (inactive), {self.rate_limited} rate-limit waits")


@dataclass
class Sender:
    """Delivers due outbox rows. ``clock`` is "now" for quiet hours and due times (tests pin it);
    ``monotonic`` paces sends."""

    bot: Bot
    database_url: str
    per_second: float = 30.0
    chat_interval: float = 1.0
    retries: int = 3
    backoff: float = 0.5
    batch: int = 500
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] | None = None

    async def deliver(self) -> DeliveryReport:
        """One pass: everything due now, except chats in their quiet hours."""
        report = DeliveryReport()
        now = self.clock()
        hour = now.astimezone(KST).hour
        # one connection for the pass: psycopg serialises the chats' small updates on it
        async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True,
                                                         application_name="azak-telegram") as conn:
            report.skipped_inactive = await outbox.skip_inactive(conn)
            candidates = await outbox.due(conn, now, self.batch)
            ready = [row_id for row_id, _, start, end in candidates if not is_quiet(hour, start, end)]
            report.quiet_held = len(candidates) - len(ready)
            claimed = await outbox.claim(conn, ready, now) if ready else []
            if not claimed:
                return report
            by_chat: dict[int, list[outbox.Claimed]] = {}
            for item in claimed:
                by_chat.setdefault(item.chat_id, []).append(item)
            pacer = Pacer(self.per_second, self.chat_interval, self.monotonic or asyncio.get_running_loop().time)
            # more chats in flight than the global rate allows would only queue on the pacer
            gate = asyncio.Semaphore(max(1, int(self.per_second * 2)))
            await asyncio.gather(*(self._chat(conn, messages, pacer, gate, report) for messages in by_chat.values()))
        report.receipts.sort(key=lambda r: r.outbox_id)
        return report

    async def _chat(self, conn: psycopg.AsyncConnection[Any], messages: list[outbox.Claimed], pacer: Pacer,
                    gate: asyncio.Semaphore, report: DeliveryReport) -> None:
        async with gate:
            blocked: str | None = None
            for item in messages:
                first_line = item.body.split("\n", 1)[0][:120]
                if blocked is not None:
                    report.receipts.append(Receipt(item.id, item.chat_id, item.kind, "skipped", None, blocked,
                                                   first_line))
                    continue
                receipt = await self._send(conn, item, pacer, report)
                receipt.first_line = first_line
                report.receipts.append(receipt)
                if receipt.status == "skipped":
                    blocked = receipt.error

    async def _send(self, conn: psycopg.AsyncConnection[Any], item: outbox.Claimed, pacer: Pacer,
                    report: DeliveryReport) -> Receipt:
        failures = 0
        while True:
            await pacer.wait(item.chat_id)
            try:
                message = await self.bot.send_message(item.chat_id, item.body, parse_mode=ParseMode.HTML)
            except RetryAfter as exc:
                report.rate_limited += 1
                wait = seconds(exc.retry_after)
                LOG.warning("Telegram asked to wait %.1f s (429)", wait)
                pacer.hold(wait)
                continue
            except Forbidden as exc:
                reason = f"blocked: {exc.message}"
                await outbox.record_error(conn, item.id, reason, permanent=True, attempts=item.attempts)
                await outbox.deactivate_chat(conn, item.chat_id, reason)
                return Receipt(item.id, item.chat_id, item.kind, "skipped", None, reason)
            except (BadRequest, ChatMigrated, InvalidToken) as exc:
                # the message or the configuration is wrong: trying again cannot help
                error = f"{type(exc).__name__}: {exc.message}"
                status = await outbox.record_error(conn, item.id, error, permanent=True, attempts=item.attempts)
                return Receipt(item.id, item.chat_id, item.kind, status, None, error)
            except (NetworkError, TelegramError) as exc:
                failures += 1
                error = f"{type(exc).__name__}: {exc.message}"
                if failures <= self.retries:
                    LOG.warning("send to %s failed (%s); retry %d/%d", item.chat_id, error, failures, self.retries)
                    await asyncio.sleep(self.backoff * 2 ** (failures - 1))
                    continue
                status = await outbox.record_error(conn, item.id, error, permanent=False, attempts=item.attempts)
                return Receipt(item.id, item.chat_id, item.kind, status, None, error)
            await outbox.record_sent(conn, item.id, message.message_id, self.clock())
            return Receipt(item.id, item.chat_id, item.kind, "sent", message.message_id)


async def deliver(token: str, api_url: str, database_url: str, **options: Any) -> DeliveryReport:
    """Open a bot, deliver what is due, close it."""
    bot = make_bot(token, api_url)
    async with bot:
        return await Sender(bot, database_url, **options).deliver()
