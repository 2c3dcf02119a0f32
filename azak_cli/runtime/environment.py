"""Where the platform's state lives and how its processes find each other.

Every ``azak`` command resolves one :class:`Runtime` and hands its ``child_env()`` to the processes it
starts (Dagster webserver, daemon, code server, API), so they all use the same databases and home.
"""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from azak_cli.runtime.milvus import EmbeddedMilvus
from azak_cli.runtime.postgres import (
    SUPERUSER,
    DatabaseConfigError,
    EmbeddedPostgres,
    PgUrl,
    check_connection,
    ensure_database,
)
from azak_core import settings_registry

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE = "azak"


def _int_setting(name: str, default: int) -> int:
    raw = settings_registry.read_or(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DatabaseConfigError(f"{name} must be an integer port number, got {raw!r}") from None
    if not 0 < value < 65536:
        raise DatabaseConfigError(f"{name} must be between 1 and 65535, got {value}")
    return value


@dataclass
class Runtime:
    home: Path
    database: PgUrl
    dagster_database: PgUrl
    embedded: EmbeddedPostgres | None
    started_embedded: bool = False
    milvus_uri: str | None = None
    milvus: EmbeddedMilvus | None = None
    started_milvus: bool = False

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def child_env(self) -> dict[str, str]:
        """The environment for every process the CLI starts."""
        env = dict(os.environ)
        env.update(
            {
                "AZAK_HOME": str(self.home),
                "AZAK_DATABASE_URL": self.database.render(),
                "AZAK_DAGSTER_DATABASE_URL": self.dagster_database.render(),
                # dagster-postgres goes through SQLAlchemy; psycopg2 keeps its LISTEN/NOTIFY working
                "DAGSTER_PG_URL": self.dagster_database.render("postgresql+psycopg2"),
                "DAGSTER_HOME": str(self.dagster_home),
                "AZAK_JWT_SECRET": settings_registry.read("AZAK_JWT_SECRET") or self.demo_jwt_secret(),
            }
        )
        if self.milvus_uri:
            env["AZAK_MILVUS_URI"] = self.milvus_uri
        return env

    def ensure_milvus(self) -> str:
        """``AZAK_MILVUS_URI`` when set, otherwise the embedded Milvus under the home (started if needed)."""
        if self.milvus_uri is None:
            external = settings_registry.read_or("AZAK_MILVUS_URI", "")
            if external:
                self.milvus_uri = external
            else:
                self.milvus = embedded_milvus()
                self.started_milvus = self.milvus.start()
                self.milvus_uri = self.milvus.uri
        return self.milvus_uri

    def apply(self) -> None:
        """Export :meth:`child_env` into this process (for in-process Dagster runs)."""
        os.environ.update(self.child_env())

    def demo_jwt_secret(self) -> str:
        """A secret generated once and kept under the home, for non-production use."""
        path = self.home / "jwt-secret"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48) + "\n")
            path.chmod(0o600)
        return path.read_text().strip()

    def stop_if_started(self) -> None:
        if self.milvus is not None and self.started_milvus:
            self.milvus.stop()
            self.started_milvus = False
        if self.embedded is not None and self.started_embedded:
            self.embedded.stop()
            self.started_embedded = False


def azak_home() -> Path:
    raw = settings_registry.read_or("AZAK_HOME", "")
    return Path(raw).resolve() if raw else PROJECT_ROOT / ".azak"


def embedded_postgres() -> EmbeddedPostgres:
    return EmbeddedPostgres(azak_home() / "pg", _int_setting("AZAK_PG_PORT", 54329))


def embedded_milvus() -> EmbeddedMilvus:
    return EmbeddedMilvus(azak_home() / "milvus", _int_setting("AZAK_MILVUS_PORT", 19530))


def warehouse_address() -> PgUrl:
    """The warehouse as far as it is known before anything starts: ``AZAK_DATABASE_URL``, or the
    embedded server's address and database without its password (a fresh home has none yet)."""
    raw_url = settings_registry.read_or("AZAK_DATABASE_URL", "")
    if raw_url:
        return PgUrl.parse(raw_url, "AZAK_DATABASE_URL")
    return PgUrl(SUPERUSER, "", "127.0.0.1", embedded_postgres().port, DEFAULT_DATABASE)


@contextmanager
def session(apply: bool = False) -> Iterator[Runtime]:
    """The runtime of one command: resolved (the embedded PostgreSQL started if needed), exported
    into this process when the command runs Dagster in it (``apply``), and the servers this
    command started stopped afterwards, whatever happens."""
    runtime = resolve()
    try:
        if apply:
            runtime.apply()
        yield runtime
    finally:
        runtime.stop_if_started()


def resolve(start: bool = True) -> Runtime:
    """Resolve the databases, starting the embedded server when no URL is configured.

    With ``start=False`` the embedded server is only described, not started (``azak db url``
    on a stopped server still prints where it will be).
    """
    home = azak_home()
    raw_url = settings_registry.read_or("AZAK_DATABASE_URL", "")
    embedded: EmbeddedPostgres | None = None
    started = False
    if raw_url:
        database = PgUrl.parse(raw_url, "AZAK_DATABASE_URL")
        if start:
            check_connection(database, "AZAK_DATABASE_URL")
    else:
        embedded = embedded_postgres()
        if start:
            started = embedded.start()
        database = embedded.url(DEFAULT_DATABASE)

    raw_dagster = settings_registry.read_or("AZAK_DAGSTER_DATABASE_URL", "")
    if raw_dagster:
        dagster_database = PgUrl.parse(raw_dagster, "AZAK_DAGSTER_DATABASE_URL")
    else:
        dagster_database = database.with_database(database.database + "_dagster")
    runtime = Runtime(home, database, dagster_database, embedded, started)
    if start:
        if raw_dagster:
            check_connection(dagster_database, "AZAK_DAGSTER_DATABASE_URL")
        ensure_database(database)
        ensure_database(dagster_database)
        _write_dagster_home(runtime)
    return runtime


def _write_dagster_home(runtime: Runtime) -> None:
    """DAGSTER_HOME holds the project's dagster.yaml, so no run lands in a temporary instance."""
    target = runtime.dagster_home
    target.mkdir(parents=True, exist_ok=True)
    source = (PROJECT_ROOT / "dagster.yaml").read_text()
    config = target / "dagster.yaml"
    if not config.exists() or config.read_text() != source:
        config.write_text(source)
