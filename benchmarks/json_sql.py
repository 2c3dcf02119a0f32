"""The read routes whose JSON PostgreSQL writes (azak_api/json_sql.py), before and after, uncached,
in the same run.

Each round serves the API twice, one uvicorn worker each (CPU 0; the load from this process on
CPU 1, as benchmarks/api.py does it): *before* runs the API of a git revision (``--before``,
default ``main``: its ``azak_api`` and ``azak_core`` extracted with ``git archive`` into a
temporary folder that uvicorn loads first, ``--app-dir``), *after* the working tree's. Every route
answers from PostgreSQL each time (``AZAK_CACHE_TTLS`` with every route at 0), no
``Accept-Encoding``. Rounds alternate before and after, so a change in the shared machine's load
hits both alike; the report gives each round's rates, p99 and the CPU per request of the uvicorn
worker and of the embedded PostgreSQL (psutil, over the timed window: the figures the machine's load
moves least), the median ratios after/before, and whether each route answered the same bytes before
and after (no ``Accept-Encoding``).
With ``--postgres-cpu 1`` the embedded PostgreSQL (its postmaster, so every backend it forks) runs on
CPU 1 beside the load, not on the worker's core: unpinned, Linux tends to wake a backend on the CPU
of the worker that just wrote to it, and the two then share CPU 0 while CPU 1 idles (the figures in
docs/figures.md say which way each run was made).
The bare Litestar endpoints of benchmarks/api.py (a tiny object; the prices route's own document,
encoded by msgspec per request) are measured in the same run as the ceiling.

Needs the demo's warehouse and Milvus (``azak demo --no-serve`` with the same AZAK_HOME, or
AZAK_DATABASE_URL / AZAK_MILVUS_URI).

    python -m benchmarks.json_sql [--seconds 8] [--connections 16] [--rounds 2] [--before main] [--only similar …]
                                  [--postgres-cpu 1]
"""

import os
import statistics
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import httpx
import psutil
import psycopg

from azak_api.settings import DEFAULT_CACHE_TTLS
from benchmarks.api import EMAIL, PASSWORD, PRICES, ROOT, Load, _pin, demo_copy, drive, load_arguments, served, setup
from benchmarks.common import load_average, report
from benchmarks.similar import LATEST_WITH_NEIGHBOURS, ServerCpu

ROUTES = {"prices": PRICES, "news list": "/api/news", "stock detail": "/api/stocks/005930",
          "dashboard": "/api/dashboard/summary", "stock page": "/api/stocks/005930/page"}


def revision_tree(revision: str, into: Path, packages: tuple[str, ...] = ("azak_api", "azak_core")) -> str:
    """``packages`` as they are at ``revision``, under ``into``; its commit."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", commit, *packages], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit


Measured = tuple[Load, float, float]  # the load, the worker's and PostgreSQL's CPU ms per request


def round_of(env: dict[str, str], app_dir: Path | None, routes: dict[str, str], connections: int,
             seconds: float, home: Path, bodies: dict[str, set[bytes]]) -> dict[str, Measured | str]:
    """Every route on one freshly served API (``app_dir``: the revision's code, else the tree's);
    each route's answer (no ``Accept-Encoding``) is added to ``bodies``."""
    extra = ["--app-dir", str(app_dir)] if app_dir else []
    with served("azak_api.app:create_app", env, factory=True, extra=extra) as port:
        login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        loads: dict[str, Measured | str] = {}
        for name, path in routes.items():
            answer = httpx.get(f"http://127.0.0.1:{port}{path}", headers={**auth, "Accept-Encoding": "identity"},
                               timeout=60)
            if answer.status_code == 200:
                bodies.setdefault(name, set()).add(answer.content)
            cpu = ServerCpu(home, seconds)
            try:
                load = drive(port, path, auth, connections, seconds)
            except RuntimeError as error:  # a non-200 answer (e.g. milvus-lite starved on a loaded machine)
                loads[name] = str(error)[:160]
                cpu.per_request(1)  # let its timers finish
                continue
            used = cpu.per_request(load.requests)
            loads[name] = (load, used["API"], used.get("PostgreSQL", float("nan")))
        return loads


def pin_postgres(home: Path, cpu: int) -> None:
    """The embedded PostgreSQL's postmaster and its children on ``cpu`` (backends forked later inherit it)."""
    postmaster = psutil.Process(int(next(iter(sorted((home / "pg").glob("**/postmaster.pid")))).read_text().split()[0]))
    for process in [postmaster, *postmaster.children(recursive=True)]:
        process.cpu_affinity([cpu])


def main(seconds: float, connections: int, rounds: int, before: str, only: list[str] | None = None,
         postgres_cpu: int | None = None) -> None:
    from azak_cli.runtime import environment

    _pin(1)
    runtime = environment.resolve()
    rows: list[tuple[str, str]] = []
    try:
        milvus_uri = runtime.ensure_milvus()
        if postgres_cpu is not None:
            pin_postgres(runtime.home, postgres_cpu)
        with demo_copy() as database_url, tempfile.TemporaryDirectory() as scratch:
            with psycopg.connect(database_url) as conn:
                found = conn.execute(LATEST_WITH_NEIGHBOURS).fetchone()
            routes = dict(ROUTES)
            if found is not None:
                routes["similar"] = f"/api/news/{found[0]}/similar"
            routes = {name: path for name, path in routes.items() if not only or name in only}
            commit = revision_tree(before, Path(scratch) / "before")
            env = {k: v for k, v in os.environ.items() if not k.startswith("AZAK_")}
            env.update({"AZAK_DATABASE_URL": database_url, "AZAK_JWT_SECRET": "benchmark-" + "x" * 40,
                        "AZAK_ENV": "development", "AZAK_MILVUS_URI": milvus_uri,
                        "AZAK_CACHE_TTLS": ",".join(f"{name}=0" for name in DEFAULT_CACHE_TTLS),
                        "AZAK_BENCH_PAYLOAD": str(Path(scratch) / "prices.json"), "PYTHONDONTWRITEBYTECODE": "1"})
            measured: dict[str, list[tuple[Measured, Measured]]] = {name: [] for name in routes}
            bodies: tuple[dict[str, set[bytes]], dict[str, set[bytes]]] = ({}, {})
            for number in range(1, rounds + 1):
                old = round_of(env, Path(scratch) / "before", routes, connections, seconds, runtime.home, bodies[0])
                new = round_of(env, None, routes, connections, seconds, runtime.home, bodies[1])
                for name in routes:
                    before_, after_ = old[name], new[name]
                    if isinstance(before_, tuple) and isinstance(after_, tuple):
                        measured[name].append((before_, after_))
                    rows.append((f"{name}, round {number}", f"before {_line(before_)}; after {_line(after_)}; "
                                                            f"load average {load_average()}"))
            for name, pairs in measured.items():
                if not pairs:
                    continue
                rate = statistics.median(n[0].rps / o[0].rps for o, n in pairs)
                p99 = statistics.median(n[0].percentile(0.99) / o[0].percentile(0.99) for o, n in pairs)
                cpu = statistics.median(n[1] / o[1] for o, n in pairs)
                database = statistics.median(n[2] / o[2] for o, n in pairs)
                rows.append((f"{name}: after / before", f"rate {rate:.2f}×, p99 {p99:.2f}×, worker CPU per request "
                                                        f"{cpu:.2f}×, PostgreSQL CPU per request {database:.2f}× "
                                                        f"(medians of {len(pairs)} rounds); {routes[name]}"))
            for name in routes:
                old_bodies, new_bodies = bodies[0].get(name, set()), bodies[1].get(name, set())
                same = old_bodies == new_bodies and len(new_bodies) == 1
                rows.append((f"{name}: answers", f"{'the same bytes' if same else 'DIFFERENT'} before and after "
                                                 f"({', '.join(f'{len(b):,} B' for b in new_bodies)})"))
            if measured.get("prices"):
                _bare(env, connections, seconds, [(o[0], n[0]) for o, n in measured["prices"]], rows)
            placed = f"PostgreSQL on CPU {postgres_cpu}" if postgres_cpu is not None else "PostgreSQL unpinned"
            rows.append(("setup", f"{setup(seconds, connections)}, {placed}; before = {before} ({commit}), every "
                                  "route uncached, no Accept-Encoding"))
    finally:
        runtime.stop_if_started()
    report("JSON written by PostgreSQL, before and after (benchmarks/json_sql.py)", rows)


def _line(measured: Measured | str) -> str:
    if isinstance(measured, str):
        return f"FAILED: {measured}"
    load, cpu_ms, database_ms = measured
    return f"{load.line()}, CPU per request: worker {cpu_ms:.2f} ms, PostgreSQL {database_ms:.2f} ms"


def _bare(env: dict[str, str], connections: int, seconds: float,
          prices: list[tuple[Load, Load]], rows: list[tuple[str, str]]) -> None:
    """The bare Litestar baselines in the same run, and the prices route's ratio to them."""
    with served("azak_api.app:create_app", env, factory=True) as port:
        login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        token = login.json()["access_token"]
        Path(env["AZAK_BENCH_PAYLOAD"]).write_bytes(
            httpx.get(f"http://127.0.0.1:{port}{PRICES}", headers={"Authorization": f"Bearer {token}"}).content)
    with served("benchmarks.bare_app:app", env) as port:
        tiny = drive(port, "/bare", {}, connections, seconds)
        same = drive(port, "/bare/prices", {}, connections, seconds)
    after = statistics.median(n.rps for _, n in prices)
    before = statistics.median(o.rps for o, _ in prices)
    rows.append(("bare Litestar, tiny JSON", f"{tiny.line()}; load average {load_average()}"))
    rows.append(("bare Litestar, the prices document", f"{same.line()}; load average {load_average()}"))
    rows.append(("prices / bare same document", f"after {after / same.rps:.2f}×, before {before / same.rps:.2f}× "
                                                f"(median rates); after {after / tiny.rps:.2f}× bare tiny"))


if __name__ == "__main__":
    parser = load_arguments(__doc__ or "", seconds=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", default="main", help="the git revision to measure as before")
    parser.add_argument("--only", nargs="*", choices=[*ROUTES, "similar"], help="measure these routes alone")
    parser.add_argument("--postgres-cpu", type=int, help="run the embedded PostgreSQL on this CPU only")
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.connections, arguments.rounds, arguments.before, arguments.only,
         arguments.postgres_cpu)
