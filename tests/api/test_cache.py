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
    if redis is not None:  # the detail is the only "stock" entry (keys are hashes after the route's name)
        keys = [key async for key in redis.scan_iter("azak:response-cache*stock:*")]
        assert len(keys) == 1, keys
        ttls = [await redis.ttl(key) for key in keys]
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


async def cached_keys(client: AsyncTestClient, redis: Redis | None, route: str) -> int:
    """How many answers of one route the cache holds."""
    if redis is not None:
        return len([key async for key in redis.scan_iter(f"azak:response-cache*{route}:*")])
    store = client.app.stores.get("response_cache").inner
    return sum(key.startswith(f"{route}:") for key in store._entries)


async def test_an_encoded_separator_cannot_plant_an_answer_for_another_query(cached, api_warehouse):
    """``q=실적%26sort%3Dpublished_at`` (one odd search) and ``q=실적&sort=published_at`` (a search,
    sorted) once shared a key: whoever asked first chose what everyone else was served."""
    client, _ = cached
    user = await account(client, api_warehouse)
    planted = await client.get("/api/news?q=%EC%8B%A4%EC%A0%81%26sort%3Dpublished_at", headers=bearer(user.token))
    assert planted.status_code == 200 and planted.json()["total"] == 0
    victim = await client.get("/api/news?q=%EC%8B%A4%EC%A0%81&sort=published_at", headers=bearer(user.token))
    assert victim.json()["total"] > 0
    oldest_first = [a["published_at"] for a in victim.json()["items"]]
    assert oldest_first == sorted(oldest_first)


async def test_undeclared_query_parameters_do_not_make_new_entries(cached, api_warehouse):
    client, redis = cached
    user = await account(client, api_warehouse)
    for n in range(20):
        answer = await client.get(f"/api/stocks/{STOCK}/prices", params={"zz": f"junk-{n}"}, headers=bearer(user.token))
        assert answer.status_code == 200
    assert await cached_keys(client, redis, "prices") == 1
    other = await client.get(f"/api/stocks/{STOCK}/prices", params={"interval": "minute"}, headers=bearer(user.token))
    assert other.json()["interval"] == "minute"
    assert await cached_keys(client, redis, "prices") == 2


async def test_routes_are_keyed_by_caller_unless_they_say_they_are_shared(client):
    from azak_api.cache import SHARED

    shared = {h.operation_id for r in client.app.routes for h, _ in getattr(r, "route_handler_map", {}).values()
              if h.opt.get("cache_scope") == SHARED}
    assert "getCurrentUser" not in shared  # depends on the caller: keyed by user by default
    assert {"listStocks", "getStockPrices", "listNews", "getDashboardSummary"} <= shared


async def test_the_memory_store_is_bounded_by_bytes_and_evicts_the_least_recently_used():
    from azak_api.cache import BoundedMemoryStore

    store = BoundedMemoryStore(max_bytes=10_000)  # nine answers of ~1 KB fit
    for n in range(10):
        await store.set(f"prices:{n:04d}", b"x" * 1000, 60)
        if n == 5:
            assert await store.get("prices:0000") is not None  # used again: now the most recent of the old
    assert await store.get("prices:0000") is not None and await store.get("prices:0001") is None
    for n in range(10, 100):  # ten times the budget in all
        await store.set(f"prices:{n:04d}", b"x" * 1000, 60)
    assert store.size <= 10_000 and len(store) == 9
    assert await store.get("prices:0099") is not None and await store.get("prices:0050") is None
    assert await store.get("prices:0001") is None
    await store.set("big", b"y" * 20_000, 60)  # larger than the budget: not kept, nothing else evicted
    assert await store.get("big") is None and len(store) == 9


async def test_the_memory_store_forgets_expired_answers():
    from azak_api.cache import BoundedMemoryStore

    store = BoundedMemoryStore(max_bytes=10_000)
    await store.set("stock:a", b"a" * 4000, 1)
    await store.set("stock:b", b"b" * 4000, 60)
    await asyncio.sleep(1.1)
    assert await store.get("stock:a") is None and store.size == len("stock:b") + 4000
    await store.set("stock:c", b"c" * 1000, 1)
    await asyncio.sleep(1.1)
    await store.set("stock:d", b"d" * 5000, 60)  # over budget: the expired entry goes first, not the older live one
    assert await store.get("stock:b") is not None and await store.get("stock:d") is not None
