"""Authentication and authorisation: JWT (HS256) in the ``azak_session`` cookie or a Bearer header.

The token's subject is the user id; the role and the active flag are read from ``app.users`` on
every request (briefly cached in-process), so demoting or deactivating a user takes effect without
waiting for tokens to expire. Logging out revokes the token's ``jti`` (``app.revoked_tokens``): the
instance that revoked it refuses it at once, other instances within ``AZAK_AUTH_CACHE_SECONDS``.
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTCookieAuth, Token
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from azak_api.settings import Settings

COOKIE = "azak_session"
PUBLIC = "public"  # route opt key: no authentication
SCHEME = "BearerToken"
# OpenAPI security requirements, declared on every operation: a token, or none at all
SECURED: list[dict[str, list[str]]] = [{SCHEME: []}]
ANONYMOUS: list[dict[str, list[str]]] = [{}]
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    role: str
    display_name: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class AuthState:
    """Per-app caches of users and revocations, and the login limiter."""

    def __init__(self, engine: AsyncEngine, settings: Settings, redis: Redis | None):
        self.engine = engine
        self.ttl = settings.auth_cache_seconds
        self.attempts = settings.login_attempts_per_minute
        self.redis = redis
        self._users: dict[int, tuple[float, CurrentUser | None]] = {}
        self._revoked: dict[str, tuple[float, bool]] = {}
        self._logins: dict[str, list[float]] = {}

    async def user(self, user_id: int) -> CurrentUser | None:
        cached = self._users.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT id, email, role, display_name, is_active FROM app.users WHERE id = :id"),
                {"id": user_id})).first()
        user = CurrentUser(row.id, row.email, row.role, row.display_name) if row and row.is_active else None
        self._users[user_id] = (time.monotonic() + self.ttl, user)
        return user

    def forget_user(self, user_id: int) -> None:
        self._users.pop(user_id, None)

    async def revoked(self, jti: str | None) -> bool:
        if not jti:
            return True  # every token we issue has one
        cached = self._revoked.get(jti)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self.engine.connect() as conn:
            found = (await conn.execute(text("SELECT 1 FROM app.revoked_tokens WHERE jti = :jti"),
                                        {"jti": jti})).first() is not None
        self._revoked[jti] = (time.monotonic() + (self.ttl if not found else 86400.0), found)
        return found

    async def revoke(self, token: Token, user_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO app.revoked_tokens (jti, user_id, expires_at) "
                "VALUES (:jti, :user_id, to_timestamp(:exp)) ON CONFLICT (jti) DO NOTHING"),
                {"jti": token.jti, "user_id": user_id, "exp": token.exp.timestamp()})
            await conn.execute(text("DELETE FROM app.revoked_tokens WHERE expires_at < now()"))
        if token.jti:
            self._revoked[str(token.jti)] = (time.monotonic() + 86400.0, True)

    async def login_allowed(self, key: str) -> float | None:
        """Count a login attempt; the seconds to wait when over the limit, else None."""
        if self.redis is not None:
            bucket = f"azak:login:{key}:{int(time.time() // 60)}"
            count = await self.redis.incr(bucket)
            if count == 1:
                await self.redis.expire(bucket, 61)
            return 60 - time.time() % 60 if count > self.attempts else None
        now = time.monotonic()
        recent = [t for t in self._logins.get(key, []) if now - t < 60]
        recent.append(now)
        self._logins[key] = recent
        return 60 - (now - recent[0]) if len(recent) > self.attempts else None


async def _retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    try:
        user_id = int(token.sub)
    except ValueError:
        return None
    auth: AuthState = connection.app.state.auth
    return await auth.user(user_id)


async def _is_revoked(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    auth: AuthState = connection.app.state.auth
    return await auth.revoked(str(token.jti) if token.jti else None)


def jwt_auth(settings: Settings) -> JWTCookieAuth[CurrentUser, Token]:
    return JWTCookieAuth[CurrentUser, Token](
        retrieve_user_handler=_retrieve_user,
        revoked_token_handler=_is_revoked,
        token_secret=settings.jwt_secret,
        algorithm="HS256",
        key=COOKIE,
        default_token_expiration=timedelta(seconds=settings.token_ttl_seconds),
        secure=settings.cookie_secure,
        samesite="lax",
        exclude_opt_key=PUBLIC,
        exclude=["^/docs", "^/schema"],
        openapi_security_scheme_name=SCHEME,
        description="A token from POST /api/auth/login, as 'Authorization: Bearer <token>' or the "
                    "azak_session cookie.",
    )


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for admin routes (and every mutation of shared data). OPTIONS (the CORS preflight,
    answered by Litestar with the Allow header and nothing else) carries no credentials."""
    if connection.scope.get("method") == "OPTIONS":
        return
    if not isinstance(connection.user, CurrentUser) or not connection.user.is_admin:
        raise PermissionDeniedException("this route requires the admin role")
