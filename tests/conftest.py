"""Shared fixtures: a real PostgreSQL for every test that needs one.

The server is the one in ``AZAK_DATABASE_URL`` (CI points it at the machine's PostgreSQL 15) or,
when that is unset, the embedded server the project manages. Tests never touch the database named
in the URL: each test session creates its own throw-away databases on that server.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage

from azak_cli.runtime import environment
from azak_cli.runtime.postgres import PgUrl, drop_database, ensure_database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent
APP_SCHEMAS = ("raw", "computed", "staging", "marts", "ops", "app")


def free_port() -> int:
    """A port free now and below the kernel's ephemeral range (32768+ on Linux): servers started
    minutes later (the demo's PostgreSQL) must not find it taken by some client connection's
    kernel-assigned local port, as a port from ``bind(0)`` can be."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def _xdist_worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _worker() -> str:
    """This process's name in database names: ``AZAK_TEST_DB_PREFIX`` (default ``azak_test``)
    keeps concurrent suites on one server (several checkouts) out of each other's databases."""
    prefix = os.environ.get("AZAK_TEST_DB_PREFIX", "").strip() or "azak_test"
    return f"{prefix}_{_xdist_worker()}"


_STARTED_EMBEDDED: list[bool] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """Without AZAK_DATABASE_URL the suite uses the embedded server: the controlling process
    starts it once (before any xdist worker) and stops it at the end if it started it."""
    if os.environ.get("AZAK_DATABASE_URL", "").strip() or _xdist_worker() != "main":
        return
    _STARTED_EMBEDDED.append(environment.embedded_postgres().start())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _xdist_worker() == "main" and any(_STARTED_EMBEDDED):
        environment.embedded_postgres().stop()


@pytest.fixture(autouse=True)
def _no_defs_state_storage_in_context() -> Iterator[None]:
    """Each test starts as a fresh process would: with no Dagster defs-state storage in context.
    `with instance:` puts an instance's storage in a context variable; in CI, some earlier test of
    the same xdist worker left one whose instance was gone, and every later definitions load in
    that worker failed ("Attempted to resolve undefined DagsterInstance weakref"). The test that
    leaks it was not found (three pairings tried in isolation); the code location keeps no state."""
    with set_defs_state_storage(None):
        yield


@pytest.fixture(scope="session")
def pg_server() -> PgUrl:
    """The PostgreSQL server under test (its maintenance database)."""
    raw = os.environ.get("AZAK_DATABASE_URL", "").strip()
    if raw:
        return PgUrl.parse(raw).with_database("postgres")
    embedded = environment.embedded_postgres()
    embedded.start()  # a no-op when the session already started it
    return embedded.url("postgres")


def _fresh_database(server: PgUrl, name: str) -> PgUrl:
    url = server.with_database(name)
    drop_database(url)
    ensure_database(url)
    return url


@pytest.fixture(scope="session")
def database(pg_server: PgUrl) -> Iterator[PgUrl]:
    """A database of this test session's own."""
    url = _fresh_database(pg_server, _worker())
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def dagster_database(pg_server: PgUrl) -> Iterator[PgUrl]:
    url = _fresh_database(pg_server, f"{_worker()}_dagster")
    yield url
    drop_database(url)


def reset_schemas(url: PgUrl) -> None:
    with psycopg.connect(url.render(), autocommit=True) as conn:
        for schema in APP_SCHEMAS:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def db_url(database: PgUrl, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty warehouse, exported as AZAK_DATABASE_URL for the code under test."""
    reset_schemas(database)
    monkeypatch.setenv("AZAK_DATABASE_URL", database.render())
    return database.render()


@pytest.fixture
def dagster_home(tmp_path: Path, dagster_database: PgUrl,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real Dagster instance (the project's dagster.yaml) on a throw-away PostgreSQL database."""
    with psycopg.connect(dagster_database.render(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_database.render("postgresql+psycopg2"))
    return home


@pytest.fixture
def shared_data() -> Path:
    """The team's shared development data; tests using it skip when ../shared is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present beside the project")
    return SHARED_DATA


def run_azak(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
             cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    """Run the real `azak` console script."""
    return subprocess.run([str(BIN / "azak"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd)


@pytest.fixture
def warehouse_with_stocks(db_url) -> str:
    """An empty warehouse with the raw reference tables (universe and calendar) materialized."""
    from tests.pipelines.runs import run

    run("reference_job", assets=["raw/stocks", "raw/trading_calendar"])
    return db_url


@pytest.fixture
def replay(monkeypatch) -> None:
    """Force replay mode whatever credentials the machine has."""
    monkeypatch.setenv("AZAK_SOURCE_MODE", "replay")
    for name in ("AZAK_KIS_MODE", "AZAK_DART_MODE", "AZAK_NAVER_MODE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real embedded Milvus (milvus-lite run as a server, as `azak` runs it) for this test
    session: a free port, a throw-away data directory."""
    from azak_cli.runtime.milvus import EmbeddedMilvus

    server = EmbeddedMilvus(tmp_path_factory.mktemp("milvus"), free_port())
    server.start()
    yield server.uri
    server.stop()


def schema_1_collection(uri: str, embedder_key: str, dimension: int, entities: list[dict]) -> str:
    """The embedder's collection as schema 1 wrote it (stock codes as ARRAY<VARCHAR>, no version in
    the name), holding ``entities``: what a Milvus filled before SCHEMA_VERSION 2 still has."""
    from pymilvus import DataType, MilvusClient

    from azak_core.vectors import INDEX, collection_name, milvus_client

    name = collection_name(embedder_key, schema_version=1)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    for field in ("published_day", "published_at", "cluster_id"):
        schema.add_field(field, DataType.INT64)
    schema.add_field("stock_codes", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=64, max_length=16)
    schema.add_field("source", DataType.VARCHAR, max_length=64)
    schema.add_field("content_type", DataType.VARCHAR, max_length=16)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    client = milvus_client(uri)
    try:
        index = client.prepare_index_params()
        index.add_index(field_name="vector", index_name="vector", **INDEX)
        client.create_collection(name, schema=schema, index_params=index)
        if entities:
            client.insert(name, entities)
            client.flush(name)
    finally:
        client.close()
    return name


@pytest.fixture
def milvus_uri(milvus_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The session's Milvus, emptied, exported as AZAK_MILVUS_URI; the offline embedder."""
    from azak_core.vectors import milvus_client

    client = milvus_client(milvus_server)
    for name in client.list_collections():
        client.drop_collection(name)
    client.close()
    monkeypatch.setenv("AZAK_MILVUS_URI", milvus_server)
    monkeypatch.setenv("AZAK_EMBEDDER", "offline")
    yield milvus_server
