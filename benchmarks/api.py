"""API throughput and latency on loopback, one uvicorn worker, against a bare Litestar endpoint
measured in the same run.

Serves, one after the other and each with one uvicorn worker (pinned to CPU 0 when there are two):

* bare     — benchmarks/bare_app.py, no auth, no database, no cache: a tiny JSON object, and the
  same document the prices route returns (so the ratio isolates what auth and the cache cost);
* cached   — the real app, ``GET /api/stocks/005930/prices`` (a year of daily bars with the mart's
  indicators, ~250 rows) with a bearer token, the response cache on (memory; and Redis too when
  AZAK_REDIS_URL is set);
* uncached — the same request with ``AZAK_CACHE_TTLS=prices=0``: every request queries PostgreSQL.

The load comes from this process (pinned to CPU 1): keep-alive HTTP/1.1 connections in a closed
loop, a warm-up, then a timed window; every answer must be 200. The data is a copy of the demo's
warehouse (``CREATE DATABASE … TEMPLATE``), so run ``azak demo --no-serve`` first.

    python -m benchmarks.api [--seconds 10] [--connections 16]
"""

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from azak_pipelines.lib.warehouse import table_exists
from benchmarks.common import percentile, report

ROOT = Path(__file__).resolve().parents[1]
UVICORN = Path(sys.executable).parent / "uvicorn"
PRICES = "/api/stocks/005930/prices"
LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
EMAIL, PASSWORD = "bench@azak.local", "benchmark-password-1"


@dataclass
class Load:
    requests: int
    seconds: float
    latencies: list[float]
    body_bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def line(self) -> str:
        return (f"{self.rps:,.0f} req/s, p50 {self.percentile(0.5):.1f} ms, p99 {self.percentile(0.99):.1f} ms"
                f" ({self.requests:,} requests, {self.body_bytes:,} B each)")


async def _drive(port: int, path: str, headers: dict[str, str], connections: int,
                 warmup: float, seconds: float) -> Load:
    lines = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"127.0.0.1:{port}", **headers}.items())
    request = f"GET {path} HTTP/1.1\r\n{lines}\r\n".encode()
    latencies: list[float] = []
    sizes: set[int] = set()
    start = time.perf_counter() + warmup
    stop = finished = start + seconds

    async def connection() -> None:
        nonlocal finished
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        measured = False  # a request slower than the window is still measured, once per connection
        try:
            while (now := time.perf_counter()) < stop or not measured:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                found = LENGTH.search(head)
                body = await reader.readexactly(int(found.group(1))) if found else b""
                if head[9:12] != b"200":
                    raise RuntimeError(f"GET {path} answered {head[9:12].decode()}: {body[:300]!r}")
                if now >= start:
                    measured = True
                    latencies.append(time.perf_counter() - now)
                    sizes.add(len(body))
                    finished = max(finished, time.perf_counter())
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return Load(len(latencies), finished - start, latencies, max(sizes))


def drive(port: int, path: str, headers: dict[str, str], connections: int, seconds: float) -> Load:
    import uvloop

    return uvloop.run(_drive(port, path, headers, connections, warmup=2.0, seconds=seconds))


def _pin(cpu: int, pid: int = 0) -> None:
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(pid, {cpu})


@contextmanager
def served(target: str, env: dict[str, str], factory: bool = False, extra: Sequence[str] = ()) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(UVICORN), target, *(["--factory"] if factory else []), "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning", *extra]
    # pinned from here, not by a preexec_fn: a fork of this process (which holds gRPC threads once
    # it has talked to Milvus) aborts in gRPC's fork handler before it can exec
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    _pin(0, process.pid)
    try:
        deadline = time.monotonic() + 180  # a loaded machine imports the app slowly
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited with code {process.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not start within 180 s") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def demo_copy() -> Iterator[str]:
    """A throw-away copy of the demo's warehouse, with a benchmark user."""
    from azak_api.admin import upsert_user
    from azak_cli.runtime import environment

    runtime = environment.resolve()
    source = runtime.database
    with psycopg.connect(source.render()) as conn:
        if not table_exists(conn, "marts.daily_prices"):
            sys.exit(f"no marts in {source.database}: run `azak demo --no-serve` first")
    copy = source.with_database(f"{source.database}_bench_api")  # beside the demo's, one per warehouse
    with psycopg.connect(source.with_database("postgres").render(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy.database)))
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy.database), sql.Identifier(source.database)))
        except psycopg.errors.ObjectInUse:
            sys.exit(f"{source.database} is in use (is `azak demo` serving?): stop it to copy the warehouse")
    try:
        upsert_user(copy.render(), EMAIL, PASSWORD, admin=False, reset=True)
        yield copy.render()
    finally:
        with psycopg.connect(source.with_database("postgres").render(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy.database)))
        runtime.stop_if_started()


def main(seconds: float = 10.0, connections: int = 16) -> None:
    _pin(1)
    with demo_copy() as database_url, tempfile.TemporaryDirectory() as scratch:
        payload = Path(scratch) / "prices.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZAK_")}
        env.update({"AZAK_DATABASE_URL": database_url, "AZAK_JWT_SECRET": "benchmark-" + "x" * 40,
                    "AZAK_ENV": "development", "AZAK_BENCH_PAYLOAD": str(payload)})
        variants = [("cached (memory)", {})]
        if os.environ.get("AZAK_REDIS_URL"):
            variants.append(("cached (Redis)", {"AZAK_REDIS_URL": os.environ["AZAK_REDIS_URL"]}))
        variants.append(("uncached (PostgreSQL every time)", {"AZAK_CACHE_TTLS": "prices=0"}))
        measured = []
        for label, extra in variants:
            with served("azak_api.app:create_app", {**env, **extra}, factory=True) as port:
                login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login",
                                   json={"email": EMAIL, "password": PASSWORD})
                login.raise_for_status()
                auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
                if not payload.exists():
                    payload.write_bytes(httpx.get(f"http://127.0.0.1:{port}{PRICES}", headers=auth).content)
                measured.append((f"{PRICES} {label}", drive(port, PRICES, auth, connections, seconds)))
        with served("benchmarks.bare_app:app", env) as port:
            tiny = drive(port, "/bare", {}, connections, seconds)
            same = drive(port, "/bare/prices", {}, connections, seconds)
        rows = [("bare Litestar, tiny JSON", tiny.line()), ("bare Litestar, the same document", same.line())]
        rows += [(label, f"{load.line()}; {load.rps / same.rps:.2f}× bare same document, "
                         f"{load.rps / tiny.rps:.2f}× bare tiny") for label, load in measured]
    rows.append(("setup", setup(seconds, connections)))
    report("API on loopback (benchmarks/api.py)", rows)


def setup(seconds: float, connections: int) -> str:
    """How a load run was set up, for its report."""
    cores = "server on CPU 0, load on CPU 1" if (os.cpu_count() or 1) >= 2 else "one CPU shared"
    return (f"one uvicorn worker each, up to {connections} keep-alive connections, {seconds:.0f} s after a 2 s "
            f"warm-up, {cores}")


def load_arguments(doc: str, seconds: float = 10.0) -> argparse.ArgumentParser:
    """A parser with a load run's ``--seconds`` and ``--connections`` (add a benchmark's own)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--connections", type=int, default=16)
    return parser


def command_line(run: Callable[[float, int], None], doc: str) -> None:
    """``--seconds`` and ``--connections`` from the command line, then ``run``."""
    arguments = load_arguments(doc).parse_args()
    run(arguments.seconds, arguments.connections)


if __name__ == "__main__":
    command_line(main, __doc__ or "")
