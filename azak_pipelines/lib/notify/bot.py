"""The Telegram bot: subscribers manage their stocks with commands; the outbox is delivered on
the side.

Commands: /start, /help, /watch CODE|NAME, /unwatch CODE|NAME, /list, /report CODE|NAME,
/quiet HH-HH (KST; ``off`` clears), /stop. Names resolve through the linker's names and aliases
(삼전 → 005930); an unknown name gets close matches. ``/report`` answers only a chat linked to an
active Azak account (``azak telegram link``): the API keeps reports behind login. Replies use the
HTML parse mode with every value escaped. :func:`serve` long-polls ``getUpdates`` and delivers due
outbox messages every ``interval`` seconds until stopped.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from azak_core.market import KST
from azak_pipelines.lib.notify import subscribers
from azak_pipelines.lib.notify.messages import RECOMMENDATIONS, Links, clip, esc, link
from azak_pipelines.lib.notify.sender import DEFAULT_API_URL, Sender
from azak_pipelines.lib.notify.stocks import Resolution, Stock, StockResolver

LOG = logging.getLogger("azak.telegram")

HELP = "\n".join([
    "<b>Azak 알림 봇</b> — 관심 종목의 주요 뉴스 영향 예측, 투자의견 변경, 저녁 요약을 보내 드립니다.",
    "",
    "/watch 종목 — 관심 종목 추가 (예: /watch 삼전, /watch 005930)",
    "/unwatch 종목 — 관심 종목 해제",
    "/list — 관심 종목과 방해 금지 시간",
    "/report 종목 — 모델별 최신 리포트 (Azak 계정에 연결된 채팅만)",
    "/quiet 22-07 — 방해 금지 시간 (KST), /quiet off 로 해제",
    "/stop — 알림 중지 (/start 로 다시 시작)",
    "/help — 이 도움말",
])
COMMANDS = [("start", "알림 시작"), ("help", "도움말"), ("watch", "관심 종목 추가"), ("unwatch", "관심 종목 해제"),
            ("list", "관심 종목 보기"), ("report", "최신 리포트"), ("quiet", "방해 금지 시간"), ("stop", "알림 중지")]

REPORTS_SQL = """
SELECT DISTINCT ON (model_name) model_name, made_at, recommendation, summary
FROM {reports} WHERE stock_code = %s AND status = 'ok'
ORDER BY model_name, made_at DESC
"""


@dataclass(frozen=True)
class BotContext:
    database_url: str
    resolver: StockResolver
    reports: sql.Composable  # the stock reports table
    links: Links

    async def connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.database_url, autocommit=True,
                                                     application_name="azak-telegram-bot")


def _unknown(query: str, found: Resolution) -> str:
    text = f"‘{esc(query)}’에 해당하는 종목을 찾지 못했습니다."
    if found.suggestions:
        text += " 혹시 이 종목인가요?\n" + "\n".join(f"• {esc(s.label())}" for s in found.suggestions)
    return text


def _stocks_line(bot: BotContext, codes: tuple[str, ...]) -> str:
    if not codes:
        return "관심 종목이 없습니다. /watch 종목 으로 추가하세요."
    return f"관심 종목 ({len(codes)}): " + ", ".join(esc(bot.resolver.stock(c).label()) for c in codes)


Handler = Callable[[BotContext, int, str | None, list[str]], Awaitable[str]]


async def on_start(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    async with await bot.connect() as conn:
        sub = await subscribers.start(conn, chat_id, username)
    return HELP + "\n\n" + _stocks_line(bot, sub.stocks)


async def on_help(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    return HELP


async def _resolve(bot: BotContext, args: list[str], usage: str) -> Stock | str:
    query = " ".join(args)
    if not query:
        return usage
    found = bot.resolver.resolve(query)
    return found.stock if found.stock else _unknown(query, found)


async def on_watch(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    stock = await _resolve(bot, args, "사용법: /watch 종목명 또는 코드 (예: /watch 삼전)")
    if isinstance(stock, str):
        return stock
    async with await bot.connect() as conn:
        try:
            added, sub = await subscribers.watch(conn, chat_id, stock.code, username)
        except ValueError as exc:
            return esc(exc)
    if not sub.active:
        return f"{esc(stock.label())}을(를) 추가했지만 알림이 꺼져 있습니다. /start 로 다시 시작하세요."
    head = f"✅ {esc(stock.label())} 관심 종목에 추가했습니다." if added else \
        f"{esc(stock.label())}은(는) 이미 관심 종목입니다."
    return head + "\n" + _stocks_line(bot, sub.stocks)


async def on_unwatch(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    stock = await _resolve(bot, args, "사용법: /unwatch 종목명 또는 코드")
    if isinstance(stock, str):
        return stock
    async with await bot.connect() as conn:
        removed = await subscribers.unwatch(conn, chat_id, stock.code)
        sub = await subscribers.get(conn, chat_id)
    head = f"{esc(stock.label())} 관심 종목에서 뺐습니다." if removed else \
        f"{esc(stock.label())}은(는) 관심 종목이 아닙니다."
    return head + "\n" + _stocks_line(bot, sub.stocks if sub else ())


async def on_list(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    async with await bot.connect() as conn:
        sub = await subscribers.get(conn, chat_id)
    if sub is None:
        return "아직 구독하지 않았습니다. /start 로 시작하세요."
    lines = [_stocks_line(bot, sub.stocks)]
    if sub.quiet_start is not None:
        lines.append(f"방해 금지: {sub.quiet_start:02d}시–{sub.quiet_end:02d}시 (KST)")
    if not sub.active:
        lines.append("알림이 꺼져 있습니다. /start 로 다시 시작하세요.")
    return "\n".join(lines)


def _not_linked(chat_id: int) -> str:
    return ("🔒 리포트는 활성 Azak 계정에 연결된 채팅에서만 볼 수 있습니다. 운영자에게 이 채팅 "
            f"(ID <code>{chat_id}</code>)을 계정에 연결해 달라고 요청하세요 "
            "(<code>azak telegram link --chat ID --user EMAIL</code>). 저녁 요약은 연결 없이도 받습니다.")


async def on_report(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    async with await bot.connect() as conn:
        if not await subscribers.account_is_active(conn, chat_id):
            return _not_linked(chat_id)
        stock = await _resolve(bot, args, "사용법: /report 종목명 또는 코드")
        if isinstance(stock, str):
            return stock
        try:
            cursor = await conn.execute(sql.SQL(REPORTS_SQL).format(reports=bot.reports), (stock.code,))
            rows = await cursor.fetchall()
        except psycopg.errors.UndefinedTable:
            rows = []
    if not rows:
        return f"{esc(stock.label())}의 리포트가 아직 없습니다."
    lines = [f"📊 <b>{esc(stock.label())}</b> 모델별 최신 리포트"]
    for model, made_at, recommendation, summary in rows:
        verdict = RECOMMENDATIONS.get(recommendation or "", esc(recommendation or "—"))
        lines.append(f"• <b>{esc(model)}</b> ({made_at.astimezone(KST):%m-%d %H:%M}): {verdict}")
        if summary:
            lines.append(f"  {esc(clip(summary, 300))}")
    lines.append(link(bot.links.stock(stock.code), "리포트 전체 보기"))
    return "\n".join(lines)


async def on_quiet(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    try:
        start, end = subscribers.parse_quiet(" ".join(args))
    except ValueError as exc:
        return esc(exc)
    async with await bot.connect() as conn:
        changed = await subscribers.set_quiet(conn, chat_id, start, end)
    if not changed:
        return "아직 구독하지 않았습니다. /start 로 시작하세요."
    if start is None:
        return "방해 금지 시간을 해제했습니다."
    return f"🌙 {start:02d}시–{end:02d}시 (KST)에는 알림을 보내지 않고, 끝난 뒤에 보내 드립니다."


async def on_stop(bot: BotContext, chat_id: int, username: str | None, args: list[str]) -> str:
    async with await bot.connect() as conn:
        stopped = await subscribers.stop(conn, chat_id)
    return "알림을 중지했습니다. /start 로 언제든 다시 시작할 수 있습니다." if stopped else \
        "구독 중이 아닙니다. /start 로 시작하세요."


HANDLERS: dict[str, Handler] = {"start": on_start, "help": on_help, "watch": on_watch, "unwatch": on_unwatch,
                                "list": on_list, "report": on_report, "quiet": on_quiet, "stop": on_stop}


def _command(bot: BotContext, handler: Handler
             ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None:
            return
        user = update.effective_user
        try:
            reply = await handler(bot, chat.id, user.username if user else None, list(context.args or []))
        except psycopg.Error:
            LOG.exception("command %s failed", message.text)
            reply = "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요."
        await message.reply_text(reply, parse_mode=ParseMode.HTML, do_quote=False)

    return answer


BotApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(token: str, bot: BotContext, api_url: str = DEFAULT_API_URL) -> BotApplication:
    """The python-telegram-bot application, talking to ``{api_url}/bot{token}/{method}``."""
    root = api_url.rstrip("/")
    application = (ApplicationBuilder().token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
                   .request(HTTPXRequest(connect_timeout=5.0, read_timeout=10.0))
                   .get_updates_request(HTTPXRequest(connect_timeout=5.0, read_timeout=40.0))
                   .build())
    for name, handler in HANDLERS.items():
        application.add_handler(CommandHandler(name, _command(bot, handler)))
    return application


async def serve(application: BotApplication, database_url: str, stop: asyncio.Event,
                interval: float = 10.0, poll_interval: float = 0.0, **sender: Any) -> None:
    """Answer commands (long polling) and deliver the outbox every ``interval`` s until ``stop``."""
    async with application:
        await application.bot.set_my_commands([BotCommand(n, d) for n, d in COMMANDS])
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=poll_interval, timeout=10, drop_pending_updates=False)
        await application.start()
        try:
            while not stop.is_set():
                try:
                    report = await Sender(application.bot, database_url, **sender).deliver()
                    if report.receipts:
                        LOG.info("outbox: %s", report.summary())
                except (psycopg.Error, OSError):
                    LOG.exception("outbox delivery failed; retrying in %.0f s", interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            await application.updater.stop()
            await application.stop()
