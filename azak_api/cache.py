"""Response caching: Redis when ``AZAK_REDIS_URL`` is set, memory otherwise.

Each cached route names its cache entry in ``opt["cache"]`` (e.g. ``prices``); the time to live
comes from the settings at run time (``AZAK_CACHE_TTLS``), 0 disables it. A route whose answer
depends on the caller sets ``opt["cache_scope"] = "user"``: its key carries the user id, so one
user's response is never served to another. Shared routes are still authenticated and guarded
before the cache is consulted.
"""

from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.config.response_cache import ResponseCacheConfig
from litestar.stores.base import NamespacedStore, Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

STORE = "response_cache"


def cache_key(request: Request[Any, Any, Any]) -> str:
    opt = request.route_handler.opt
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    key = f"{opt.get('cache', 'default')}:{request.method}:{request.url.path}?{query}"
    if opt.get("cache_scope") == "user":
        user = request.scope.get("user")
        key += f"|user={getattr(user, 'id', 'anonymous')}"
    return key


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


def cache_store(redis: Redis | None, ttls: dict[str, int]) -> TtlStore:
    inner: NamespacedStore | MemoryStore = (
        RedisStore(redis, namespace="azak:response-cache") if redis is not None else MemoryStore())
    return TtlStore(inner, ttls)


def cache_config() -> ResponseCacheConfig:
    return ResponseCacheConfig(store=STORE, key_builder=cache_key, default_expiration=60)
