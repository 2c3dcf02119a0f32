"""``GET /api/news/{id}/similar`` on loopback, cached and uncached, the way benchmarks/api.py measures
the prices route (and with its helpers): a copy of the demo's warehouse, one uvicorn worker pinned
to CPU 0, keep-alive connections in a closed loop from this process on CPU 1, a warm-up, then a
timed window; every answer must be 200.

The article is the demo's latest with a linked stock and ten earlier neighbours in
``computed.similar_news`` (its point-in-time filter, published before it, admits nearly the whole
collection). Variants, each
in a fresh server:

* cached   — the response cache on (memory), default ``k`` and threshold; in the same server, the
  cached prices route of benchmarks/api.py as the baseline;
* uncached — ``AZAK_CACHE_TTLS=similar=0``: per request one query, the article with its stored
  neighbours (``computed.similar_news``, current per ``computed.similar_news_days``) as the whole
  JSON answer, no Milvus call; measured with the same connections and with one (the time of one
  request, without queueing);
* uncached, searched — the same with ``min_similarity`` given (the default threshold, the same
  answer): the article with its vector from PostgreSQL (``computed.news_vectors``), one filtered
  Milvus search on the default pool of Milvus clients (azak_api/similar/index.py), one more
  warehouse query for the neighbours;
* uncached with ``?stock=`` (the article's first stock): the search also filters on
  ``stock_codes like "%|…|%"`` (azak_core.vectors.mentions_stock);
* the baseline against uncached at the same connections, alternately, three rounds, each in a
  fresh server (a change in the shared machine's load hits both alike): the baseline is the
  article's row deleted from the copy's ``computed.news_vectors``, so the API asks Milvus for the
  vector first (a ``get``, then the search: two Milvus calls, as before the vectors were kept in
  PostgreSQL), with ``AZAK_MILVUS_CLIENTS=1`` (one Milvus call at a time per process, as before
  the pool) — the path issue 23 measured at 105–137 req/s, except that its neighbours already come
  in one query. Per round: the ratio of the rates and of the CPU per request, and their medians.

Each load run also reports the CPU a request cost in the uvicorn worker, milvus-lite and
PostgreSQL over the timed window (psutil).

Milvus is the demo's (the embedded milvus-lite under AZAK_HOME, started if it is not running), so
run ``azak demo --no-serve`` first, with the same AZAK_HOME / AZAK_PG_PORT / AZAK_MILVUS_PORT (or
AZAK_DATABASE_URL / AZAK_MILVUS_URI).

    python -m benchmarks.similar [--seconds 10] [--connections 16]
"""

import contextlib
import os
import statistics
import threading
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from azak_core.vectors import MIN_SIMILARITY, PREFIX, milvus_client
from benchmarks.api import EMAIL, PASSWORD, PRICES, _pin, command_line, demo_copy, drive, served, setup
from benchmarks.common import load_average, report

LATEST_WITH_NEIGHBOURS = """
    SELECT a.news_id, a.stock_codes FROM marts.news_articles a
    WHERE cardinality(a.stock_codes) > 0
      AND EXISTS (SELECT 1 FROM computed.similar_news s WHERE s.news_id = a.news_id AND s.rank = 10)
    ORDER BY a.published_at DESC, a.news_id DESC LIMIT 1"""

STORED_EMBEDDER = ("SELECT split_part(embedder, '@', 1) FROM computed.similar_news_days "
                   "WHERE neighbours_searched_at IS NOT NULL LIMIT 1")
VECTOR_STORAGE = "SELECT count(*), avg(length(vector)), avg(pg_column_size(vector)) FROM computed.news_vectors"


def collection_sizes(uri: str) -> str:
    client = milvus_client(uri)
    try:
        return ", ".join(f"{name} {client.get_collection_stats(name)['row_count']:,} vectors"
                         for name in client.list_collections() if name.startswith(PREFIX))
    finally:
        client.close()


class ServerCpu:
    """CPU seconds of the processes serving a request — the uvicorn worker (a child of this
    process), the embedded milvus-lite and the embedded PostgreSQL (each with its children) — over
    the timed window of a load run (after drive()'s 2 s warm-up). On a shared machine the rates move
    with the load; the CPU a request costs does not, much."""

    def __init__(self, home: Path, seconds: float):
        self.groups: dict[str, list[int]] = {"API": [p.pid for p in psutil.Process().children()
                                                     if "uvicorn" in " ".join(p.cmdline())]}
        for name, pid_file in (("Milvus", home / "milvus" / "milvus.pid"),
                               ("PostgreSQL", next(iter(sorted((home / "pg").glob("**/postmaster.pid"))), None))):
            if pid_file is not None and pid_file.exists():
                self.groups[name] = [int(pid_file.read_text().split()[0])]
        self.marks: list[dict[str, dict[int, float]]] = []
        self.timers = [threading.Timer(delay, self.mark) for delay in (2.0, 2.0 + seconds)]
        for timer in self.timers:
            timer.start()

    def mark(self) -> None:
        used: dict[str, dict[int, float]] = {}
        for name, pids in self.groups.items():
            used[name] = {}
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    for process in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            times = process.cpu_times()
                            # a child that exited (a PostgreSQL backend of a closed connection) is
                            # counted in its parent's reaped-children times, not lost
                            used[name][process.pid] = (times.user + times.system + times.children_user
                                                       + times.children_system)
        self.marks.append(used)

    def per_request(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request, per group."""
        for timer in self.timers:
            timer.join()
        start, end = self.marks
        return {name: 1000 * sum(t - start[name].get(pid, 0.0) for pid, t in end[name].items()) / requests
                for name in end}


def cpu_line(cpu: dict[str, float]) -> str:
    return ("CPU per request " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items())
            + f", total {sum(cpu.values()):.2f} ms")


def measure(env: dict[str, str], label: str, extra: dict[str, str], path: str, counts: list[int],
            connections: int, seconds: float, home: Path, rows: list[tuple[str, str]],
            throughput: dict[tuple[str, str, int], float], cpu_ms: dict[tuple[str, str, int], float]) -> None:
    """One variant in a fresh server: its rates at each connection count (the cached one beside
    the cached prices route in the same server)."""
    with served("azak_api.app:create_app", {**env, **extra}, factory=True) as port:
        login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answer = httpx.get(f"http://127.0.0.1:{port}{path}", headers=auth, timeout=60)
        answer.raise_for_status()
        neighbours = len(answer.json()["items"])
        baseline = drive(port, PRICES, auth, connections, seconds) if not extra else None
        for count in counts:
            cpu = ServerCpu(home, seconds)
            load = drive(port, path, auth, count, seconds)
            throughput[label, path, count] = load.rps
            used = cpu.per_request(load.requests)
            cpu_ms[label, path, count] = sum(used.values())
            line = (f"{load.line()}, {neighbours} neighbours; {count} connection{'s' * (count > 1)}; "
                    f"{cpu_line(used)}")
            if baseline is not None:
                line += f"; {load.rps / baseline.rps:.2f}× the cached prices route in the same server"
            rows.append((f"{path} {label}", f"{line}; load average {load_average()}"))
        if baseline is not None:
            rows.append((f"{PRICES} cached (memory), same server", f"{baseline.line()}; load average {load_average()}"))


BASELINE = "baseline: uncached, vector from Milvus, 1 client"


def paired(database_url: str, news_id: int, rounds: int, uncached: dict[str, str], load: tuple[Any, ...]) -> None:
    """The baseline and the new path at the same connections, alternately, each in a fresh
    server, ``rounds`` times: a change in the machine's load hits both alike. The baseline is
    the article without its kept vector (the API gets it from Milvus first) and one Milvus client."""
    env, similar, connections, seconds, home, rows, throughput, cpu_ms = load
    with psycopg.connect(database_url) as conn:
        embedder, vector = conn.execute("SELECT embedder, vector FROM computed.news_vectors WHERE news_id = %s",
                                        (news_id,)).fetchone()
    rates, cpus = [], []
    for number in range(1, rounds + 1):
        for label, extra, kept in ((BASELINE, {**uncached, "AZAK_MILVUS_CLIENTS": "1"}, False),
                                   ("uncached", uncached, True)):
            with psycopg.connect(database_url) as conn:
                conn.execute("DELETE FROM computed.news_vectors WHERE news_id = %s", (news_id,))
                if kept:
                    conn.execute("INSERT INTO computed.news_vectors SELECT news_id, published_day, %s, %s FROM "
                                 "marts.news_articles WHERE news_id = %s", (embedder, vector, news_id))
            measure(env, f"{label}, round {number}", extra, similar, [connections], connections, seconds, home,
                    rows, throughput, cpu_ms)
        key, base = (f"uncached, round {number}", similar, connections), (f"{BASELINE}, round {number}", similar,
                                                                          connections)
        rates.append(throughput[key] / throughput[base])
        cpus.append(cpu_ms[key] / cpu_ms[base])
    rows.append((f"{similar} uncached / baseline, per round",
                 f"rate {', '.join(f'{r:.2f}×' for r in rates)} (median {statistics.median(rates):.2f}×); "
                 f"CPU per request {', '.join(f'{c:.2f}×' for c in cpus)} (median {statistics.median(cpus):.2f}×); "
                 f"{connections} connections"))


def main(seconds: float = 10.0, connections: int = 16, rounds: int = 3) -> None:
    from azak_cli.runtime import environment

    _pin(1)
    runtime = environment.resolve()
    try:
        milvus_uri = runtime.ensure_milvus()
        sizes = collection_sizes(milvus_uri)
        with demo_copy() as database_url:
            with psycopg.connect(database_url) as conn:
                found = conn.execute(LATEST_WITH_NEIGHBOURS).fetchone()
            if found is None:
                raise SystemExit("no linked article with ten neighbours in computed.similar_news: "
                                 "run `azak demo --no-serve`")
            news_id, stocks = found
            with psycopg.connect(database_url) as conn:
                kept_vectors = conn.execute(VECTOR_STORAGE).fetchone()
                stamped = conn.execute("SELECT to_regclass('computed.similar_news_days') IS NOT NULL").fetchone()
                embedder = conn.execute(STORED_EMBEDDER).fetchone() if stamped and stamped[0] else None
            if embedder is None:
                raise SystemExit("no stored neighbours marked current (computed.similar_news_days): materialize "
                                 "computed/similar_news again, e.g. `azak demo --no-serve` with this code")
            threshold = MIN_SIMILARITY[embedder[0]]
            similar = f"/api/news/{news_id}/similar"
            env = {k: v for k, v in os.environ.items() if not k.startswith("AZAK_")}
            env.update({k: v for k, v in os.environ.items() if k == "AZAK_EMBEDDER" or k.startswith("AZAK_OPENAI_")})
            env.update({"AZAK_DATABASE_URL": database_url, "AZAK_JWT_SECRET": "benchmark-" + "x" * 40,
                        "AZAK_ENV": "development", "AZAK_MILVUS_URI": milvus_uri})
            uncached = {"AZAK_CACHE_TTLS": "similar=0"}
            variants = [("cached (memory)", {}, similar, [connections]),
                        ("uncached", uncached, similar, [1]),
                        ("uncached, searched", uncached, f"{similar}?min_similarity={threshold}", [connections, 1]),
                        ("uncached", uncached, f"{similar}?stock={stocks[0]}", [connections, 1])]
            rows: list[tuple[str, str]] = []
            throughput: dict[tuple[str, str, int], float] = {}
            cpu_ms: dict[tuple[str, str, int], float] = {}
            for label, extra, path, counts in variants:
                measure(env, label, extra, path, counts, connections, seconds, runtime.home, rows, throughput, cpu_ms)
            load = (env, similar, connections, seconds, runtime.home, rows, throughput, cpu_ms)
            paired(database_url, news_id, rounds, uncached, load)
    finally:
        runtime.stop_if_started()
    rows.append(("setup", f"{setup(seconds, connections)}; Milvus {milvus_uri} ({sizes})"))
    rows.append(("computed.news_vectors", "{:,} vectors of {:,.0f} bytes, {:,.0f} bytes each as stored (TOAST "
                                          "compression)".format(*kept_vectors)))
    report("similar news on loopback (benchmarks/similar.py)", rows)


if __name__ == "__main__":
    command_line(main, __doc__ or "")
