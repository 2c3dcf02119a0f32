"""Response caching: Redis when ``AZAK_REDIS_URL`` is set, a bounded memory store otherwise.

Each cached route names its cache entry in ``opt["cache"]`` (e.g. ``prices``); the time to live
comes from the settings at run time (``AZAK_CACHE_TTLS``), 0 disables it.

The key is a hash of what the handler can see: the method, the path, and the values of the query
parameters the route declares (as a canonical JSON document) — an undeclared parameter
(``?zz=<random>``) does not make a new entry, and no two different requests share one, however
their values are encoded; the key also says whether the answer is gzipped (``conditional.py``).
Answers are keyed by user unless the route says its answer is the same for everyone
(``opt["cache_scope"] = "shared"``): a route forgetting to say so costs hit rate, never another
user's data. Shared routes are still authenticated and guarded before the cache is
consulted.

Each route's cache name is also its namespace, and every key carries the namespace's version
(``prices:<version>:<hash>``). A write route declares the namespaces it changes
(``opt["invalidates"]``, checked at start-up: every write route says, even if it changes none);
once its transaction commits, their versions move on — the old answers can no longer be reached
and expire by their time to live. Nothing scans the store, and a login or a rating never costs
another route its answers. The version is read before the handler runs, so an answer computed
before a write lands under the version the write made stale.
"""

import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.config.response_cache import ResponseCacheConfig, default_do_cache_predicate
from litestar.exceptions import ImproperlyConfiguredException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.stores.base import NamespacedStore, Store
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send
from redis.asyncio import Redis

STORE = "response_cache"
SHARED = "shared"  # opt["cache_scope"]: the answer does not depend on the caller
INVALIDATES = "invalidates"  # opt key of a write route: the cache namespaces it changes
QUERY_NAMES = "cache_query_names"  # opt key filled by declare_cache_keys()
VERSION = "azak.cache_version"  # where the request's scope state keeps its namespace's version
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def declare_cache_keys(app: Litestar) -> None:
    """Record, on each handler, the query parameters its route declares (its own and its
    dependencies'), so the key is built from those alone; check that every write route names
    the cache namespaces it changes, and that they exist."""
    handlers = [(handler, kwargs_model) for route in app.routes
                for handler, kwargs_model in getattr(route, "route_handler_map", {}).values()]
    namespaces = {handler.opt["cache"] for handler, _ in handlers if handler.opt.get("cache")}
    for handler, kwargs_model in handlers:
        handler.opt[QUERY_NAMES] = tuple(sorted(p.field_alias for p in kwargs_model.expected_query_params))
        if handler.http_methods & WRITES:
            declared = handler.opt.get(INVALIDATES)
            if not isinstance(declared, tuple) or not set(declared) <= namespaces:
                raise ImproperlyConfiguredException(
                    f"{handler.handler_name}: a write route declares opt={{'{INVALIDATES}': (...)}}, the "
                    f"cache namespaces it changes (a tuple, maybe empty) among {sorted(namespaces)}; "
                    f"got {declared!r}")


def skip_uncached_routes(app: Litestar, ttls: dict[str, int]) -> None:
    """A cached route whose time to live is 0 is served as an uncached one: no key, no lookup, no
    namespace version read (a Redis round trip) and no copy of its answer made for a store that
    would drop it — Litestar reads ``handler.cache`` per request, and :func:`cache_config`'s
    filter keeps its cache layer from collecting the answer."""
    for route in app.routes:
        for handler, _ in getattr(route, "route_handler_map", {}).values():
            if handler.cache and ttls.get(handler.opt.get("cache", ""), 0) <= 0:
                handler.cache = False


def cache_key(request: Request[Any, Any, Any]) -> str:
    opt = request.route_handler.opt
    query = request.query_params
    declared = [[name, query.getall(name)] for name in opt.get(QUERY_NAMES, ()) if name in query]
    caller = None if opt.get("cache_scope") == SHARED else getattr(request.scope.get("user"), "id", None)
    # the store keeps the answer as sent: gzipped for a client that accepts gzip, plain otherwise
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    document = msgspec.json.encode([request.method, request.scope["path"], declared, caller, gzipped])
    version = request.scope.get("state", {}).get(VERSION, 0)
    return f"{opt.get('cache', 'default')}:{version}:{hashlib.sha256(document).hexdigest()}"


class BoundedMemoryStore(Store):
    """An in-process store with a byte budget: least recently used entries go first, expired ones
    whenever the budget is reached (and on read)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        value, _ = self._entries.pop(key)
        self.size -= len(key) + len(value)

    def _live(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            self._drop(key)
            return None
        return entry[0]

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        if len(key) + len(data) > self.max_bytes:
            return  # larger than the whole budget: serve it uncached
        if key in self._entries:
            self._drop(key)
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        self._entries[key] = (data, time.monotonic() + seconds if seconds else None)
        self.size += len(key) + len(data)
        if self.size > self.max_bytes:
            now = time.monotonic()
            for old in [k for k, (_, at) in self._entries.items() if at is not None and at <= now]:
                self._drop(old)
        while self.size > self.max_bytes:
            self._drop(next(iter(self._entries)))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        value = self._live(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    async def delete(self, key: str) -> None:
        if key in self._entries:
            self._drop(key)

    async def delete_all(self) -> None:
        self._entries.clear()
        self.size = 0

    async def exists(self, key: str) -> bool:
        return self._live(key) is not None

    async def expires_in(self, key: str) -> int | None:
        if self._live(key) is None:
            return None
        at = self._entries[key][1]
        return None if at is None else int(at - time.monotonic())


class NamespaceVersions:
    """Each cache namespace's version: Redis counters shared by every API process, or this
    process's own when the cache is in memory."""

    KEY = "azak:response-cache-version:"

    def __init__(self, redis: Redis | None):
        self.redis = redis
        self.local: dict[str, int] = {}

    async def current(self, namespace: str) -> int:
        if self.redis is None:
            return self.local.get(namespace, 0)
        return int(await self.redis.get(self.KEY + namespace) or 0)

    async def bump(self, namespaces: Iterable[str]) -> None:
        names = sorted(set(namespaces))
        if not names:
            return
        if self.redis is None:
            for name in names:
                self.local[name] = self.local.get(name, 0) + 1
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.incr(self.KEY + name)
            await pipe.execute()


class ResponseCache(Store):
    """The response store: applies each route's configured time to live (and skips routes set to
    0); keeps the namespaces' versions."""

    def __init__(self, inner: Store, ttls: dict[str, int], versions: NamespaceVersions):
        self.inner = inner
        self.ttls = ttls
        self.versions = versions

    async def invalidate(self, route_handler: BaseRouteHandler) -> None:
        """After a write route's changes are committed: move its declared namespaces on."""
        await self.versions.bump(route_handler.opt.get(INVALIDATES, ()))

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        ttl = self.ttls.get(key.split(":", 1)[0], 0)
        if ttl > 0:
            await self.inner.set(key, value, ttl)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self.inner.get(key, renew_for)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def delete_all(self) -> None:
        """Every namespace moves on (no scan of the store)."""
        await self.versions.bump(self.ttls)

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def expires_in(self, key: str) -> int | None:
        return await self.inner.expires_in(key)


class CacheVersionMiddleware(ASGIMiddleware):
    """Reads the version of a cached route's namespace before the handler (and the cache lookup)
    runs: Litestar's key builder is synchronous, so the version waits in the scope's state."""

    def __init__(self, store: ResponseCache):
        self.store = store

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope.get("route_handler")
        namespace = handler.opt.get("cache") if handler is not None and getattr(handler, "cache", False) else None
        if namespace:
            scope.setdefault("state", {})[VERSION] = await self.store.versions.current(namespace)
        await next_app(scope, receive, send)


# a composite answer is cached for the shortest time to live of its parts
COMPOSITES = {"page": ("stock", "quote", "analysis", "news")}


def cache_store(redis: Redis | None, ttls: dict[str, int], max_bytes: int) -> ResponseCache:
    ttls = {**ttls, **{name: min(ttls.get(part, 0) for part in parts) for name, parts in COMPOSITES.items()}}
    inner: NamespacedStore | BoundedMemoryStore = (
        RedisStore(redis, namespace="azak:response-cache") if redis is not None else BoundedMemoryStore(max_bytes))
    return ResponseCache(inner, ttls, NamespaceVersions(redis))


def _cached_route_succeeded(scope: HTTPScope, status: int) -> bool:
    return bool(getattr(scope["route_handler"], "cache", False)) and default_do_cache_predicate(scope, status)


def cache_config() -> ResponseCacheConfig:
    return ResponseCacheConfig(store=STORE, key_builder=cache_key, default_expiration=60,
                               cache_response_filter=_cached_route_succeeded)
