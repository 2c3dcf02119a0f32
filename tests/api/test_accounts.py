"""Accounts that end, per-user on-demand quotas, and the optional-auth check, through the real app:
an expired user is refused at login and on every request (saying so), on other instances within
``AZAK_AUTH_CACHE_SECONDS``; ``azak users create --expires`` makes such an account; each user's
own quota and permission govern their refreshes; ``GET /api/auth/check`` never answers 401."""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_api.settings import Settings
from tests.api.conftest import PASSWORD, Clock, account, bearer, login, make_user
from tests.api.dagit_standin import DagitStandIn, dagit_standin
from tests.conftest import run_azak

REFRESH = "/api/stocks/005930/analysis/refresh"


@pytest.fixture
def dagit() -> Iterator[DagitStandIn]:
    with dagit_standin() as standin:
        yield standin


@pytest.fixture
async def api(app_settings: Settings, clock: Clock, dagit: DagitStandIn) -> AsyncIterator[AsyncTestClient]:
    settings = replace(app_settings, dagster_url=dagit.base_url, analysis_refreshes_per_day=3)
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        yield client


async def test_an_expired_user_is_refused_at_login_and_on_every_request(api, api_warehouse, clock):
    user, admin = await account(api, api_warehouse), await account(api, api_warehouse, admin=True)
    ends = clock.now + timedelta(hours=1)
    set_end = await api.patch(f"/api/users/{user.id}", json={"expires_at": ends.isoformat()},
                              headers=bearer(admin.token))
    assert set_end.status_code == 200 and set_end.json()["expires_at"] is not None
    assert (await api.get("/api/users/me", headers=bearer(user.token))).status_code == 200

    clock.now = ends + timedelta(seconds=1)  # the date passes: no change needed to lock them out
    refused = await api.get("/api/users/me", headers=bearer(user.token))
    assert refused.status_code == 401 and "the account expired on" in refused.json()["detail"]
    assert (await api.get("/api/stocks", headers=bearer(user.token))).status_code == 401
    again = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 401 and "expired" in again.json()["detail"]
    # the expiry is said only to the right password: a guess learns nothing about the account
    guess = await api.post("/api/auth/login", json={"email": user.email, "password": "wrong-password-0"})
    assert guess.status_code == 401 and "expired" not in guess.json()["detail"]

    cleared = await api.patch(f"/api/users/{user.id}", json={"expires_at": None}, headers=bearer(admin.token))
    assert cleared.status_code == 200 and cleared.json()["expires_at"] is None
    assert (await api.get("/api/users/me", headers=bearer(user.token))).status_code == 200


async def test_an_expiry_reaches_other_instances_within_the_auth_cache_seconds(app_settings, api_warehouse):
    settings = replace(app_settings, auth_cache_seconds=0.5)
    async with AsyncTestClient(app=create_app(settings)) as first, \
            AsyncTestClient(app=create_app(settings)) as second:
        admin, user = await account(first, api_warehouse, admin=True), await account(first, api_warehouse)
        assert (await second.get("/api/users/me", headers=bearer(user.token))).status_code == 200
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        assert (await first.patch(f"/api/users/{user.id}", json={"expires_at": past},
                                  headers=bearer(admin.token))).status_code == 200
        assert (await first.get("/api/users/me", headers=bearer(user.token))).status_code == 401  # at once
        await asyncio.sleep(settings.auth_cache_seconds + 0.1)
        late = await second.get("/api/users/me", headers=bearer(user.token))
        assert late.status_code == 401 and "expired" in late.json()["detail"]


async def test_expiry_changes_are_validated(api, api_warehouse, clock):
    user, admin = await account(api, api_warehouse), await account(api, api_warehouse, admin=True)
    naive = await api.patch(f"/api/users/{user.id}", json={"expires_at": "2030-01-01T00:00:00"},
                            headers=bearer(admin.token))
    assert naive.status_code == 400, naive.text
    negative = await api.patch(f"/api/users/{user.id}", json={"refreshes_per_day": -1}, headers=bearer(admin.token))
    assert negative.status_code == 400
    past = (clock.now - timedelta(days=1)).isoformat()
    self_expiry = await api.patch(f"/api/users/{admin.id}", json={"expires_at": past}, headers=bearer(admin.token))
    assert self_expiry.status_code == 409 and "expire themselves" in self_expiry.json()["detail"]
    by_user = await api.patch(f"/api/users/{user.id}", json={"expires_at": None}, headers=bearer(user.token))
    assert by_user.status_code == 403
    created = await api.post("/api/users", json={"email": f"ends-{user.id}@test.azak", "password": PASSWORD,
                                                 "expires_at": past}, headers=bearer(admin.token))
    assert created.status_code == 201 and created.json()["expires_at"] is not None
    login_after = await api.post("/api/auth/login", json={"email": f"ends-{user.id}@test.azak",
                                                          "password": PASSWORD})
    assert login_after.status_code == 401 and "expired" in login_after.json()["detail"]


def test_users_create_with_expires_makes_an_account_that_is_refused(api_warehouse, app_settings, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
    env.update({"AZAK_DATABASE_URL": api_warehouse, "AZAK_HOME": str(tmp_path / "home")})
    email = f"cli-ends-{os.getpid()}@test.azak"
    bad = run_azak("users", "create", "--email", email, "--password", PASSWORD, "--expires", "2030-01-01T00:00",
                   env=env)
    assert bad.returncode == 2 and "no UTC offset" in bad.stderr
    made = run_azak("users", "create", "--email", email, "--password", PASSWORD, "--expires", "2020-01-31", env=env)
    assert made.returncode == 0, made.stderr
    assert "expires 2020-02-01T00:00:00+09:00" in made.stdout  # through the KST day given

    async def try_login() -> tuple[int, str]:
        async with AsyncTestClient(app=create_app(app_settings)) as client:
            answer = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            return answer.status_code, answer.json()["detail"]

    status, detail = asyncio.run(try_login())
    assert status == 401 and "expired on 2020-01-31T15:00:00+00:00" in detail


async def test_each_users_own_quota_and_permission_govern_their_refreshes(api, api_warehouse, dagit):
    admin = await account(api, api_warehouse, admin=True)
    one, off, five = [await account(api, api_warehouse) for _ in range(3)]
    for person, change in ((one, {"refreshes_per_day": 1}), (off, {"refresh_enabled": False}),
                           (five, {"refreshes_per_day": 5})):
        answer = await api.patch(f"/api/users/{person.id}", json=change, headers=bearer(admin.token))
        assert answer.status_code == 200 and all(answer.json()[k] == v for k, v in change.items())
    assert (await api.post(REFRESH, headers=bearer(one.token))).json()["refreshes_left_today"] == 0
    over = await api.post(REFRESH, headers=bearer(one.token))
    assert over.status_code == 429 and "daily limit of 1" in over.json()["detail"]
    refused = await api.post(REFRESH, headers=bearer(off.token))
    assert refused.status_code == 403 and "turned off for your account" in refused.json()["detail"]
    lefts = [(await api.post(REFRESH, headers=bearer(five.token))).json()["refreshes_left_today"] for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]  # above the default of 3
    # back to the default: null clears the user's own figure
    reset = await api.patch(f"/api/users/{five.id}", json={"refreshes_per_day": None}, headers=bearer(admin.token))
    assert reset.json()["refreshes_per_day"] is None
    assert (await api.post(REFRESH, headers=bearer(five.token))).status_code == 429
    assert len(dagit.launches) == 1 + 5


async def test_auth_check_answers_with_or_without_a_token(api, api_warehouse, clock):
    nobody = await api.get("/api/auth/check")
    assert nobody.status_code == 200 and nobody.json() == {"authenticated": False, "user": None}
    user = await account(api, api_warehouse)
    known = await api.get("/api/auth/check", headers=bearer(user.token))
    assert known.json()["authenticated"] is True and known.json()["user"]["email"] == user.email
    api.cookies.set("azak_session", user.token)
    assert (await api.get("/api/auth/check")).json()["user"]["id"] == user.id
    api.cookies.clear()
    tampered = await api.get("/api/auth/check", headers=bearer(user.token[:-3] + "abc"))
    assert tampered.status_code == 200 and tampered.json()["authenticated"] is False
    assert (await api.get("/api/auth/check", headers={"Authorization": "Bearer nonsense"})).json()["user"] is None

    admin = await account(api, api_warehouse, admin=True)
    past = (clock.now - timedelta(minutes=1)).isoformat()
    await api.patch(f"/api/users/{user.id}", json={"expires_at": past}, headers=bearer(admin.token))
    assert (await api.get("/api/auth/check", headers=bearer(user.token))).json()["authenticated"] is False
    assert (await api.post("/api/auth/logout", headers=bearer(admin.token))).status_code == 200
    assert (await api.get("/api/auth/check", headers=bearer(admin.token))).json() == {
        "authenticated": False, "user": None}


async def test_a_new_account_has_no_end_and_the_default_quota(api, api_warehouse):
    user_id, email = await make_user(api_warehouse)
    token = await login(api, email)
    body = (await api.get("/api/users/me", headers=bearer(token))).json()
    assert body["expires_at"] is None and body["refresh_enabled"] is True and body["refreshes_per_day"] is None
    assert body["id"] == user_id
