"""Response caching: Redis when ``AZAK_REDIS_URL`` is set, a bounded memory store otherwise.

Each cached route names its cache entry in ``opt["cache"]`` (e.g. ``prices``); the time to live
comes from the settings at run time (``AZAK_CACHE_TTLS``), 0 disables it.

The key is a hash of what the handler can see: the method, the path, and the values of the query
parameters the route declares (as a canonical JSON document) — an undeclared parameter
(``?zz=<random>``) does not make a new entry, and no two different requests share one, however
their values are encoded. Answers are keyed by user unless the route says its answer is the same
for everyone (``opt["cache_scope"] = "shared"``): a route forgetting to say so costs hit rate,
never another user's data. Shared routes are still authenticated and guarded before the cache is
consulted.
"""

import hashlib
import time
from collections import OrderedDict
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.config.response_cache import ResponseCacheConfig
from litestar.stores.base import NamespacedStore, Store
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

STORE = "response_cache"
SHARED = "shared"  # opt["cache_scope"]: the answer does not depend on the caller
QUERY_NAMES = "cache_query_names"  # opt key filled by declare_cache_keys()


def declare_cache_keys(app: Litestar) -> None:
    """Record, on each handler, the query parameters its route declares (its own and its
    dependencies'), so the key is built from those alone."""
    for route in app.routes:
        for handler, kwargs_model in getattr(route, "route_handler_map", {}).values():
            handler.opt[QUERY_NAMES] = tuple(sorted(p.field_alias for p in kwargs_model.expected_query_params))


def cache_key(request: Request[Any, Any, Any]) -> str:
    opt = request.route_handler.opt
    query = request.query_params
    declared = [[name, query.getall(name)] for name in opt.get(QUERY_NAMES, ()) if name in query]
    caller = None if opt.get("cache_scope") == SHARED else getattr(request.scope.get("user"), "id", None)
    document = msgspec.json.encode([request.method, request.scope["path"], declared, caller])
    return f"{opt.get('cache', 'default')}:{hashlib.sha256(document).hexdigest()}"


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


class TtlStore(Store):
    """Applies each route's configured time to live (and skips routes set to 0)."""

    def __init__(self, inner: Store, ttls: dict[str, int]):
        self.inner = inner
        self.ttls = ttls

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        ttl = self.ttls.get(key.split(":", 1)[0], 0)
        if ttl > 0:
            await self.inner.set(key, value, ttl)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self.inner.get(key, renew_for)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def delete_all(self) -> None:
        await self.inner.delete_all()

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def expires_in(self, key: str) -> int | None:
        return await self.inner.expires_in(key)


def cache_store(redis: Redis | None, ttls: dict[str, int], max_bytes: int) -> TtlStore:
    inner: NamespacedStore | BoundedMemoryStore = (
        RedisStore(redis, namespace="azak:response-cache") if redis is not None else BoundedMemoryStore(max_bytes))
    return TtlStore(inner, ttls)


def cache_config() -> ResponseCacheConfig:
    return ResponseCacheConfig(store=STORE, key_builder=cache_key, default_expiration=60)
