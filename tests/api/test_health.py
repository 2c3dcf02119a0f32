"""GET /health checks the real dependencies."""

from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from tests.api.conftest import settings_for
from tests.conftest import free_port


async def test_health_reports_postgres_ok(client):
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["postgres"]["status"] == "ok"
    assert body["checks"]["postgres"]["latency_ms"] >= 0


async def test_health_is_503_and_names_postgres_when_it_is_down(db_url):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/azak"
    async with AsyncTestClient(app=create_app(settings_for(db_url, database_url=dead))) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["postgres"]["status"] == "down"


async def test_health_checks_a_configured_redis(db_url, redis_url):
    async with AsyncTestClient(app=create_app(settings_for(db_url, redis_url=redis_url))) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["status"] == "ok"


async def test_health_is_503_when_a_configured_redis_is_down(db_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with AsyncTestClient(app=create_app(settings_for(db_url, redis_url=dead))) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["status"] == "down" and body["checks"]["redis"]["error"]
    assert body["checks"]["postgres"]["status"] == "ok"
