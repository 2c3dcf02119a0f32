"""What handlers receive by parameter name (Litestar ``Provide``): the app's state stays in the app.

A handler asks for ``db`` (a read connection), ``tx`` (a connection inside one transaction that
commits when the handler returns, then moves on the cache namespaces the route declares), ``settings``, ``clock``,
``auth_state``, ``response_cache``, ``current_user`` (the authenticated caller), ``tokens``
(issues session tokens), ``engine`` or ``redis`` instead of reaching into ``request.app.state``;
``create_app`` fills the state.
"""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.security.jwt import Token
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from azak_api.auth import AuthState, CurrentUser, SessionTokens
from azak_api.cache import ResponseCache
from azak_api.settings import Settings


async def provide_db(state: State) -> AsyncIterator[AsyncConnection]:
    """A read connection outside any transaction: at READ COMMITTED each statement sees its own
    snapshot inside a transaction too, so reads lose nothing and save the BEGIN and ROLLBACK
    round trips of every request (writes take ``tx``)."""
    async with state.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


async def provide_tx(state: State, request: Request[Any, Any, Any]) -> AsyncIterator[AsyncConnection]:
    """One transaction, committed when the handler returns; then the cache namespaces the route
    declares (``opt["invalidates"]``) move on, so a write (a model, an A/B pair, a rating) shows at
    once — before the response is sent — and every other route keeps its answers."""
    async with state.engine.begin() as conn:
        yield conn
    await state.response_cache.invalidate(request.route_handler)


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_clock(state: State) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = state.clock
    return clock


def provide_auth_state(state: State) -> AuthState:
    auth: AuthState = state.auth
    return auth


def provide_response_cache(state: State) -> ResponseCache:
    store: ResponseCache = state.response_cache
    return store


def provide_current_user(request: Request[CurrentUser, Token, Any]) -> CurrentUser:
    """The caller the authentication middleware identified (routes that are not public)."""
    return request.user


def provide_tokens(state: State) -> SessionTokens:
    tokens: SessionTokens = state.tokens
    return tokens


def provide_engine(state: State) -> AsyncEngine:
    engine: AsyncEngine = state.engine
    return engine


def provide_redis(state: State) -> Redis | None:
    redis: Redis | None = state.redis
    return redis


DEPENDENCIES: dict[str, Any] = {
    "db": Provide(provide_db),
    "tx": Provide(provide_tx),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "clock": Provide(provide_clock, sync_to_thread=False),
    "auth_state": Provide(provide_auth_state, sync_to_thread=False),
    "response_cache": Provide(provide_response_cache, sync_to_thread=False),
    "current_user": Provide(provide_current_user, sync_to_thread=False),
    "tokens": Provide(provide_tokens, sync_to_thread=False),
    "engine": Provide(provide_engine, sync_to_thread=False),
    "redis": Provide(provide_redis, sync_to_thread=False),
}
