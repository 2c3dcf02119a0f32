"""Response caching: per-caller isolation, expiry, invalidation by admin changes; memory and Redis."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from azak_api.app import create_app
from azak_api.settings import DEFAULT_CACHE_TTLS
from tests.api.conftest import PASSWORD, Account, account, bearer, login, serving, settings_for, sql

STOCK = "105560"  # a watch-list stock no other API test changes
LASTING = {name: 600 for name in DEFAULT_CACHE_TTLS}  # only a write makes an answer fresh


@asynccontextmanager
async def cached_app(request, store: str, api_warehouse: str, ttls: dict[str, int], over_http: bool = False
                     ) -> AsyncIterator[tuple[AsyncTestClient | httpx.AsyncClient, Redis | None, str | None]]:
    """The app on the ``memory`` or the ``redis`` store (``over_http``: served by a real uvicorn,
    as the attacks are tried). On Redis it connects as a user of its own that may not SCAN or
    KEYS: a command it tried would fail the request and show in Redis's ACL log; yields the
    client, the test's own Redis connection and that user."""
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    redis = Redis.from_url(redis_url) if redis_url else None  # the test's own connection, to look inside
    app_user = f"azak-test-{uuid.uuid4().hex[:12]}" if redis_url else None
    if redis is not None and redis_url is not None:
        await redis.execute_command("ACL", "SETUSER", app_user, "on", "nopass", "~*", "&*", "+@all", "-scan", "-keys")
        parts = urlsplit(redis_url)
        redis_url = urlunsplit(parts._replace(netloc=f"{app_user}:unused@{parts.hostname}:{parts.port or 6379}"))
    settings = settings_for(api_warehouse, redis_url=redis_url, cache_ttls=ttls)
    app = create_app(settings)
    try:
        await forget_cached(redis)
        if over_http:
            with serving(settings, app) as base_url:
                async with httpx.AsyncClient(base_url=base_url, timeout=60) as served:
                    yield served, redis, app_user
        else:
            async with AsyncTestClient(app=app) as client:
                yield client, redis, app_user
    finally:
        await forget_cached(redis)
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code = %s", (STOCK,))
        if redis is not None:
            await redis.execute_command("ACL", "DELUSER", app_user)
            await redis.aclose()


@pytest.fixture(params=["memory", "redis"])
async def cached(request, api_warehouse) -> AsyncIterator[tuple[AsyncTestClient, Redis | None]]:
    """An app whose shared routes keep answers for 2 s; a long cache for /api/users/me."""
    async with cached_app(request, request.param, api_warehouse, dict(DEFAULT_CACHE_TTLS, stock=2, me=600)) as found:
        client, redis, _ = found
        yield client, redis


@pytest.fixture(params=["memory", "redis"])
async def lasting(request, api_warehouse) -> AsyncIterator[tuple[AsyncTestClient, Redis | None, str | None]]:
    """An app whose cached routes keep their answers for ten minutes: only a write makes them fresh."""
    async with cached_app(request, request.param, api_warehouse, LASTING, over_http=True) as found:
        yield found


@pytest.fixture
async def lasting_on_redis(request, api_warehouse) -> AsyncIterator[tuple[AsyncTestClient, Redis | None, str | None]]:
    async with cached_app(request, "redis", api_warehouse, LASTING, over_http=True) as found:
        yield found


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


class Outcomes:
    """Evaluations of a model of this test's own, written straight into ``marts.prediction_outcomes``
    (what the nightly evaluation writes) and gone afterwards."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.model = f"cache-test-{uuid.uuid4().hex[:12]}"

    def evaluation(self, n: int) -> str:
        return f"report:{self.model}-{n}"

    def add(self, n: int) -> None:
        sql(self.database_url, "INSERT INTO marts.prediction_outcomes (evaluation_id, source_kind, item_id, "
            "model_name, mode, stock_code, made_at, horizon_sessions, direction, sessions_observed, "
            "missing_sessions, status, ambiguous_session) VALUES (%s, 'stock_report', %s, %s, 'simulated', %s, "
            "now(), 5, 'up', 0, 0, 'pending', false) RETURNING evaluation_id",
            (self.evaluation(n), f"{self.model}-{n}", self.model, STOCK))

    def count(self) -> int:
        [(n,)] = sql(self.database_url, "SELECT count(*) FROM marts.prediction_outcomes WHERE model_name = %s",
                     (self.model,))
        return int(n)

    def remove(self) -> None:
        sql(self.database_url, "DELETE FROM app.evaluation_ratings WHERE evaluation_id LIKE %s RETURNING id",
            (f"report:{self.model}-%",))
        sql(self.database_url, "DELETE FROM marts.prediction_outcomes WHERE model_name = %s RETURNING 1",
            (self.model,))


def change_behind_the_apis_back(outcomes: Outcomes, user: Account, round_: int) -> None:
    """New values under three cached routes, in SQL: the stock's name, the user's display name and
    one more evaluation of the test's model."""
    rename_behind_the_apis_back(outcomes.database_url, f"name {round_}")
    sql(outcomes.database_url, "UPDATE app.users SET display_name = %s WHERE id = %s RETURNING id",
        (f"display {round_}", user.id))
    outcomes.add(round_)


async def observe(client: AsyncTestClient, token: str, outcomes: Outcomes) -> dict[str, object]:
    """What three cached routes answer: a stock (namespace "stock"), the caller ("me") and the
    number of the test model's evaluations ("evaluations")."""
    stock = await client.get(f"/api/stocks/{STOCK}", headers=bearer(token))
    me = await client.get("/api/users/me", headers=bearer(token))
    listed = await client.get("/api/evaluations", params={"model": outcomes.model}, headers=bearer(token))
    return {"stock": stock.json()["name"], "me": me.json()["display_name"], "evaluations": listed.json()["total"]}


def truth(outcomes: Outcomes, round_: int) -> dict[str, object]:
    return {"stock": f"name {round_}", "me": f"display {round_}", "evaluations": outcomes.count()}


@asynccontextmanager
async def three_people(client: AsyncTestClient, api_warehouse: str
                       ) -> AsyncIterator[tuple[Account, Account, Account, Outcomes]]:
    """A user who reads, another who logs in and rates, an admin who writes, and one evaluation to
    rate; what they wrote goes afterwards."""
    outcomes = Outcomes(api_warehouse)
    outcomes.add(0)
    try:
        yield (await account(client, api_warehouse), await account(client, api_warehouse),
               await account(client, api_warehouse, admin=True), outcomes)
    finally:
        outcomes.remove()


@pytest.fixture
async def people(lasting, api_warehouse) -> AsyncIterator[tuple[Account, Account, Account, Outcomes]]:
    async with three_people(lasting[0], api_warehouse) as found:
        yield found


@pytest.fixture
async def people_on_redis(lasting_on_redis, api_warehouse
                          ) -> AsyncIterator[tuple[Account, Account, Account, Outcomes]]:
    async with three_people(lasting_on_redis[0], api_warehouse) as found:
        yield found


async def rate(client: AsyncTestClient, rater: Account, evaluation_id: str) -> None:
    answer = await client.post(f"/api/evaluations/{evaluation_id}/rating",
                               json={"quality": 4, "usefulness": 4, "overall": 4}, headers=bearer(rater.token))
    assert answer.status_code == 200, answer.text


async def test_a_cached_answer_survives_another_users_login_and_a_rating(lasting, people):
    """Any login and any rating once emptied every cache (on Redis by a SCAN of the whole database)."""
    client = lasting[0]
    user, other, admin, outcomes = people
    before = await observe(client, user.token, outcomes)
    change_behind_the_apis_back(outcomes, user, 1)
    await login(client, other.email)
    await rate(client, other, outcomes.evaluation(0))
    after = await observe(client, user.token, outcomes)
    assert (after["stock"], after["me"]) == (before["stock"], before["me"])  # served from the cache
    assert after["evaluations"] == outcomes.count() == before["evaluations"] + 1  # the rating's namespace: fresh
    changed = await client.put(f"/api/admin/stocks/{STOCK}", json={}, headers=bearer(admin.token))
    assert changed.status_code == 200, changed.text
    assert (await observe(client, user.token, outcomes))["stock"] == "name 1"  # a write to its namespace: fresh


async def test_a_write_refreshes_exactly_the_routes_it_changes(lasting, people):
    client = lasting[0]
    user, other, admin, outcomes = people
    writes = [  # what each write does, and the namespaces it must refresh (of the three observed)
        ("a rating", lambda: client.post(f"/api/evaluations/{outcomes.evaluation(0)}/rating",
                                         json={"quality": 2, "usefulness": 2, "overall": 2},
                                         headers=bearer(other.token)), {"evaluations"}),
        ("a watch-list change", lambda: client.put(f"/api/admin/stocks/{STOCK}", json={},
                                                   headers=bearer(admin.token)), {"stock"}),
        ("a change of another user", lambda: client.patch(f"/api/users/{other.id}", json={"display_name": "o"},
                                                          headers=bearer(admin.token)), {"me"}),
        ("a login", lambda: client.post("/api/auth/login", json={"email": other.email, "password": PASSWORD}),
         set()),
    ]
    expected = await observe(client, user.token, outcomes)
    for n, (write, action, refreshed) in enumerate(writes, start=1):
        change_behind_the_apis_back(outcomes, user, n)
        answer = await action()
        assert answer.status_code == 200, (write, answer.text)
        client.cookies.clear()
        fresh = truth(outcomes, n)
        expected = {route: fresh[route] if route in refreshed else value for route, value in expected.items()}
        assert await observe(client, user.token, outcomes) == expected, write


async def test_no_write_scans_redis(lasting_on_redis, people_on_redis):
    """The app's Redis user may not SCAN or KEYS; Redis logs every command it was refused."""
    client, redis, app_user = lasting_on_redis
    assert redis is not None
    user, other, admin, outcomes = people_on_redis
    await observe(client, user.token, outcomes)
    await login(client, other.email)
    await rate(client, other, outcomes.evaluation(0))
    admin_says = bearer(admin.token)
    for answer in (await client.put(f"/api/admin/stocks/{STOCK}", json={}, headers=admin_says),
                   await client.patch(f"/api/users/{other.id}", json={"display_name": "o"}, headers=admin_says),
                   await client.post("/api/auth/logout", headers=bearer(other.token))):
        assert answer.status_code == 200, answer.text
    refused = [entry for entry in await redis.execute_command("ACL", "LOG", 128)
               if app_user in str(entry)]
    assert refused == []


def test_a_write_route_that_does_not_say_what_it_changes_stops_the_app():
    from litestar import Litestar, post
    from litestar.exceptions import ImproperlyConfiguredException

    from azak_api.cache import INVALIDATES, declare_cache_keys

    @post("/forgetful", sync_to_thread=False)
    def forgetful() -> None: ...

    @post("/careful", opt={INVALIDATES: ("nothing-cached-is-named-so",)}, sync_to_thread=False)
    def careful() -> None: ...

    for handler in (forgetful, careful):
        with pytest.raises(ImproperlyConfiguredException, match="invalidates"):
            declare_cache_keys(Litestar(route_handlers=[handler]))
