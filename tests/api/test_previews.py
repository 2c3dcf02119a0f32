"""Public preview links through the real app: admins make, list and revoke them; anyone reads the
link's stock page without a token (200), 404 for a link that never existed, 410 once it expired or
was revoked; the page shows that stock only, nothing about any user, and is never cached."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_api.settings import Settings
from tests.api.conftest import Clock, account, bearer

CODE, OTHER = "005930", "000660"


@pytest.fixture
async def api(app_settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(app_settings, clock)) as client:
        yield client


async def make_link(api: AsyncTestClient, token: str, code: str, expires_at: datetime | None = None) -> dict:
    body = {"stock_code": code, "expires_at": expires_at.isoformat() if expires_at else None}
    made = await api.post("/api/admin/previews", json=body, headers=bearer(token))
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_link_serves_its_stocks_page_without_a_token_until_revoked(api, api_warehouse):
    admin, user = await account(api, api_warehouse, admin=True), await account(api, api_warehouse)
    link = await make_link(api, admin.token, CODE)
    assert link["url"] == f"/api/public/previews/{link['id']}" and link["status"] == "active"
    page = await api.get(link["url"])  # no token, no cookie
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store" and page.json()["expires_at"] is None
    # the very page a logged-in user reads for that stock
    stock_page = await api.get(f"/api/stocks/{CODE}/page", headers=bearer(user.token))
    assert page.json()["page"] == stock_page.json()
    assert all(report["stock_code"] == CODE for report in page.json()["page"]["analysis"]["reports"])

    revoked = await api.delete(f"/api/admin/previews/{link['id']}", headers=bearer(admin.token))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    gone = await api.get(link["url"])
    assert gone.status_code == 410 and "revoked" in gone.json()["detail"]


async def test_the_page_never_shows_another_stock_or_anyone_s_data(api, api_warehouse, evaluated):
    admin = await account(api, api_warehouse, admin=True)
    first, second = await make_link(api, admin.token, CODE), await make_link(api, admin.token, OTHER)
    pages = [await api.get(first["url"]), await api.get(second["url"]), await api.get(first["url"])]
    # never one link's answer for another
    assert [p.json()["page"]["detail"]["code"] for p in pages] == [CODE, OTHER, CODE]
    for page, code in zip(pages, (CODE, OTHER, CODE), strict=True):
        assert page.json()["page"]["analysis"]["reports"], "the evaluated warehouse has reports on both stocks"
        assert {r["stock_code"] for r in page.json()["page"]["analysis"]["reports"]} == {code}
    for page in pages:
        text = page.text
        assert admin.email not in text and "created_by" not in text and "email" not in text
        assert all(r["provenance"]["error_message"] is None for r in page.json()["page"]["analysis"]["reports"])


async def test_unknown_links_are_404_and_expired_ones_410(api, api_warehouse, clock):
    admin = await account(api, api_warehouse, admin=True)
    for unknown in (str(uuid.uuid4()), "not-a-uuid", "0" * 64):
        answer = await api.get(f"/api/public/previews/{unknown}")
        assert answer.status_code == 404, (unknown, answer.text)
    link = await make_link(api, admin.token, CODE, expires_at=clock.now + timedelta(hours=1))
    assert (await api.get(link["url"])).status_code == 200
    clock.now += timedelta(hours=2)
    expired = await api.get(link["url"])
    assert expired.status_code == 410 and "expired on" in expired.json()["detail"]
    listed = await api.get("/api/admin/previews", params={"stock": CODE}, headers=bearer(admin.token))
    assert listed.status_code == 200
    statuses = {item["id"]: item["status"] for item in listed.json()["items"]}
    assert statuses[link["id"]] == "expired"
    assert (await api.delete(f"/api/admin/previews/{uuid.uuid4()}", headers=bearer(admin.token))).status_code == 404


async def test_only_admins_manage_links_and_bad_links_are_refused(api, api_warehouse, clock):
    admin, user = await account(api, api_warehouse, admin=True), await account(api, api_warehouse)
    body = {"stock_code": CODE}
    assert (await api.post("/api/admin/previews", json=body)).status_code == 401
    assert (await api.post("/api/admin/previews", json=body, headers=bearer(user.token))).status_code == 403
    assert (await api.get("/api/admin/previews", headers=bearer(user.token))).status_code == 403
    link = await make_link(api, admin.token, CODE)
    assert (await api.delete(f"/api/admin/previews/{link['id']}", headers=bearer(user.token))).status_code == 403
    past = {"stock_code": CODE, "expires_at": (clock.now - timedelta(minutes=1)).isoformat()}
    assert (await api.post("/api/admin/previews", json=past, headers=bearer(admin.token))).status_code == 400
    unlisted = await api.post("/api/admin/previews", json={"stock_code": "999999"}, headers=bearer(admin.token))
    assert unlisted.status_code == 404 and "999999" in unlisted.json()["detail"]
    naive = {"stock_code": CODE, "expires_at": "2030-01-01T00:00:00"}
    assert (await api.post("/api/admin/previews", json=naive, headers=bearer(admin.token))).status_code == 400


async def test_a_flood_of_preview_reads_from_one_address_gets_429(app_settings, api_warehouse, clock):
    # the login limiter's sliding minute, per client address and for any link: unknown links count too
    settings = replace(app_settings, preview_reads_per_address_per_minute=4)
    async with AsyncTestClient(app=create_app(settings, clock)) as api:
        admin = await account(api, api_warehouse, admin=True)
        link = await make_link(api, admin.token, CODE)
        normal = [await api.get(link["url"]) for _ in range(3)]
        assert [r.status_code for r in normal] == [200, 200, 200]
        assert (await api.get(f"/api/public/previews/{uuid.uuid4()}")).status_code == 404
        flood = [await api.get(link["url"]) for _ in range(5)]
        assert {r.status_code for r in flood} == {429}
        assert 1 <= int(flood[0].headers["retry-after"]) <= 60 and flood[0].headers["cache-control"] == "no-store"
        assert "too many preview reads" in flood[0].json()["detail"]
        # the managing routes are not throttled by it
        assert (await api.get("/api/admin/previews", headers=bearer(admin.token))).status_code == 200


async def test_the_preview_limit_is_shared_through_redis(app_settings, api_warehouse, clock, redis_url):
    settings = replace(app_settings, preview_reads_per_address_per_minute=3, redis_url=redis_url)
    async with AsyncTestClient(app=create_app(settings, clock)) as first, \
            AsyncTestClient(app=create_app(settings, clock)) as second:
        admin = await account(first, api_warehouse, admin=True)
        link = await make_link(first, admin.token, OTHER)
        await _forget_preview_reads(redis_url)
        reads = [await first.get(link["url"]), await second.get(link["url"]), await first.get(link["url"])]
        assert [r.status_code for r in reads] == [200, 200, 200]
        assert (await second.get(link["url"])).status_code == 429  # the other instance counted too
        await _forget_preview_reads(redis_url)


async def _forget_preview_reads(redis_url: str) -> None:
    """Empty the test client's window, so another test in the same minute starts from nothing."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter("azak:login:preview:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
