"""Health: public, uncached, 503 when a required dependency is down."""

import msgspec
from litestar import Controller, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from azak_api.auth import ANONYMOUS, PUBLIC
from azak_api.settings import Settings
from azak_api.system.health import DependencyStatus, check_postgres, check_redis, check_tcp


class HealthReport(msgspec.Struct):
    status: str  # ok | unavailable
    checks: dict[str, DependencyStatus]


class HealthController(Controller):
    path = "/health"
    tags = ["system"]

    @get(
        "/",
        operation_id="getHealth",
        summary="Dependency health",
        description="Checks PostgreSQL, and Redis and Milvus when configured. Public.",
        opt={PUBLIC: True},
        security=ANONYMOUS,
        responses={503: ResponseSpec(data_container=HealthReport, generate_examples=False,
                                     description="A required dependency is down; `checks` names it.")},
        cache=False,
    )
    async def health(self, engine: AsyncEngine, redis: Redis | None, settings: Settings) -> Response[HealthReport]:
        checks = {"postgres": await check_postgres(engine)}
        if redis is not None:
            checks["redis"] = await check_redis(redis)
        if settings.milvus_uri:
            checks["milvus"] = await check_tcp(settings.milvus_uri)
        healthy = all(check.status == "ok" for check in checks.values())
        return Response(
            HealthReport("ok" if healthy else "unavailable", checks),
            status_code=200 if healthy else 503,
        )
