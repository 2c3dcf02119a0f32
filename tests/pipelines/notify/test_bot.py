"""The bot's commands, through getUpdates and sendMessage on a local Bot API server, against the
real subscriber tables; names resolve through the linker's aliases."""

import asyncio
from datetime import date

import psycopg
import pytest

from azak_api.admin import upsert_user_async
from azak_pipelines.defs.predictions.tables import STOCK_REPORTS
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR
from azak_pipelines.lib.matching.linker import load_linker
from azak_pipelines.lib.notify import subscribers
from azak_pipelines.lib.notify.bot import BotContext, build_application, serve
from azak_pipelines.lib.notify.messages import Links
from azak_pipelines.lib.notify.stocks import StockResolver
from azak_pipelines.lib.sample_data import sample_data_dir
from azak_pipelines.lib.warehouse import append_rows, connect
from tests.pipelines.notify.botapi import BotApi
from tests.pipelines.notify.warehouse_rows import HOSTILE, one_day, report

CHAT = 555


@pytest.fixture(scope="module")
def resolver() -> StockResolver:
    listing = sample_data_dir() / "universe" / "krx_listed_2025_09.csv"
    return StockResolver(load_linker(listing, DBT_PROJECT_DIR / "seeds"))


def test_names_codes_and_aliases_resolve(resolver):
    assert resolver.resolve("삼전").stock.code == "005930"
    assert resolver.resolve("005930").stock.name == "삼성전자"
    assert resolver.resolve("네이버").stock.code == "035420"
    assert resolver.resolve("sk하이닉스").stock.code == "000660"
    unknown = resolver.resolve("삼성전ㅈ")
    assert unknown.stock is None and "005930" in [s.code for s in unknown.suggestions]
    partial = resolver.resolve("삼성")
    assert partial.stock is None and "005930" in {s.code for s in partial.suggestions}
    assert all("삼성" in s.name for s in partial.suggestions) and len(partial.suggestions) == 5
    assert resolver.resolve("없는회사이름").suggestions == ()


async def converse(api: BotApi, bot: BotContext, *commands: str, replies: int, chat: int = CHAT) -> list[str]:
    application = build_application(api.token, bot, api.url)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(application, bot.database_url, stop, interval=0.1))
    for command in commands:
        api.user_says(chat, command)
    for _ in range(300):
        if len(api.texts(chat)) >= replies:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    return api.texts(chat)


async def link_account(url: str, chat: int) -> str:
    """A new API account, linked to ``chat`` the way `azak telegram link` does; its email."""
    email = f"{chat}@telegram.test.azak"
    await upsert_user_async(url, email, "a-long-password", "user", False)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        assert await subscribers.link(conn, chat, email)
    return email


def subscriber(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT stocks, quiet_start, quiet_end, active, username "
                            "FROM app.telegram_subscribers WHERE chat_id = %s", (CHAT,)).fetchone()


async def test_a_user_subscribes_watches_and_stops(app_db, resolver, bot_api):
    bot = BotContext(app_db, resolver, STOCK_REPORTS.ident, Links("https://azak.example"))
    texts = await converse(bot_api, bot, "/start", "/watch 삼전", "/watch SK하이닉스", "/watch 삼전",
                           "/watch 삼성전ㅈ", "/unwatch 005930", "/quiet 22-07", "/list", "/quiet 25-3",
                           "/stop", replies=10)
    assert len(texts) == 10
    start, watch, watch2, again, unknown, unwatch, quiet, listing, bad_quiet, stop = texts
    assert "/watch 종목" in start and "관심 종목이 없습니다" in start
    assert "✅ 삼성전자 (005930) 관심 종목에 추가했습니다." in watch
    assert "관심 종목 (2): 삼성전자 (005930), SK하이닉스 (000660)" in watch2
    assert "이미 관심 종목" in again
    assert "찾지 못했습니다" in unknown and "삼성전자 (005930)" in unknown
    assert "관심 종목에서 뺐습니다" in unwatch and "관심 종목 (1): SK하이닉스 (000660)" in unwatch
    assert "22시–07시" in quiet and "방해 금지: 22시–07시 (KST)" in listing
    assert "0–23" in bad_quiet
    assert "중지" in stop
    assert subscriber(app_db) == (["000660"], 22, 7, False, "investor")
    sent = [params for method, params in bot_api.calls if method == "sendMessage"]
    assert {p.get("parse_mode") for p in sent} == {"HTML"}
    assert ("setMyCommands" in {m for m, _ in bot_api.calls}) and ("getUpdates" in {m for m, _ in bot_api.calls})


async def test_report_shows_each_models_latest_report_as_text(app_db, resolver, bot_api):
    day = date(2025, 6, 16)
    with connect(app_db) as conn:
        append_rows(conn, STOCK_REPORTS, [
            report("a", day, "005930", "hold", hour=1), report("b", day, "005930", "buy", hour=5, summary=HOSTILE),
            report("c", day, "005930", "sell", hour=3, model="gpt-4o")], *one_day(day))
    bot = BotContext(app_db, resolver, STOCK_REPORTS.ident, Links("https://azak.example"))
    await link_account(app_db, CHAT)
    [text, missing] = await converse(bot_api, bot, "/report 삼전", "/report NAVER", replies=2)
    assert "<b>baseline</b> (06-16 14:00): 매수" in text and "<b>gpt-4o</b> (06-16 12:00): 매도" in text
    assert HOSTILE not in text and "&lt;b&gt;무조건 매수&lt;/b&gt;" in text
    assert "관망" not in text  # only the latest per model
    assert "NAVER (035420)의 리포트가 아직 없습니다" in missing


async def test_report_answers_only_chats_linked_to_an_active_account(app_db, resolver, bot_api):
    """Reports are behind login in the API: a stranger who finds the bot, or the chat of an account
    an admin deactivated, is refused and sees none of a report."""
    day, stranger = date(2025, 6, 16), 777
    with connect(app_db) as conn:
        append_rows(conn, STOCK_REPORTS, [report("a", day, "005930", "buy", hour=5)], *one_day(day))
    bot = BotContext(app_db, resolver, STOCK_REPORTS.ident, Links("https://azak.example"))
    [refused] = (await converse(bot_api, bot, "/start", "/report 삼전", replies=2, chat=stranger))[1:]
    email = await link_account(app_db, CHAT)
    [served] = await converse(bot_api, bot, "/report 삼전", replies=1)
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("UPDATE app.users SET is_active = false WHERE email = %s", (email,))
    [deactivated] = (await converse(bot_api, bot, "/report 005930", replies=2))[1:]
    assert "<b>baseline</b> (06-16 14:00): 매수" in served and "견조한 실적" in served
    for text in (refused, deactivated):
        assert "계정에 연결된 채팅에서만" in text and "azak telegram link" in text
        assert "baseline" not in text and "매수" not in text and "견조한 실적" not in text
    assert f"<code>{stranger}</code>" in refused and f"<code>{CHAT}</code>" in deactivated


async def test_the_bot_process_delivers_the_outbox(app_db, resolver, bot_api):
    from azak_pipelines.lib.notify.outbox import Outgoing, enqueue
    from tests.pipelines.notify.test_sender import NOON_KST

    with psycopg.connect(app_db, autocommit=True) as conn:
        enqueue(conn, [Outgoing(CHAT, "prediction", "story:1:005930", date(2025, 6, 16), "알림", NOON_KST)])
    bot = BotContext(app_db, resolver, STOCK_REPORTS.ident, Links("https://azak.example"))
    assert await converse(bot_api, bot, replies=1) == ["알림"]


async def test_a_watcher_gets_one_message_per_story_and_a_digest(app_db, resolver, bot_api):
    """End to end: a user /watches through the bot; the day's notifications are a Dagster run (five
    outlets' copies of one story, two models' calls); the bot process delivers them."""
    import dagster as dg

    from tests.pipelines.notify.test_notifications_asset import DAY, JOB, config
    from tests.pipelines.notify.warehouse_rows import write
    from tests.pipelines.runs import run

    bot = BotContext(app_db, resolver, STOCK_REPORTS.ident, Links("https://azak.example"))
    assert len(await converse(bot_api, bot, "/start", "/watch 삼전", replies=2)) == 2
    instance = dg.DagsterInstance.ephemeral()
    write(app_db, DAY, instance)
    result = await asyncio.to_thread(run, JOB, (str(DAY), str(DAY)), run_config=config(), instance=instance)
    assert result.success
    delivered = (await converse(bot_api, bot, replies=5))[2:]
    assert len(delivered) == 3, delivered
    stories = [t for t in delivered if "외 4곳 보도" in t]
    assert len(stories) == 1 and "삼성전자" in stories[0]  # one message for the story, not five or ten
    assert sum("관망 → <b>매수</b>" in t for t in delivered) == 1  # the changed recommendation
    assert sum("오늘 보낸 주요 알림" in t for t in delivered) == 1  # the digest
    assert not any("SK하이닉스" in t and "보도" in t for t in delivered)  # not watched: not sent
