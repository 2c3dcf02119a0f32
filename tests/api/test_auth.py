"""Login, cookie and Bearer tokens, logout (revocation), roles, rate limiting, secrets."""

import asyncio
import secrets
from dataclasses import replace

import jwt
import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_api.settings import Settings, SettingsError
from tests.api.conftest import PASSWORD, SECRET, account, bearer, login, make_user, settings_for, sql


async def test_login_sets_an_httponly_lax_cookie_and_returns_the_token(client, api_warehouse):
    _, email = await make_user(api_warehouse)
    response = await client.post("/api/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400
    assert body["user"]["email"] == email and body["user"]["role"] == "user"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"azak_session={body['access_token']}")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=86400" in cookie
    assert "Secure" not in cookie  # configurable: AZAK_COOKIE_SECURE (on by default in production)
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(body["user"]["id"]) and claims["jti"] and claims["exp"] - claims["iat"] == 86400


async def test_the_cookie_and_the_bearer_header_both_authenticate(client, user):
    assert (await client.get("/api/users/me", headers=bearer(user.token))).json()["email"] == user.email
    client.cookies.set("azak_session", user.token)
    try:
        assert (await client.get("/api/users/me")).json()["email"] == user.email
    finally:
        client.cookies.clear()


async def test_logout_revokes_the_token(client, user):
    assert (await client.post("/api/auth/logout", headers=bearer(user.token))).status_code == 200
    after = await client.get("/api/users/me", headers=bearer(user.token))
    assert after.status_code == 401
    fresh = await login(client, user.email)
    assert (await client.get("/api/users/me", headers=bearer(fresh))).status_code == 200


async def test_revocation_reaches_other_instances(app_settings, user, api_warehouse):
    async with AsyncTestClient(app=create_app(app_settings)) as first, \
            AsyncTestClient(app=create_app(app_settings)) as second:
        assert (await second.get("/api/users/me", headers=bearer(user.token))).status_code == 200
        await first.post("/api/auth/logout", headers=bearer(user.token))
        await asyncio.sleep(app_settings.auth_cache_seconds + 0.2)
        assert (await second.get("/api/users/me", headers=bearer(user.token))).status_code == 401


@pytest.mark.parametrize(("email", "password"), [
    ("nobody@test.azak", PASSWORD), (None, "wrong-password-here")])
async def test_wrong_credentials_are_401_without_saying_which(client, user, email, password):
    response = await client.post("/api/auth/login", json={"email": email or user.email, "password": password})
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong e-mail or password, or the account is disabled"


async def test_a_deactivated_user_is_locked_out_at_once(client, user, admin):
    assert (await client.delete(f"/api/users/{user.id}", headers=bearer(admin.token))).status_code == 200
    assert (await client.get("/api/users/me", headers=bearer(user.token))).status_code == 401
    again = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 401


async def test_roles_are_read_from_the_database_not_the_token(client, user, admin, api_warehouse):
    assert (await client.get("/api/users", headers=bearer(user.token))).status_code == 403
    promoted = await client.patch(f"/api/users/{user.id}", json={"role": "admin"}, headers=bearer(admin.token))
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert (await client.get("/api/users", headers=bearer(user.token))).status_code == 200
    me = await client.patch(f"/api/users/{admin.id}", json={"role": "user"}, headers=bearer(admin.token))
    assert me.status_code == 409  # admins cannot demote themselves


async def test_login_is_rate_limited_with_retry_after(client, user):
    statuses = []
    for _ in range(12):
        response = await client.post("/api/auth/login", json={"email": user.email, "password": "wrong-wrong"})
        statuses.append(response.status_code)
    # the fixture's successful login was the first attempt of this address and e-mail
    assert statuses[:9] == [401] * 9 and statuses[9:] == [429, 429, 429]
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert response.json()["detail"] == "too many login attempts; try again later"


async def test_the_login_limit_is_shared_through_redis(api_warehouse, redis_url):
    import redis as redis_sync

    redis_sync.Redis.from_url(redis_url).flushdb()
    _, email = await make_user(api_warehouse)
    settings = settings_for(api_warehouse, redis_url=redis_url, login_attempts_per_minute=3)
    async with AsyncTestClient(app=create_app(settings)) as first, \
            AsyncTestClient(app=create_app(settings)) as second:
        for client in (first, second, first):
            assert (await client.post("/api/auth/login", json={"email": email, "password": "x"})).status_code == 401
        blocked = await second.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert blocked.status_code == 429


def test_production_refuses_to_start_without_a_strong_secret(monkeypatch, api_warehouse):
    monkeypatch.setenv("AZAK_DATABASE_URL", api_warehouse)
    monkeypatch.setenv("AZAK_ENV", "production")
    monkeypatch.delenv("AZAK_JWT_SECRET", raising=False)
    with pytest.raises(SettingsError, match="AZAK_JWT_SECRET is not set"):
        Settings.from_env()
    monkeypatch.setenv("AZAK_JWT_SECRET", "short")
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_env()
    monkeypatch.setenv("AZAK_JWT_SECRET", secrets.token_urlsafe(48))
    assert Settings.from_env().cookie_secure is True


async def test_passwords_are_stored_as_argon2_hashes(api_warehouse):
    _, email = await make_user(api_warehouse)
    [(stored,)] = sql(api_warehouse, "SELECT password_hash FROM app.users WHERE email = %s", (email,))
    assert stored.startswith("$argon2") and PASSWORD not in stored


async def test_a_flood_of_distinct_tokens_keeps_the_auth_caches_at_their_bound(app_settings, user, api_warehouse):
    """Every token's revocation state was cached per process, and never forgotten (and every
    verified token is remembered until its expiry: bounded alike)."""
    app = create_app(replace(app_settings, auth_cache_entries=50))
    [(version,)] = sql(api_warehouse, "SELECT token_version FROM app.users WHERE id = %s", (user.id,))
    async with AsyncTestClient(app=app) as client:
        for _ in range(300):  # valid tokens (the app's own signer), each with a jti of its own
            token = app.state.tokens.issue(user.id, "user", version)
            assert (await client.get("/api/users/me", headers=bearer(token))).status_code == 200
        assert len(app.state.auth.revocations) == 50 and len(app.state.auth.users) == 1
        assert len(app.state.auth.verified) == 50


async def test_a_remembered_token_is_refused_once_it_expires(app_settings, user, api_warehouse):
    """A token whose signature was checked once is remembered only until its own ``exp``."""
    lifetime = 3  # seconds: the token is used once well inside it, then again after it
    app = create_app(replace(app_settings, token_ttl_seconds=lifetime))
    [(version,)] = sql(api_warehouse, "SELECT token_version FROM app.users WHERE id = %s", (user.id,))
    async with AsyncTestClient(app=app) as client:
        token = app.state.tokens.issue(user.id, "user", version)
        assert (await client.get("/api/users/me", headers=bearer(token))).status_code == 200
        assert len(app.state.auth.verified) == 1
        await asyncio.sleep(lifetime + 1)  # exp is whole seconds: one more is past it whatever the rounding
        refused = await client.get("/api/users/me", headers=bearer(token))
        assert refused.status_code == 401, refused.text


async def test_revoked_and_outdated_tokens_are_refused_within_the_auth_cache_seconds(app_settings, api_warehouse):
    """A logout, a new password (the token version moves on) and a deactivation, made on one
    instance: that one refuses the token at once, the other once its cache entry is older than
    ``AZAK_AUTH_CACHE_SECONDS`` — with caches small enough that other callers evict entries."""
    settings = replace(app_settings, auth_cache_seconds=0.5, auth_cache_entries=2)
    async with AsyncTestClient(app=create_app(settings)) as first, \
            AsyncTestClient(app=create_app(settings)) as second:
        admin = await account(first, api_warehouse, admin=True)
        logged_out, new_password, deactivated = [await account(first, api_warehouse) for _ in range(3)]
        for person in (logged_out, new_password, deactivated):
            assert (await second.get("/api/users/me", headers=bearer(person.token))).status_code == 200
        assert (await first.post("/api/auth/logout", headers=bearer(logged_out.token))).status_code == 200
        changed = await first.patch(f"/api/users/{new_password.id}", json={"password": "another-horse-battery"},
                                    headers=bearer(admin.token))
        assert changed.status_code == 200
        assert (await first.delete(f"/api/users/{deactivated.id}", headers=bearer(admin.token))).status_code == 200
        for person in (logged_out, new_password, deactivated):
            assert (await first.get("/api/users/me", headers=bearer(person.token))).status_code == 401
        await asyncio.sleep(settings.auth_cache_seconds + 0.1)
        for person in (logged_out, new_password, deactivated):
            assert (await second.get("/api/users/me", headers=bearer(person.token))).status_code == 401
