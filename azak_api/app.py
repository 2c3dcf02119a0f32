"""The Litestar application factory: ``create_app(settings)``.

Serve with ``azak serve api`` (or ``uvicorn azak_api.app:create_app --factory --no-proxy-headers``:
the client address comes from ``AZAK_TRUSTED_PROXIES``, not from uvicorn). Every route
needs a token except those marked public (health, login, the OpenAPI documents); admin routes and
every mutation of shared data are guarded by role; cookie-authenticated changes pass the CSRF
checks (``csrf.py``). The app's parts are built here and reach handlers only through ``deps.py``.
"""

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import msgspec
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Schema
from litestar.stores.registry import StoreRegistry
from redis.asyncio import Redis
from sqlalchemy.exc import OperationalError

from azak_api.analysis.controllers import AnalysisController
from azak_api.auth import AuthState, SessionTokens, jwt_auth
from azak_api.bodies import decode_body_strictly
from azak_api.cache import (
    STORE,
    CacheVersionMiddleware,
    cache_config,
    cache_store,
    declare_cache_keys,
    skip_uncached_routes,
)
from azak_api.conditional import compression_config, declare_max_ages
from azak_api.csrf import CsrfMiddleware
from azak_api.dashboard.controllers import DashboardController
from azak_api.db import create_engine
from azak_api.deps import DEPENDENCIES
from azak_api.docs import render_plugins, swagger_assets
from azak_api.errors import exception_handlers
from azak_api.evaluations.controllers import AbTestController, EvaluationController, ModelEvaluationController
from azak_api.market.controllers import MarketController
from azak_api.migrations import migrate
from azak_api.models.controllers import ModelController
from azak_api.news.controllers import NewsController
from azak_api.options import AllowHeaderMiddleware
from azak_api.previews.controllers import PreviewAdminController, PublicPreviewController
from azak_api.settings import Settings
from azak_api.similar.controllers import SimilarNewsController
from azak_api.stockpage.controllers import StockPageController
from azak_api.stocks.controllers import StockController, WatchlistController
from azak_api.system.controllers import HealthController
from azak_api.telegram.controllers import TelegramController
from azak_api.users.controllers import AuthController, UserController

LOG = logging.getLogger("azak.api")
CONTROLLERS = [HealthController, AuthController, UserController, StockController, WatchlistController,
               SimilarNewsController, NewsController, DashboardController, ModelController, AnalysisController,
               EvaluationController, ModelEvaluationController, AbTestController, TelegramController,
               MarketController, StockPageController, PreviewAdminController, PublicPreviewController]


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    engine = create_engine(settings)  # connects on first use
    now = clock or (lambda: datetime.now(UTC))
    auth_state = AuthState(engine, settings, redis, now)
    store = cache_store(redis, settings.cache_ttls, settings.cache_memory_bytes)
    auth = jwt_auth(settings, auth_state)
    options = AllowHeaderMiddleware()
    # what deps.py hands to handlers; nothing else reads the app's state
    state = State({"settings": settings, "engine": engine, "redis": redis, "tokens": SessionTokens(auth),
                   "auth": auth_state, "response_cache": store, "clock": now})

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if settings.auto_migrate:
            try:
                await migrate(engine)
            except OperationalError as exc:  # keep serving: /health reports the database as down
                LOG.warning("could not apply app migrations (database unavailable: %s); run "
                            "`azak db migrate` when it is back", str(exc.orig).strip().splitlines()[0])
        try:
            yield
        finally:
            await engine.dispose()
            if redis is not None:
                await redis.aclose()

    app = Litestar(
        route_handlers=[*CONTROLLERS, swagger_assets()],
        dependencies=DEPENDENCIES,
        before_request=decode_body_strictly,
        state=state,
        lifespan=[lifespan],
        on_app_init=[auth.on_app_init],
        middleware=[options, CsrfMiddleware(settings.cors_origins), CacheVersionMiddleware(store)],
        exception_handlers=exception_handlers(settings.max_body_bytes),  # type: ignore[arg-type]
        stores=StoreRegistry({STORE: store}),
        response_cache_config=cache_config(),
        compression_config=compression_config(),
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=True)
        if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(
            title="Azak API", version="0.1.0", path="/docs",
            description="AI insights on the Korean stock market. Log in with POST /api/auth/login; "
                        "send the token as `Authorization: Bearer <token>` or keep the azak_session "
                        "cookie (then changes need a JSON body and an allowed Origin).",
            render_plugins=render_plugins(),
            use_handler_docstrings=True,
        ),
        debug=False,
    )
    _declare_closed_bodies(app)
    declare_cache_keys(app)
    declare_max_ages(app, store.ttls)
    skip_uncached_routes(app, store.ttls)
    options.learn(app)
    return app


def _closed_structs(base: type = msgspec.Struct) -> Iterator[type]:
    for struct in base.__subclasses__():
        config = getattr(struct, "__struct_config__", None)
        if struct.__module__.startswith("azak_api.") and config is not None and config.forbid_unknown_fields:
            yield struct
        yield from _closed_structs(struct)


def _declare_closed_bodies(app: Litestar) -> None:
    """Request bodies refuse unknown fields (``forbid_unknown_fields``); the schema says so, so
    clients and fuzzers know an extra property is a 400, not something to be ignored."""
    components = app.openapi_schema.components.schemas or {}
    for struct in _closed_structs():
        if struct.__name__ in components:
            components[struct.__name__].additional_properties = False
            _declare_zero_bounds(struct, components[struct.__name__])


def _declare_zero_bounds(struct: type, schema: Schema) -> None:
    """Litestar leaves out a bound of 0 on an optional number (it tests the bound for truth): put
    it back, so a negative price is known to be a 400."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
        prop = (schema.properties or {}).get(field.encode_name)
        for kind in kinds:
            if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType) and kind.ge == 0 \
                    and isinstance(prop, Schema):
                prop.minimum = 0
