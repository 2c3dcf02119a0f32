"""What handlers receive by parameter name (Litestar ``Provide``): the app's state stays in the app.

A handler asks for ``db`` (a read connection), ``tx`` (a connection inside one transaction that
commits when the handler returns), ``settings``, ``clock``, ``auth_state`` or ``response_cache``
instead of reaching into ``request.app.state``.
"""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide
from litestar.stores.base import Store
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import AuthState
from azak_api.settings import Settings


async def provide_db(state: State) -> AsyncIterator[AsyncConnection]:
    async with state.engine.connect() as conn:
        yield conn


async def provide_tx(state: State) -> AsyncIterator[AsyncConnection]:
    async with state.engine.begin() as conn:
        yield conn


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_clock(state: State) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = state.clock
    return clock


def provide_auth_state(state: State) -> AuthState:
    auth: AuthState = state.auth
    return auth


def provide_response_cache(state: State) -> Store:
    store: Store = state.response_cache
    return store


DEPENDENCIES: dict[str, Any] = {
    "db": Provide(provide_db),
    "tx": Provide(provide_tx),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "clock": Provide(provide_clock, sync_to_thread=False),
    "auth_state": Provide(provide_auth_state, sync_to_thread=False),
    "response_cache": Provide(provide_response_cache, sync_to_thread=False),
}
