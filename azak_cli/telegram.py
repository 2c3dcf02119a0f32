"""`azak notify`, `azak telegram subscribe|outbox` and `azak serve telegram`."""

import asyncio
import html
import re
import signal
from datetime import date
from typing import Any

from azak_cli.errors import UsageError
from azak_cli.output import print_json
from azak_cli.runtime.environment import Runtime
from azak_core import settings_registry
from azak_core.market import STOCK_CODE
from azak_pipelines.lib.warehouse import table_exists
from azak_pipelines.runs import dagster_instance, require_success, run_job

TAGS = re.compile(r"<[^>]+>")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000/api"


def _setting(name: str, default: str = "") -> str:
    return settings_registry.read_or(name, default)


def _token(purpose: str) -> str:
    token = _setting("AZAK_TELEGRAM_BOT_TOKEN")
    if not token:
        raise UsageError(f"{purpose} needs a bot token: set AZAK_TELEGRAM_BOT_TOKEN (from @BotFather; see "
                         "docs/runbook.md, Telegram alerts). "
                         "Without one the outbox still fills: `azak telegram outbox`")
    return token


def _api_url() -> str:
    from azak_pipelines.lib.notify.sender import DEFAULT_API_URL

    return _setting("AZAK_TELEGRAM_API_URL", DEFAULT_API_URL)


def _plain(body: str, width: int = 70) -> str:
    """A message's first line as text, for the terminal."""
    first = html.unescape(TAGS.sub("", body.split("\n", 1)[0]))
    return first if len(first) <= width else first[: width - 1] + "…"


def _migrate(runtime: Runtime) -> None:
    from azak_api.admin import run_migrations

    run_migrations(runtime.database.render())


def _resolver(runtime: Runtime) -> Any:
    """Names as the news linker knows them: the materialized universe, or the bundled listing."""
    import psycopg

    from azak_pipelines.defs.reference.tables import STOCKS
    from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR
    from azak_pipelines.lib.matching.linker import load_linker, load_linker_from_rows
    from azak_pipelines.lib.notify.stocks import StockResolver
    from azak_pipelines.lib.sample_data import sample_data_dir

    seeds = DBT_PROJECT_DIR / "seeds"
    with psycopg.connect(runtime.database.render()) as conn:
        rows = conn.execute(f"SELECT code, name, industry FROM {STOCKS.key}").fetchall() \
            if table_exists(conn, STOCKS) else []
    if rows:
        return StockResolver(load_linker_from_rows(rows, seeds))
    return StockResolver(load_linker(sample_data_dir() / "universe" / "krx_listed_2025_09.csv", seeds))


def print_receipts(report: Any) -> None:
    for r in report.receipts:
        receipt = f"#{r.message_id}" if r.message_id else (r.error or "")
        print(f"  {r.status:<7} chat {r.chat_id:<14} {r.kind:<13} {receipt}  {_plain(r.first_line, 60)}")
    print(f"delivery: {report.summary()}")


def notify(runtime: Runtime, day: date | None, send: bool) -> dict[str, Any]:
    """Materialize telegram_notifications for a KST day as a Dagster run; with ``send``, deliver
    the due outbox and print each receipt."""
    from azak_pipelines.definitions import defs
    from azak_pipelines.defs.common import kst_today
    from azak_pipelines.lib.notify.sender import deliver

    token = _token("--send") if send else None
    _migrate(runtime)
    day = day or kst_today()
    print(f"writing the Telegram messages for {day} (KST) through app/telegram_notifications…", flush=True)
    # the run itself never sends: this command decides, and prints what it sent
    result = run_job(defs(), dagster_instance(), "telegram_notifications_job", (str(day), str(day)),
                     {"resources": {"telegram": {"config": {"bot_token": None}}}}, {"azak/origin": "notify"})
    require_success(result, "the notifications run")
    meta: dict[str, Any] = {}
    for event in result.get_asset_materialization_events():
        meta = {k: v.value for k, v in event.materialization.metadata.items()}
    print(f"{meta.get('subscribers', 0)} subscriber(s), {meta.get('stories', 0)} stories, "
          f"{meta.get('report_changes', 0)} report change(s): {meta.get('rows_new', 0)} new message(s), "
          f"{meta.get('rows_refreshed', 0)} refreshed, outbox {meta.get('outbox_status', {})} (run {result.run_id})")
    if meta.get("inputs_not_materialized"):
        print(f"not materialized yet (skipped): {', '.join(meta['inputs_not_materialized'])}")
    if token:
        report = asyncio.run(deliver(token, _api_url(), runtime.database.render()))
        print_receipts(report)
    else:
        print("not sent (add --send to deliver what is due)")
    return meta


async def _subscribe(url: str, chat_id: int, codes: list[str]) -> tuple[str, ...]:
    import psycopg

    from azak_pipelines.lib.notify import subscribers

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await subscribers.start(conn, chat_id, None)
        for code in codes:
            await subscribers.watch(conn, chat_id, code)
        found = await subscribers.get(conn, chat_id)
    return found.stocks if found else ()


def subscribe(runtime: Runtime, chat_id: int, stocks: list[str]) -> None:
    """Subscribe a chat to stocks (codes or names, resolved like the bot's /watch)."""
    _migrate(runtime)
    resolver = _resolver(runtime)
    codes = []
    for text in stocks:
        found = resolver.resolve(text)
        if found.stock is None:
            hint = ", ".join(s.label() for s in found.suggestions)
            raise UsageError(f"no listed stock matches {text!r}" + (f"; did you mean {hint}?" if hint else ""))
        codes.append(found.stock.code)
    watched = asyncio.run(_subscribe(runtime.database.render(), chat_id, codes))
    print(f"chat {chat_id} is subscribed to {', '.join(resolver.stock(c).label() for c in watched)}")


async def _link(url: str, chat_id: int, email: str) -> bool:
    import psycopg

    from azak_pipelines.lib.notify import subscribers

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await subscribers.link(conn, chat_id, email)


def link_account(runtime: Runtime, chat_id: int, email: str) -> None:
    """Link a chat to an Azak account: the bot's /report answers it while the account is active."""
    _migrate(runtime)
    if not asyncio.run(_link(runtime.database.render(), chat_id, email)):
        raise UsageError(f"no Azak account has the email {email!r}; create it first: "
                         "`azak users create --email EMAIL --password …`")
    print(f"chat {chat_id} is linked to {email}: /report answers it while the account is active")


OUTBOX_KEYS = ("id", "day", "chat_id", "kind", "dedup_key", "status", "attempts", "message_id", "error", "body",
               "sent_at")


def show_outbox(runtime: Runtime, day: date | None, limit: int, as_json: bool = False) -> None:
    import psycopg

    from azak_pipelines.lib.notify import outbox

    _migrate(runtime)
    with psycopg.connect(runtime.database.render()) as conn:
        rows = outbox.rows_for_day(conn, day, limit)
    if as_json:
        print_json([dict(zip(OUTBOX_KEYS, r, strict=True)) for r in rows])
        return
    if not rows:
        print(f"the outbox is empty{f' for {day}' if day else ''}")
        return
    print(f"{'id':>6} {'day':<10} {'chat':<14} {'kind':<13} {'status':<8} try {'message':<9} text / error")
    for id_, row_day, chat, kind, _key, status, attempts, message_id, error, body, _sent in rows:
        detail = error if error and status != "sent" else _plain(body, 60)
        print(f"{id_:>6} {row_day!s:<10} {chat:<14} {kind:<13} {status:<8} {attempts:>3} "
              f"{message_id or '':<9} {detail}")


def serve_bot(runtime: Runtime) -> None:
    """Answer commands and deliver the outbox until Ctrl-C or SIGTERM."""
    from azak_pipelines.defs.predictions.tables import STOCK_REPORTS
    from azak_pipelines.lib.notify.bot import BotContext, build_application, serve
    from azak_pipelines.lib.notify.messages import Links

    token = _token("the bot")
    _migrate(runtime)
    context = BotContext(runtime.database.render(), _resolver(runtime), STOCK_REPORTS.ident,
                         Links(_setting("AZAK_PUBLIC_URL", DEFAULT_PUBLIC_URL)))
    application = build_application(token, context, _api_url())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"Telegram bot: long polling {_api_url()} and delivering the outbox; Ctrl-C stops", flush=True)
        await serve(application, runtime.database.render(), stop)

    asyncio.run(main())
    print("bot stopped")


def ensure_demo_subscriber(runtime: Runtime) -> None:
    """The demo's subscriber: ``AZAK_TELEGRAM_DEMO_CHAT_ID`` (or a placeholder chat) watching
    the sample watch-list's first stocks. Migrates the app schema first."""
    from azak_pipelines.lib.reference.universe import read_watchlist
    from azak_pipelines.lib.sample_data import sample_data_dir

    _migrate(runtime)
    chat = chat_id(_setting("AZAK_TELEGRAM_DEMO_CHAT_ID", "1"))
    codes = read_watchlist(sample_data_dir() / "watchlist.csv")[:3]
    asyncio.run(_subscribe(runtime.database.render(), chat, codes))


def chat_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--chat must be a Telegram chat id (an integer), got {text!r}") from None


def stock_arg(text: str) -> str:
    text = text.strip()
    if not text:
        raise UsageError("--stock must not be empty")
    return text.upper() if STOCK_CODE.match(text.upper()) else text
