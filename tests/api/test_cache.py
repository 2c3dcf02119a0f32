"""Response caching: per-caller isolation, expiry, invalidation by admin changes; memory and Redis."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from azak_api.app import create_app
from azak_api.settings import DEFAULT_CACHE_TTLS
from tests.api.conftest import account, bearer, settings_for, sql

STOCK = "105560"  # a watch-list stock no other API test changes


@pytest.fixture(params=["memory", "redis"])
async def cached(request, api_warehouse) -> AsyncIterator[tuple[AsyncTestClient, Redis | None]]:
    """An app whose shared routes keep answers for 2 s; a long cache for /api/users/me."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    redis = Redis.from_url(redis_url) if redis_url else None  # the test's own connection, to look inside
    ttls = dict(DEFAULT_CACHE_TTLS, stock=2, me=600)
    app = create_app(settings_for(api_warehouse, redis_url=redis_url, cache_ttls=ttls))
    try:
        await forget_cached(redis)
        async with AsyncTestClient(app=app) as client:
            yield client, redis
    finally:
        await forget_cached(redis)
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code = %s", (STOCK,))
        if redis is not None:
            await redis.aclose()


async def forget_cached(redis: Redis | None) -> None:
    if redis is not None:
        async for key in redis.scan_iter("azak:response-cache*"):
            await redis.delete(key)


def rename_behind_the_apis_back(database_url: str, name: str) -> None:
    sql(database_url, "INSERT INTO app.stock_watchlist (code, name, active) VALUES (%s, %s, true) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING code", (STOCK, name))


async def test_a_callers_own_answer_is_never_served_to_another(cached, api_warehouse):
    client, _ = cached
    first, second = await account(client, api_warehouse), await account(client, api_warehouse)
    for _ in range(2):  # the second round is served from the cache
        mine = await client.get("/api/users/me", headers=bearer(first.token))
        theirs = await client.get("/api/users/me", headers=bearer(second.token))
        assert mine.json()["email"] == first.email
        assert theirs.json()["email"] == second.email
    client.cookies.set("azak_session", second.token)  # the cookie identifies the caller just the same
    try:
        assert (await client.get("/api/users/me")).json()["email"] == second.email
    finally:
        client.cookies.clear()


async def test_the_cache_is_used_before_the_key_expires_and_not_after(cached, api_warehouse):
    client, redis = cached
    user = await account(client, api_warehouse)
    original = (await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))).json()["name"]
    rename_behind_the_apis_back(api_warehouse, "renamed behind the API's back")
    assert (await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))).json()["name"] == original
    if redis is not None:
        keys = [key async for key in redis.scan_iter("azak:response-cache*")]
        assert any(STOCK.encode() in key for key in keys), keys
        ttls = [await redis.ttl(key) for key in keys if STOCK.encode() in key]
        assert ttls and all(0 < ttl <= 2 for ttl in ttls), ttls
    await asyncio.sleep(2.2)
    fresh = await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))
    assert fresh.json()["name"] == "renamed behind the API's back"


async def test_a_shared_cached_answer_still_requires_a_valid_token(cached, api_warehouse):
    client, _ = cached
    user = await account(client, api_warehouse)
    assert (await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))).status_code == 200
    assert (await client.get(f"/api/stocks/{STOCK}")).status_code == 401
    await client.post("/api/auth/logout", headers=bearer(user.token))
    assert (await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))).status_code == 401


async def test_an_admin_change_is_visible_at_once(cached, api_warehouse):
    client, _ = cached
    user, admin = await account(client, api_warehouse), await account(client, api_warehouse, admin=True)
    assert (await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))).json()["is_watchlist"]
    listed = await client.get("/api/stocks", params={"watchlist": "true"}, headers=bearer(user.token))
    assert STOCK in {s["code"] for s in listed.json()["items"]}
    removed = await client.delete(f"/api/admin/stocks/{STOCK}", headers=bearer(admin.token))
    assert removed.status_code == 200 and removed.json()["is_watchlist"] is False
    assert not (await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))).json()["is_watchlist"]
    listed = await client.get("/api/stocks", params={"watchlist": "true"}, headers=bearer(user.token))
    assert STOCK not in {s["code"] for s in listed.json()["items"]}


async def test_a_zero_ttl_turns_a_routes_cache_off(api_warehouse):
    app = create_app(settings_for(api_warehouse, cache_ttls=dict(DEFAULT_CACHE_TTLS, stock=0)))
    try:
        async with AsyncTestClient(app=app) as client:
            user = await account(client, api_warehouse)
            await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))
            rename_behind_the_apis_back(api_warehouse, "seen at once")
            detail = await client.get(f"/api/stocks/{STOCK}", headers=bearer(user.token))
            assert detail.json()["name"] == "seen at once"
    finally:
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code = %s", (STOCK,))
