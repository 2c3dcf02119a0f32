"""Admin routes over Telegram subscribers and the outbox, on an empty warehouse with the app schema."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_pipelines.lib.notify.outbox import Outgoing, enqueue
from tests.api.conftest import Account, bearer, login, make_user, settings_for

BIG_CHAT = -1001234567890123  # a supergroup id: beyond a double's exact range, served as a string


@pytest.fixture
async def tg_client(db_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings_for(db_url))) as client:
        yield client


async def person(client: AsyncTestClient, db_url: str, admin: bool) -> Account:
    user_id, email = await make_user(db_url, admin=admin)
    return Account(user_id, email, await login(client, email))


def seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.telegram_subscribers (chat_id, username, stocks, quiet_start, quiet_end) "
                     "VALUES (101, 'kim', '{005930,000660}', 22, 7), (%s, NULL, '{035420}', NULL, NULL)",
                     (BIG_CHAT,))
        enqueue(conn, [Outgoing(101, "prediction", "story:1:005930", date(2025, 6, 16), "<b>알림</b> &amp; 끝",
                                datetime(2025, 6, 16, 3, tzinfo=UTC)),
                       Outgoing(BIG_CHAT, "digest", "digest:2025-06-16", date(2025, 6, 16), "요약",
                                datetime(2025, 6, 16, 9, tzinfo=UTC))])


async def test_admins_list_subscribers_and_deactivate_one(tg_client, db_url):
    admin = await person(tg_client, db_url, admin=True)
    user = await person(tg_client, db_url, admin=False)
    seed(db_url)
    listed = await tg_client.get("/api/admin/telegram/subscribers", headers=bearer(admin.token))
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 2 and [s["chat_id"] for s in body["items"]] == [str(BIG_CHAT), "101"]
    kim = body["items"][1]
    assert kim["stocks"] == ["005930", "000660"] and (kim["quiet_start"], kim["quiet_end"]) == (22, 7)
    watching = (await tg_client.get("/api/admin/telegram/subscribers", params={"stock": "035420"},
                                    headers=bearer(admin.token))).json()
    assert [s["chat_id"] for s in watching["items"]] == [str(BIG_CHAT)]
    assert (await tg_client.get("/api/admin/telegram/subscribers", headers=bearer(user.token))).status_code == 403

    stopped = await tg_client.post("/api/admin/telegram/subscribers/101/deactivate", headers=bearer(admin.token))
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    assert stopped.json()["inactive_reason"] == "deactivated by an admin"
    outbox = (await tg_client.get("/api/admin/telegram/notifications", params={"chat": "101"},
                                  headers=bearer(admin.token))).json()
    [skipped] = outbox["items"]
    assert (skipped["status"], skipped["error"]) == ("skipped", "chat inactive: deactivated by an admin")
    assert outbox["items"][0]["body"] == "<b>알림</b> &amp; 끝"  # served as data, exactly as it would be sent
    active = (await tg_client.get("/api/admin/telegram/subscribers", params={"active": "true"},
                                  headers=bearer(admin.token))).json()
    assert active["total"] == 1
    missing = await tg_client.post("/api/admin/telegram/subscribers/999/deactivate", headers=bearer(admin.token))
    assert missing.status_code == 404 and "no subscriber 999" in missing.text
    bad = await tg_client.post("/api/admin/telegram/subscribers/abc/deactivate", headers=bearer(admin.token))
    assert bad.status_code == 400


async def test_the_outbox_filters_by_day_and_status(tg_client, db_url):
    admin = await person(tg_client, db_url, admin=True)
    seed(db_url)
    pending = (await tg_client.get("/api/admin/telegram/notifications",
                                   params={"day": "2025-06-16", "status": "pending"},
                                   headers=bearer(admin.token))).json()
    assert pending["total"] == 2 and {n["kind"] for n in pending["items"]} == {"prediction", "digest"}
    none = (await tg_client.get("/api/admin/telegram/notifications", params={"day": "2025-06-17"},
                                headers=bearer(admin.token))).json()
    assert none["total"] == 0 and none["items"] == []
    assert (await tg_client.get("/api/admin/telegram/notifications", params={"status": "lost"},
                                headers=bearer(admin.token))).status_code == 400
    huge = await tg_client.get("/api/admin/telegram/notifications", params={"chat": "9" * 19},
                               headers=bearer(admin.token))
    assert huge.status_code == 200 and huge.json()["total"] == 0
