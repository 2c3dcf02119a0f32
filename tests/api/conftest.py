"""API fixtures: the real app on a real warehouse (built once by real pipeline runs), real users,
real tokens; real Redis when configured."""

import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient

from azak_api.admin import run_migrations, upsert_user_async
from azak_api.app import create_app
from azak_api.settings import DEFAULT_CACHE_TTLS, Settings
from azak_cli.runtime.postgres import PgUrl, drop_database, ensure_database
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from tests.conftest import _worker, free_port, reset_schemas
from tests.pipelines.evaluation import fixtures as fx

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct-horse-battery"


@pytest.fixture
def redis_url() -> str:
    """The Redis to test against: AZAK_REDIS_URL (CI sets it and AZAK_REQUIRE_REDIS=1)."""
    url = os.environ.get("AZAK_REDIS_URL", "").strip()
    if not url:
        if os.environ.get("AZAK_REQUIRE_REDIS") == "1":
            pytest.fail("AZAK_REQUIRE_REDIS=1 but AZAK_REDIS_URL is not set")
        pytest.skip("AZAK_REDIS_URL is not configured (a laptop without Redis)")
    return url


def settings_for(db_url: str, **overrides) -> Settings:
    base = Settings(database_url=db_url.replace("postgresql://", "postgresql+psycopg://", 1),
                    environment="test", jwt_secret=SECRET, cache_ttls=dict(DEFAULT_CACHE_TTLS), embedder="offline")
    return replace(base, **overrides)


@pytest.fixture(scope="session")
def api_milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API warehouse's own embedded Milvus (pipeline tests empty theirs between tests)."""
    from azak_cli.runtime.milvus import EmbeddedMilvus
    from tests.conftest import free_port

    server = EmbeddedMilvus(tmp_path_factory.mktemp("api_milvus"), free_port())
    server.start()
    yield server.uri
    server.stop()


@pytest.fixture(scope="session")
def api_warehouse(pg_server: PgUrl, api_milvus: str) -> Iterator[str]:
    """A warehouse the pipelines filled (replayed sample data) and dbt built, and the articles'
    vectors in Milvus (offline embedder): what the API reads."""
    from tests.pipelines.runs import run

    url = pg_server.with_database(f"{_worker()}_api")
    drop_database(url)
    ensure_database(url)
    with pipelines_on(url.render(), api_milvus):
        run("reference_job")
        run("market_raw_job", ("2025-03-03", "2025-06-17"))
        run("intraday_job", ("2025-06-16", "2025-06-17"))
        run("all_news_job", ("2025-05-01", "2025-06-17"))
        run("embeddings_job", ("2025-05-01", "2025-06-17"))
        run("market_marts_job")
        run("news_marts_job")
        run("embeddings_marts_job")
        run("evaluation_job")  # empty but valid until predictions exist
    yield url.render()
    drop_database(url)


@contextmanager
def pipelines_on(url: str, milvus: str) -> Iterator[None]:
    """The pipelines' environment pointed at ``url`` (replayed sources, offline embedder) for the
    runs inside the block, then the previous one back."""
    variables = ("AZAK_DATABASE_URL", "AZAK_SOURCE_MODE", "AZAK_MILVUS_URI", "AZAK_EMBEDDER")
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update({"AZAK_DATABASE_URL": url, "AZAK_SOURCE_MODE": "replay",
                       "AZAK_MILVUS_URI": milvus, "AZAK_EMBEDDER": "offline"})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


NEWS_DAY = ("2025-06-16", "2025-06-16")  # articles about 005930 among others
REPORT_DAY = ("2025-06-17", "2025-06-17")  # the last sample session: quotes, flows, after-hours


def copy_of(pg_server: PgUrl, warehouse: str, name: str) -> PgUrl:
    """A fresh copy of ``warehouse`` named ``<worker>_<name>`` (a PostgreSQL template copy: under a second)."""
    url = pg_server.with_database(f"{_worker()}_{name}")
    drop_database(url)
    source = PgUrl.parse(warehouse).database
    for attempt in range(20):  # the template must have no other session (a closing pool may linger)
        try:
            with psycopg.connect(pg_server.render(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{url.database}" TEMPLATE "{source}"')
            return url
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


@contextmanager
def warehouse_copy(pg_server: PgUrl, warehouse: str, milvus: str, name: str) -> Iterator[str]:
    """A migrated copy of ``warehouse`` (see :func:`copy_of`) with the pipelines pointed at it; dropped after."""
    from azak_api.admin import run_migrations

    url = copy_of(pg_server, warehouse, name)
    run_migrations(url.render())
    with pipelines_on(url.render(), milvus):
        yield url.render()
    drop_database(url)


def sensor_tick(name: str, url: str) -> Any:
    """One tick of the daemon's sensor ``name`` (through Dagster's public ``build_sensor_context``)."""
    import dagster as dg

    from azak_pipelines.defs.resources import Warehouse
    from tests.pipelines.runs import definitions

    sensor = definitions().resolve_sensor_def(name)
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                 resources={"warehouse": Warehouse(database_url=url)}) as context:
        return sensor(context)


@pytest.fixture(scope="session")
def predicted_warehouse(pg_server: PgUrl, api_warehouse: str, api_milvus: str) -> Iterator[str]:
    """A copy of ``api_warehouse`` (a PostgreSQL template copy: under a second) where the real
    prediction assets ran with the offline baselines on the last sample sessions, and the financial
    ratios were replayed: what the stock page and the market overview show. A copy, so the other
    API tests keep a warehouse without predictions."""
    from azak_api.admin import run_migrations
    from tests.pipelines.runs import run

    url = copy_of(pg_server, api_warehouse, "api_predicted")
    run_migrations(url.render())
    with pipelines_on(url.render(), api_milvus):
        run("fundamentals_job")
        run("news_predictions_job", NEWS_DAY)
        run("stock_reports_job", REPORT_DAY)
    yield url.render()
    drop_database(url)


@dataclass
class Account:
    id: int
    email: str
    token: str


@pytest.fixture
def app_settings(api_warehouse: str, api_milvus: str) -> Settings:
    return settings_for(api_warehouse, milvus_uri=api_milvus)


@pytest.fixture
async def client(app_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(app_settings)) as test_client:
        yield test_client


async def login(client: AsyncTestClient, email: str, password: str = PASSWORD) -> str:
    """A token for the account; the client keeps no cookie, so every call names its caller."""
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return response.json()["access_token"]


async def make_user(database_url: str, admin: bool = False) -> tuple[int, str]:
    email = f"{'admin' if admin else 'user'}-{uuid.uuid4().hex[:10]}@test.azak"
    user_id, _ = await upsert_user_async(database_url, email, PASSWORD, "admin" if admin else "user", False)
    return user_id, email


async def account(client: AsyncTestClient, database_url: str, admin: bool = False) -> Account:
    """A new user (or admin), logged in."""
    user_id, email = await make_user(database_url, admin=admin)
    return Account(user_id, email, await login(client, email))


@pytest.fixture
async def user(client: AsyncTestClient, api_warehouse: str) -> Account:
    return await account(client, api_warehouse)


@pytest.fixture
async def admin(client: AsyncTestClient, api_warehouse: str) -> Account:
    return await account(client, api_warehouse, admin=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sql(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


CODES = ("005930", "000660", "373220", "207940", "005380")


@pytest.fixture(scope="session")
def evaluated(api_warehouse: str) -> Iterator[dict[str, Any]]:
    """Baseline and a rival report on five stocks every session of April 2025, then the evaluation."""
    from tests.pipelines.runs import run

    run_migrations(api_warehouse)
    sql(api_warehouse, "INSERT INTO app.models (name, provider, model) VALUES ('rival', 'external', 'rival') "
                       "ON CONFLICT (name) DO NOTHING")
    [(baseline_id,)] = sql(api_warehouse, "SELECT id FROM app.models WHERE name = 'baseline'")
    [(rival_id,)] = sql(api_warehouse, "SELECT id FROM app.models WHERE name = 'rival'")
    sql(api_warehouse, "INSERT INTO app.ab_tests (model_a_id, model_b_id, min_n, active) VALUES (%s, %s, 10, false)",
        (baseline_id, rival_id))
    [(ab_id,)] = sql(api_warehouse, "SELECT max(id) FROM app.ab_tests")
    reports = []
    closes = dict(((c, d), float(v)) for c, d, v in sql(
        api_warehouse, "SELECT stock_code, trade_date, close FROM raw.daily_prices WHERE price_basis = 'adjusted'"))
    for day in krx_calendar().sessions_between(date(2025, 4, 1), date(2025, 5, 1)):
        for i, code in enumerate(CODES):
            previous = closes[(code, krx_calendar().add_sessions(day, -1))]
            made_at = fx.kst(f"{day}T08:30")
            reports.append(fx.report("baseline", code, made_at, "up", 0.5 + i / 20, previous, previous * 1.03,
                                     previous * 0.97, 5))
            reports.append(fx.report("rival", code, made_at, "down", 0.55, previous, previous * 0.97,
                                     previous * 1.03, 5))
    reports.append(fx.report("baseline", "005930", fx.kst("2025-04-30T13:05"), "up", 0.6, None, None, None, 5,
                             status="failed"))
    fx.write_predictions(api_warehouse, reports, [])
    saved = os.environ.get("AZAK_DATABASE_URL")
    os.environ["AZAK_DATABASE_URL"] = api_warehouse
    try:
        run("evaluation_job")
    finally:
        if saved is None:
            os.environ.pop("AZAK_DATABASE_URL", None)
        else:
            os.environ["AZAK_DATABASE_URL"] = saved
    yield {"baseline_id": baseline_id, "rival_id": rival_id, "ab_id": ab_id, "reports": len(reports) - 1}


__all__ = ["reset_schemas"]


@contextmanager
def serving(settings: Settings, app: Litestar | None = None) -> Iterator[str]:
    """The real app (``app``, or one built from ``settings``) behind a real uvicorn on a free
    loopback port (in a thread); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app or create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on", proxy_headers=False))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Clock:
    """The app's clock, moved by the test (expiry dates pass without waiting)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()
