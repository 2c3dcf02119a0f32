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
* uncached — ``AZAK_CACHE_TTLS=similar=0``: per request the article with its vector from
  PostgreSQL (``computed.news_vectors``), one filtered Milvus search, two more warehouse queries
  for the neighbours; with the default pool of Milvus clients (azak_api/similar/index.py), measured
  with the same connections and with one (the time of one request, without queueing);
* uncached with ``?stock=`` (the article's first stock): the search also filters on
  ``stock_codes like "%|…|%"`` (azak_core.vectors.mentions_stock);
* the baseline, in the same run — the article's row deleted from the copy's
  ``computed.news_vectors``, so the API asks Milvus for the vector first (a ``get``, then the
  search: two Milvus calls, as before the vectors were kept in PostgreSQL), with
  ``AZAK_MILVUS_CLIENTS=1`` (one Milvus call at a time per process, as before the pool): the path
  issue 23 measured at 105–137 req/s; then the same two calls with the pool;
* ratios: uncached / baseline at the same connections.

Milvus is the demo's (the embedded milvus-lite under AZAK_HOME, started if it is not running), so
run ``azak demo --no-serve`` first, with the same AZAK_HOME / AZAK_PG_PORT / AZAK_MILVUS_PORT (or
AZAK_DATABASE_URL / AZAK_MILVUS_URI).

    python -m benchmarks.similar [--seconds 10] [--connections 16]
"""

import os

import httpx
import psycopg

from azak_core.vectors import PREFIX, milvus_client
from benchmarks.api import EMAIL, PASSWORD, PRICES, _pin, command_line, demo_copy, drive, served, setup
from benchmarks.common import load_average, report

LATEST_WITH_NEIGHBOURS = """
    SELECT a.news_id, a.stock_codes FROM marts.news_articles a
    WHERE cardinality(a.stock_codes) > 0
      AND EXISTS (SELECT 1 FROM computed.similar_news s WHERE s.news_id = a.news_id AND s.rank = 10)
    ORDER BY a.published_at DESC, a.news_id DESC LIMIT 1"""


def collection_sizes(uri: str) -> str:
    client = milvus_client(uri)
    try:
        return ", ".join(f"{name} {client.get_collection_stats(name)['row_count']:,} vectors"
                         for name in client.list_collections() if name.startswith(PREFIX))
    finally:
        client.close()


def measure(env: dict[str, str], label: str, extra: dict[str, str], path: str, counts: list[int],
            connections: int, seconds: float, rows: list[tuple[str, str]],
            throughput: dict[tuple[str, str, int], float]) -> None:
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
            load = drive(port, path, auth, count, seconds)
            throughput[label, path, count] = load.rps
            line = f"{load.line()}, {neighbours} neighbours; {count} connection{'s' * (count > 1)}"
            if baseline is not None:
                line += f"; {load.rps / baseline.rps:.2f}× the cached prices route in the same server"
            rows.append((f"{path} {label}", f"{line}; load average {load_average()}"))
        if baseline is not None:
            rows.append((f"{PRICES} cached (memory), same server", f"{baseline.line()}; load average {load_average()}"))


def main(seconds: float = 10.0, connections: int = 16) -> None:
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
            similar = f"/api/news/{news_id}/similar"
            env = {k: v for k, v in os.environ.items() if not k.startswith("AZAK_")}
            env.update({k: v for k, v in os.environ.items() if k == "AZAK_EMBEDDER" or k.startswith("AZAK_OPENAI_")})
            env.update({"AZAK_DATABASE_URL": database_url, "AZAK_JWT_SECRET": "benchmark-" + "x" * 40,
                        "AZAK_ENV": "development", "AZAK_MILVUS_URI": milvus_uri})
            uncached = {"AZAK_CACHE_TTLS": "similar=0"}
            serialised = {**uncached, "AZAK_MILVUS_CLIENTS": "1"}
            kept = [("cached (memory)", {}, similar, [connections]),
                    ("uncached", uncached, similar, [connections, 1]),
                    ("uncached", uncached, f"{similar}?stock={stocks[0]}", [connections, 1])]
            two_calls = [("baseline: uncached, vector from Milvus, 1 client", serialised, similar, [connections]),
                         ("uncached, vector from Milvus", uncached, similar, [connections])]
            rows: list[tuple[str, str]] = []
            throughput: dict[tuple[str, str, int], float] = {}
            for label, extra, path, counts in kept:
                measure(env, label, extra, path, counts, connections, seconds, rows, throughput)
            with psycopg.connect(database_url) as conn:
                conn.execute("DELETE FROM computed.news_vectors WHERE news_id = %s", (news_id,))
            for label, extra, path, counts in two_calls:
                measure(env, label, extra, path, counts, connections, seconds, rows, throughput)
            baseline = throughput[two_calls[0][0], similar, connections]
            for label in ("uncached", two_calls[1][0]):
                rows.append((f"{similar} {label} / baseline",
                             f"{throughput[label, similar, connections] / baseline:.2f}× at {connections} connections"))
    finally:
        runtime.stop_if_started()
    rows.append(("setup", f"{setup(seconds, connections)}; Milvus {milvus_uri} ({sizes})"))
    report("similar news on loopback (benchmarks/similar.py)", rows)


if __name__ == "__main__":
    command_line(main, __doc__ or "")
