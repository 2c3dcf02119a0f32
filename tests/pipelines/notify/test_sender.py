"""The sender against a local Bot API server: receipts, 429, 403, 5xx, pacing, quiet hours, dedup."""

import asyncio
from datetime import UTC, date, datetime

import psycopg
import pytest

from azak_pipelines.lib.notify import outbox
from azak_pipelines.lib.notify.outbox import Outgoing, enqueue
from azak_pipelines.lib.notify.sender import Pacer, Sender, is_quiet, make_bot
from tests.pipelines.notify.botapi import BotApi

DAY = date(2026, 11, 30)
NOON_KST = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def add(url: str, chat_id: int, key: str, body: str = "안녕하세요", kind: str = "prediction",
        not_before: datetime = NOON_KST) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        enqueue(conn, [Outgoing(chat_id, kind, key, DAY, body, not_before)])


def subscribe(url: str, chat_id: int, quiet: tuple[int, int] | None = None) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.telegram_subscribers (chat_id, stocks, quiet_start, quiet_end) "
                     "VALUES (%s, '{005930}', %s, %s)", (chat_id, *(quiet or (None, None))))


def outbox_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT chat_id, dedup_key, status, attempts, telegram_message_id, error "
                            "FROM app.telegram_notifications ORDER BY id").fetchall()


async def deliver(api: BotApi, url: str, now: datetime = NOON_KST, **options) -> object:
    async with make_bot(api.token, api.url) as bot:
        return await Sender(bot, url, clock=lambda: now, backoff=0.05, **options).deliver()


async def test_messages_are_sent_once_with_their_receipts(app_db, bot_api):
    for chat in (11, 12):
        subscribe(app_db, chat)
        add(app_db, chat, "story:1:005930", "<b>첫</b> 소식")
        add(app_db, chat, "story:2:005930", "두 번째 소식")
    add(app_db, 11, "story:1:005930", "<b>첫</b> 소식")  # the same story again: nothing new
    report = await deliver(bot_api, app_db)
    assert report.count("sent") == 4
    rows = outbox_rows(app_db)
    assert [r[2] for r in rows] == ["sent"] * 4 and all(r[3] == 1 for r in rows)
    assert sorted(r[4] for r in rows) == sorted(s.message_id for s in bot_api.sent)
    assert {s.parse_mode for s in bot_api.sent} == {"HTML"}
    assert bot_api.texts(11) == ["<b>첫</b> 소식", "두 번째 소식"]  # in order
    # one message per chat per second (sends start ≥ 1 s apart — the Pacer test below checks that
    # exactly; arrival times here also carry the HTTP latency jitter of a loaded machine)
    for chat in (11, 12):
        times = [s.at for s in bot_api.sent if s.chat_id == chat]
        assert times[1] - times[0] >= 0.5
    again = await deliver(bot_api, app_db)
    assert again.receipts == [] and len(bot_api.sent) == 4


async def test_429_is_waited_out_and_the_message_still_goes(app_db, bot_api):
    add(app_db, 21, "run-failure:abc", kind="run_failure")
    bot_api.fail(21, 429, retry_after=1)
    started = asyncio.get_running_loop().time()
    report = await deliver(bot_api, app_db)
    assert report.rate_limited == 1 and report.count("sent") == 1
    assert asyncio.get_running_loop().time() - started >= 1.0
    assert outbox_rows(app_db)[0][2:4] == ("sent", 1)


async def test_a_chat_that_blocked_the_bot_becomes_inactive(app_db, bot_api):
    subscribe(app_db, 31)
    subscribe(app_db, 32)
    add(app_db, 31, "story:1:005930")
    add(app_db, 31, "story:2:005930")
    add(app_db, 32, "story:1:005930")
    bot_api.fail(31, 403)
    report = await deliver(bot_api, app_db)
    assert report.count("sent") == 1 and report.count("skipped") == 2
    rows = outbox_rows(app_db)
    assert [r[2] for r in rows] == ["failed", "skipped", "sent"]
    assert "blocked" in rows[0][5] and "blocked" in rows[1][5]
    with psycopg.connect(app_db) as conn:
        assert conn.execute("SELECT active, inactive_reason FROM app.telegram_subscribers "
                            "WHERE chat_id = 31").fetchone()[0] is False
    add(app_db, 31, "story:3:005930")  # written later: skipped, never sent
    await deliver(bot_api, app_db)
    assert outbox_rows(app_db)[-1][2] == "skipped" and bot_api.texts(31) == []


async def test_server_errors_are_retried_then_left_for_the_next_pass(app_db, bot_api):
    add(app_db, 41, "check:a", kind="check_failure")
    add(app_db, 42, "check:b", kind="check_failure")
    bot_api.fail(41, 500)  # one 5xx: retried in the same pass
    bot_api.fail(42, 502, 502, 502, 502)  # more than the retries: pending, error recorded
    report = await deliver(bot_api, app_db, retries=3)
    rows = outbox_rows(app_db)
    assert rows[0][2:4] == ("sent", 1)
    assert rows[1][2:4] == ("pending", 1) and "Bad Gateway" in rows[1][5]
    assert report.count("pending") == 1
    await deliver(bot_api, app_db)
    rows = outbox_rows(app_db)
    assert rows[1][2:5] == ("sent", 2, bot_api.sent[-1].message_id) and rows[1][5] is None


async def test_a_bad_request_fails_for_good_and_attempts_are_bounded(app_db, bot_api):
    add(app_db, 51, "story:9:005930")
    bot_api.fail(51, 400)
    await deliver(bot_api, app_db)
    assert outbox_rows(app_db)[0][2] == "failed"
    add(app_db, 52, "story:9:005930")
    for _ in range(outbox.MAX_ATTEMPTS):
        bot_api.fail(52, 500)
    for _ in range(outbox.MAX_ATTEMPTS):
        await deliver(bot_api, app_db, retries=0)
    assert outbox_rows(app_db)[1][2:4] == ("failed", outbox.MAX_ATTEMPTS)


async def test_quiet_hours_hold_messages_until_they_end(app_db, bot_api):
    subscribe(app_db, 61, quiet=(22, 7))
    add(app_db, 61, "story:1:005930")
    add(app_db, 62, "run-failure:x", kind="run_failure")  # the admin chat has no quiet hours
    late = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # 23:30 KST
    report = await deliver(bot_api, app_db, now=late)
    assert report.quiet_held == 1 and bot_api.texts(61) == [] and len(bot_api.texts(62)) == 1
    morning = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 08:00 KST
    await deliver(bot_api, app_db, now=morning)
    assert len(bot_api.texts(61)) == 1


async def test_messages_wait_for_their_time(app_db, bot_api):
    evening = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 18:00 KST
    add(app_db, 71, "digest:2026-11-30", kind="digest", not_before=evening)
    await deliver(bot_api, app_db, now=NOON_KST)
    assert bot_api.texts(71) == []
    await deliver(bot_api, app_db, now=evening)
    assert len(bot_api.texts(71)) == 1


@pytest.mark.parametrize(("hour", "start", "end", "quiet"), [
    (23, 22, 7, True), (3, 22, 7, True), (7, 22, 7, False), (12, 22, 7, False),
    (13, 12, 14, True), (14, 12, 14, False), (5, None, None, False), (5, 5, 5, False),
])
def test_quiet_hours_wrap_midnight(hour, start, end, quiet):
    assert is_quiet(hour, start, end) is quiet


async def test_the_pacer_keeps_thirty_a_second_overall_and_one_a_second_per_chat():
    now = [0.0]
    slept: list[float] = []
    pacer = Pacer(30, 1.0, lambda: now[0])
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)
        now[0] += delay
        await real_sleep(0)

    asyncio.sleep = fake_sleep  # type: ignore[assignment]
    try:
        times = []
        for i in range(60):  # 60 chats, one message each
            await pacer.wait(i)
            times.append(now[0])
        assert times[-1] == pytest.approx(59 / 30)
        await pacer.wait(0)
        await pacer.wait(0)
        assert now[0] - times[0] >= 2.0 - 1e-9  # chat 0: three messages, a second apart
    finally:
        asyncio.sleep = real_sleep
