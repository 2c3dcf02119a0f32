"""Authentication and authorisation: JWT (HS256) in the ``azak_session`` cookie or a Bearer header.

The token's subject is the user id; the role and the active flag are read from ``app.users`` on
every request (briefly cached in-process), so demoting or deactivating a user takes effect without
waiting for tokens to expire. Tokens carry the user's ``token_version``; changing the password or
the active flag moves it on, so every token issued before is refused. An account past its
``expires_at`` is refused at login and on every request with a message saying so (a change of the
date reaches other instances within ``AZAK_AUTH_CACHE_SECONDS``). Logging out revokes the
token's ``jti`` (``app.revoked_tokens``): the instance that revoked it refuses it at once, other
instances within ``AZAK_AUTH_CACHE_SECONDS``. The per-process caches of users, revocations and
verified tokens hold at most ``AZAK_AUTH_CACHE_ENTRIES`` entries each (least recently used out
first), so a flood of distinct tokens cannot grow them; a forgotten entry is read again from the
database (or its signature checked again).

Logins are limited per account and per client address (sliding one-minute windows), and argon2
runs in worker threads, a few at a time, never on the event loop.
"""

import ipaddress
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Self, TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
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
TOKEN_VERSION = "ver"  # token claim (in extras): app.users.token_version when the token was issued
_HASHER = PasswordHasher()

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    role: str
    display_name: str | None
    token_version: int = 0
    expires_at: datetime | None = None  # the account's end (None: never)
    refresh_enabled: bool = True  # may launch on-demand runs
    refreshes_per_day: int | None = None  # None: AZAK_ANALYSIS_REFRESHES_PER_DAY

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def account_expired(expires_at: datetime) -> NotAuthorizedException:
    """The 401 of an account past its end date (at login and on every request)."""
    return NotAuthorizedException(f"the account expired on {expires_at.astimezone(UTC).isoformat()}; ask an "
                                  "administrator to extend it")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginLimiter:
    """Sliding one-minute windows of attempts per key — logins per account and per client address,
    and public preview reads per client address (one mechanism for both):
    Redis sorted sets shared by every instance when configured, pruned deques in memory otherwise.
    An attempt is recorded against every key or, when one is over its limit, against none (so a
    blocked address cannot spend an account's budget, and hammering does not extend a ban)."""

    WINDOW = 60.0
    MAX_MEMORY_KEYS = 100_000

    def __init__(self, redis: Redis | None):
        self.redis = redis
        self._memory: dict[str, deque[float]] = {}
        self._calls = 0

    def __len__(self) -> int:
        return len(self._memory)

    async def attempt(self, limits: dict[str, int]) -> float | None:
        """Count one attempt against each key (with its limit); the seconds to wait if refused."""
        if self.redis is not None:
            return await self._redis_attempt(self.redis, limits)
        return self._memory_attempt(limits, time.monotonic())

    def prune(self, now: float) -> None:
        """Forget keys without an attempt in the window: the map holds the last minute only."""
        for key in [k for k, window in self._memory.items() if not window or window[-1] <= now - self.WINDOW]:
            del self._memory[key]

    def _memory_attempt(self, limits: dict[str, int], now: float) -> float | None:
        self._calls += 1
        if self._calls % 1000 == 0 or len(self._memory) > self.MAX_MEMORY_KEYS:
            self.prune(now)
        wait = 0.0
        for key, limit in limits.items():
            window = self._memory.setdefault(key, deque())
            while window and window[0] <= now - self.WINDOW:
                window.popleft()
            if len(window) >= limit:
                wait = max(wait, window[len(window) - limit] + self.WINDOW - now)
        if wait > 0:
            return wait
        for key in limits:
            self._memory[key].append(now)
        return None

    async def _redis_attempt(self, redis: Redis, limits: dict[str, int]) -> float | None:
        now, member = time.time(), uuid.uuid4().hex
        names = {key: f"azak:login:{key}" for key in limits}
        async with redis.pipeline(transaction=True) as pipe:
            for name in names.values():
                pipe.zremrangebyscore(name, 0, now - self.WINDOW)
                pipe.zadd(name, {member: now})
                pipe.zcard(name)
                pipe.expire(name, int(self.WINDOW) + 1)
            results = await pipe.execute()
        wait = 0.0
        for index, (key, limit) in enumerate(limits.items()):
            count = int(results[index * 4 + 2])
            if count > limit:  # the attempt that must leave the window before another is allowed
                rank = count - 1 - limit
                entries = await redis.zrange(names[key], rank, rank, withscores=True)
                wait = max(wait, float(entries[0][1]) + self.WINDOW - now, 0.001)
        if wait > 0:
            async with redis.pipeline(transaction=True) as pipe:
                for name in names.values():
                    pipe.zrem(name, member)
                await pipe.execute()
            return wait
        return None


class BoundedTtlCache(Generic[K, V]):
    """At most ``max_entries`` entries, each kept for its own number of seconds; the least recently
    used goes first when a new one would not fit."""

    def __init__(self, max_entries: int):
        self.max_entries = max(1, max_entries)
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> tuple[V] | None:
        """``(value,)`` while the entry is fresh, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return (entry[1],)

    def put(self, key: K, value: V, seconds: float) -> None:
        self._entries[key] = (time.monotonic() + seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Networks) -> str:
    """The caller's address: the peer, unless the peer is a trusted proxy — then the right-most
    ``X-Forwarded-For`` entry that is not itself a trusted proxy (entries further left are the
    client's own claims and can be forged)."""

    def parsed(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(address.strip())
        except ValueError:
            return None

    def is_trusted(address: str) -> bool:
        ip = parsed(address)
        return ip is not None and any(ip in network for network in trusted)

    if not peer or not forwarded_for or not is_trusted(peer):
        return peer or "unknown"
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            ip = parsed(hop)
            return str(ip) if ip is not None else peer  # a malformed entry: the proxy is all we know
    return peer


class AuthState:
    """Per-app caches of users and revocations, the login limiter, and the password-hashing slots."""

    def __init__(self, engine: AsyncEngine, settings: Settings, redis: Redis | None, clock: Callable[[], datetime]):
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.ttl = settings.auth_cache_seconds
        self.limiter = LoginLimiter(redis)
        self.trusted_proxies: Networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies)
        self.hash_slots = anyio.CapacityLimiter(settings.password_hash_concurrency)
        self.users: BoundedTtlCache[int, CurrentUser | None] = BoundedTtlCache(settings.auth_cache_entries)
        self.revocations: BoundedTtlCache[str, bool] = BoundedTtlCache(settings.auth_cache_entries)
        self.verified: BoundedTtlCache[str, Token] = BoundedTtlCache(settings.auth_cache_entries)  # verified_tokens()

    async def verify_password(self, password_hash: str, password: str) -> bool:
        """argon2 (64 MiB, 3 passes) in a worker thread, at most ``AZAK_PASSWORD_HASH_CONCURRENCY`` at once."""
        return await anyio.to_thread.run_sync(verify_password, password_hash, password, limiter=self.hash_slots)

    async def hash_password(self, password: str) -> str:
        return await anyio.to_thread.run_sync(hash_password, password, limiter=self.hash_slots)

    async def user(self, user_id: int) -> CurrentUser | None:
        if (cached := self.users.get(user_id)) is not None:
            return cached[0]
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT id, email, role, display_name, is_active, token_version, expires_at, refresh_enabled, "
                "refreshes_per_day FROM app.users WHERE id = :id"), {"id": user_id})).first()
        user = (CurrentUser(row.id, row.email, row.role, row.display_name, row.token_version, row.expires_at,
                            row.refresh_enabled, row.refreshes_per_day)
                if row and row.is_active else None)
        self.users.put(user_id, user, self.ttl)
        return user

    def forget_user(self, user_id: int) -> None:
        self.users.forget(user_id)

    async def token_holder(self, token: Token) -> CurrentUser | None:
        """The active user a token names, if the token is still theirs (same ``token_version``);
        raises the expiry 401 for an account past its end date."""
        try:
            user = await self.user(int(token.sub))
        except ValueError:
            return None
        # a password change or a deactivation moves the version on: tokens issued before stop working
        if user is None or token.extras.get(TOKEN_VERSION) != user.token_version:
            return None
        if user.expires_at is not None and user.expired(self.clock()):
            raise account_expired(user.expires_at)
        return user

    async def optional_user(self, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
        """The caller on a public route, from the same Bearer header or cookie the protected routes
        read, with the same checks (signature, lifetime, revocation, version, expiry); None for
        anyone else."""
        header = connection.headers.get("authorization", "")
        encoded = header[7:].strip() if header[:7].lower() == "bearer " else connection.cookies.get(COOKIE, "")
        if not encoded:
            return None
        try:
            token = Token.decode(encoded, self.settings.jwt_secret, "HS256")
            if await self.revoked(str(token.jti) if token.jti else None):
                return None
            return await self.token_holder(token)
        except NotAuthorizedException:
            return None

    async def revoked(self, jti: str | None) -> bool:
        if not jti:
            return True  # every token we issue has one
        if (cached := self.revocations.get(jti)) is not None:
            return cached[0]
        async with self.engine.connect() as conn:
            found = (await conn.execute(text("SELECT 1 FROM app.revoked_tokens WHERE jti = :jti"),
                                        {"jti": jti})).first() is not None
        self.revocations.put(jti, found, 86400.0 if found else self.ttl)
        return found

    async def revoke(self, token: Token, user_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO app.revoked_tokens (jti, user_id, expires_at) "
                "VALUES (:jti, :user_id, to_timestamp(:exp)) ON CONFLICT (jti) DO NOTHING"),
                {"jti": token.jti, "user_id": user_id, "exp": token.exp.timestamp()})
            await conn.execute(text("DELETE FROM app.revoked_tokens WHERE expires_at < now()"))
        if token.jti:
            self.revocations.put(str(token.jti), True, 86400.0)

    async def login_allowed(self, email: str, address: str) -> float | None:
        """Count a login attempt for the account and for the client address; the seconds to wait
        when either is over its limit, else None."""
        return await self.limiter.attempt({
            f"account:{email.lower()}": self.settings.login_attempts_per_minute,
            f"address:{address}": self.settings.login_attempts_per_address_per_minute,
        })

    async def preview_allowed(self, address: str) -> float | None:
        """Count a public preview read for the client address; the seconds to wait when over the
        limit, else None (a leaked link cannot drive unbounded database load)."""
        return await self.limiter.attempt(
            {f"preview:address:{address}": self.settings.preview_reads_per_address_per_minute})

    def caller_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        peer = connection.client.host if connection.client else None
        return client_address(peer, connection.headers.get("x-forwarded-for"), self.trusted_proxies)


class SessionTokens:
    """Issues session tokens (what handlers get as ``tokens``; a plain class, so Litestar passes it
    through instead of validating the JWT configuration on every request)."""

    def __init__(self, auth: JWTCookieAuth[CurrentUser, Token]):
        self._auth = auth
        self.expires_in = int(auth.default_token_expiration.total_seconds())
        self.secure = bool(auth.secure)

    def issue(self, user_id: int, role: str, token_version: int) -> str:
        return self._auth.create_token(identifier=str(user_id), token_unique_jwt_id=uuid.uuid4().hex,
                                       token_extras={"role": role, TOKEN_VERSION: token_version})


def verified_tokens(verified: BoundedTtlCache[str, Token]) -> type[Token]:
    """A ``Token`` class whose ``decode`` remembers the tokens it verified, until each one's ``exp``.

    The signature check (HMAC-SHA256 and pyjwt's claim checks, ~0.1 ms) ran on every request for the
    same few token strings; a string verified once decodes to the same claims every time, so the
    same bytes are looked up instead. Only tokens that passed every check are kept (the cache cannot
    be filled with forged ones), each until its own expiry; revocation, the token version and the
    account's state are still checked on every request (``AuthState``)."""

    class VerifiedToken(Token):
        @classmethod
        def decode(cls, encoded_token: str, secret: str, algorithm: str, *args: Any, **kwargs: Any) -> Self:
            if (hit := verified.get(encoded_token)) is not None:
                return hit[0]  # type: ignore[return-value]
            token = super().decode(encoded_token, secret, algorithm, *args, **kwargs)
            verified.put(encoded_token, token, token.exp.timestamp() - time.time())
            return token

    return VerifiedToken


def jwt_auth(settings: Settings, auth: AuthState) -> JWTCookieAuth[CurrentUser, Token]:
    async def retrieve_user(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
        return await auth.token_holder(token)

    async def is_revoked(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> bool:
        return await auth.revoked(str(token.jti) if token.jti else None)

    return JWTCookieAuth[CurrentUser, Token](
        retrieve_user_handler=retrieve_user,
        revoked_token_handler=is_revoked,
        token_secret=settings.jwt_secret,
        algorithm="HS256",
        token_cls=verified_tokens(auth.verified),
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
