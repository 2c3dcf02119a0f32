"""The API at whole-market size: per route, the uncached time of a request and the cached
throughput, on one uvicorn worker (the way benchmarks/api.py measures, with its helpers).

Routes: a year of daily bars (``/api/stocks/{code}/prices``), the news list (first page, a keyset
page 50,000 articles deep, one stock's first page), a stock's detail and the dashboard — for the
most covered listing (005930) and one in the middle of the coverage ranking. Each is measured in a
server with the response cache on (memory, 16 connections) and in one with it off for these
routes (``AZAK_CACHE_TTLS=…=0``: PostgreSQL every time), with one connection (a request's own
time, no queueing) and with 16.

The data, at the size of the whole market (2,900 listings × ten years of daily bars, ~7.5 M rows;
a million articles over three years with their links; minute bars for 50 stocks):

* ``--database-url URL``: a warehouse already loaded (e.g. by a data generator), measured as it is;
* ``--fill-synthetic``: first replace the marts' rows with synthetic ones (benchmarks/scale_fill.sql:
  generate_series into the tables dbt built, their indexes rebuilt, then VACUUM ANALYZE) — in URL
  when given (its marts are overwritten), else in a throw-away copy of the demo's warehouse
  (run ``azak demo --no-serve`` first).

    python -m benchmarks.api_scale --fill-synthetic [--database-url URL] [--seconds 5] [--connections 16]
"""

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from azak_pipelines.lib.sql_files import load_queries
from benchmarks.api import EMAIL, PASSWORD, Load, _pin, demo_copy, drive, load_arguments, served, setup
from benchmarks.common import load_average, report

FILL = Path(__file__).with_name("scale_fill.sql")
FULL_SIZE = {"stocks": 2900, "years": 10, "articles": 1_000_000, "news_days": 1095, "minute_stocks": 50,
             "minute_days": 20}
FILLED = ("marts.daily_prices", "marts.minute_prices", "marts.news_articles", "marts.news_stock_matches",
          "marts.news_price_impact")
STEPS = ("add_listings", "ranked", "daily_prices", "minute_prices", "news_articles", "news_stock_matches",
         "news_price_impact")
UNCACHED = "prices=0,news=0,stock=0,dashboard=0"
DEEP = 50_000


def fill(url: str, **scale: Any) -> list[tuple[str, float]]:
    """Replace the marts' rows with synthetic ones (``FULL_SIZE`` unless told), keeping the tables
    and their indexes; the seconds each step took."""
    size = {**FULL_SIZE, **scale}
    queries = load_queries(FILL)
    timings = []
    with psycopg.connect(url, autocommit=True) as conn:
        last_day = conn.execute("SELECT max(trade_date) FROM marts.daily_prices").fetchone()[0] or date.today()
        size["last_day"] = last_day.isoformat()
        literals = {k: sql.Literal(v) for k, v in size.items()}
        indexes = conn.execute(  # the constraints' own indexes stay
            "SELECT schemaname, indexname, indexdef FROM pg_indexes WHERE format('%%I.%%I', schemaname, tablename) "
            "= ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = format('%%I.%%I', schemaname, indexname)::regclass)",
            (list(FILLED),)).fetchall()
        with conn.transaction():  # all or nothing: a failed step leaves the marts as they were
            conn.execute(f"TRUNCATE {', '.join(FILLED)}")
            for schema, name, _ in indexes:  # loading, then one build each, beats keeping them up to date
                conn.execute(sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))
            for step in STEPS:
                started = time.perf_counter()
                conn.execute(sql.SQL(queries[step]).format(**literals))
                timings.append((step, time.perf_counter() - started))
            started = time.perf_counter()
            for _, _, definition in indexes:
                conn.execute(definition)
            timings.append(("indexes", time.perf_counter() - started))
        started = time.perf_counter()
        conn.execute(f"VACUUM ANALYZE marts.stocks, {', '.join(FILLED)}")
        timings.append(("vacuum analyze", time.perf_counter() - started))
    return timings


def sizes(url: str) -> str:
    with psycopg.connect(url) as conn:
        return ", ".join(f"{table} {conn.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:,}"
                         for table in ("marts.stocks", *FILLED))


def routes(url: str) -> list[str]:
    """The paths measured: for the most covered listing and one in the middle of the ranking."""
    from azak_api.news.cursor import Position, encode_cursor

    with psycopg.connect(url) as conn:
        ranked = [r[0] for r in conn.execute(
            "SELECT stock_code FROM marts.news_stock_matches WHERE salient GROUP BY 1 ORDER BY count(*) DESC")]
        deep = conn.execute("SELECT published_at, news_id FROM marts.news_articles "
                            "ORDER BY published_at DESC, news_id DESC OFFSET %s LIMIT 1", (DEEP,)).fetchone()
    top, middle = ranked[0], ranked[len(ranked) // 2]
    cursor = encode_cursor(Position(deep[0], deep[1]), ascending=False)
    return [f"/api/stocks/{top}/prices", f"/api/stocks/{middle}/prices", "/api/news",
            f"/api/news?cursor={cursor}", f"/api/news?stock={top}", f"/api/news?stock={middle}",
            f"/api/stocks/{top}", f"/api/stocks/{middle}", "/api/dashboard/summary"]


@contextmanager
def warehouse(database_url: str | None, synthetic: bool) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    if database_url is None:
        with demo_copy() as copy:
            yield copy, fill(copy) if synthetic else []
        return
    from azak_api.admin import upsert_user

    timings = fill(database_url) if synthetic else []
    upsert_user(database_url, EMAIL, PASSWORD, admin=False, reset=True)
    yield database_url, timings


def main(seconds: float = 5.0, connections: int = 16, database_url: str | None = None,
         synthetic: bool = True) -> None:
    _pin(1)
    rows: list[tuple[str, str]] = []
    with warehouse(database_url, synthetic) as (url, timings):
        if timings:
            rows.append(("synthetic fill", ", ".join(f"{step} {s:.0f} s" for step, s in timings)))
        rows.append(("data", sizes(url)))
        paths = routes(url)
        measured: list[tuple[str, Load]] = []
        documents: dict[str, bytes] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZAK_")}
        env.update({"AZAK_DATABASE_URL": url, "AZAK_JWT_SECRET": "benchmark-" + "x" * 40,
                    "AZAK_ENV": "development"})
        for label, extra in [("uncached", {"AZAK_CACHE_TTLS": UNCACHED}), ("cached (memory)", {})]:
            with served("azak_api.app:create_app", {**env, **extra}, factory=True) as port:
                login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login",
                                   json={"email": EMAIL, "password": PASSWORD})
                login.raise_for_status()
                auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
                for path in paths:
                    started = time.perf_counter()
                    answer = httpx.get(f"http://127.0.0.1:{port}{path}", headers=auth, timeout=120)
                    answer.raise_for_status()
                    documents[path] = answer.content
                    # uncached: one connection (a request's own time), then 16 unless one takes seconds
                    slow = time.perf_counter() - started > 1.0
                    counts = [1] + ([] if slow else [connections]) if extra else [connections]
                    for count in counts:
                        load = drive(port, path, auth, count, seconds)
                        line = f"{load.line()}; {count} connection{'s' * (count > 1)}"
                        rows.append((f"{path[:60]} {label}", line))
                        measured.append((f"{path} {label}", load))
                        print(f"{path[:60]} {label}: {line}", file=sys.stderr, flush=True)  # progress
        # the ceiling on this machine now: a bare Litestar endpoint answering the same year of bars
        with tempfile.TemporaryDirectory() as scratch:
            payload = Path(scratch) / "prices.json"
            payload.write_bytes(documents[paths[0]])
            with served("benchmarks.bare_app:app", {**env, "AZAK_BENCH_PAYLOAD": str(payload)}) as port:
                bare = drive(port, "/bare/prices", {}, connections, seconds)
        rows.append(("bare Litestar, the same prices document", f"{bare.line()}; {connections} connections"))
        cached = next(load for label, load in measured if label == f"{paths[0]} cached (memory)")
        rows.append((f"{paths[0]} cached / bare", f"{cached.rps / bare.rps:.2f}×"))
    rows.append(("setup", f"{setup(seconds, connections)}; load average {load_average()}"))
    report("API at whole-market size (benchmarks/api_scale.py)", rows)


if __name__ == "__main__":
    parser = load_arguments(__doc__ or "", seconds=5.0)
    parser.add_argument("--database-url", help="a warehouse already loaded at full size")
    parser.add_argument("--fill-synthetic", action="store_true",
                        help="replace the marts' rows with synthetic ones at full size first")
    arguments = parser.parse_args()
    if not arguments.database_url and not arguments.fill_synthetic:
        parser.error("give --database-url (a loaded warehouse), --fill-synthetic, or both")
    main(arguments.seconds, arguments.connections, arguments.database_url, arguments.fill_synthetic)
