"""The news list's text search (``GET /api/news?q=``) at whole-market size, without and with the
trigram indexes on title and summary (dbt_project/macros/trigram_index.sql).

A copy of the demo's warehouse (run ``azak demo --no-serve`` first) whose marts hold synthetic rows
(benchmarks/scale_fill.sql, a million articles by default); then, through the API's own query
function (the page and its capped total), the median time of a search for one article's words
("기사 12345 ", one match) and for words no article holds, first with the trigram indexes dropped,
then rebuilt (how long that takes too), with the plan's scans of marts.news_articles.
Needs pg_trgm on the server (the embedded pgserver build has none: there the search scans).

    python -m benchmarks.news_search [--articles 1000000]
"""

import argparse
import asyncio
import time
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import create_async_engine

from azak_api.news import queries
from benchmarks.api import demo_copy
from benchmarks.api_scale import fill
from benchmarks.common import load_average, report

SEARCHES = {"one article's words": "기사 12345 ", "words no article holds": "반도체 수출"}
TRIGRAM = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'marts' " \
          "AND tablename = 'news_articles' AND indexdef LIKE '%gin_trgm_ops%'"


async def _search_ms(url: str, q: str, repeat: int = 5) -> tuple[float, int, bool]:
    """Median milliseconds of the page and its total; the total and whether it is an estimate."""
    engine = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    times, total = [], None
    try:
        async with engine.connect() as conn:
            for _ in range(repeat):
                started = time.perf_counter()
                _, total = await queries.page(conn, stock=None, mentioned=False, source=None, q=q, start=None,
                                                 end=None, ascending=False, after=None, offset=0, limit=20)
                times.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    assert total is not None
    return sorted(times)[len(times) // 2], total.matching, total.is_estimate


def _scans(conn: psycopg.Connection[Any], q: str) -> str:
    plan = conn.execute(
        "EXPLAIN (FORMAT JSON) SELECT news_id FROM marts.news_articles WHERE (title ILIKE %s OR summary ILIKE %s) "
        "ORDER BY published_at DESC, news_id DESC LIMIT 21", (f"%{q}%", f"%{q}%")).fetchone()[0][0]["Plan"]
    found, pending = [], [plan]
    while pending:
        node = pending.pop()
        pending.extend(node.get("Plans", []))
        if node.get("Relation Name") == "news_articles" or node["Node Type"] == "Bitmap Index Scan":
            found.append(node["Node Type"] + (f" {node['Index Name']}" if "Index Name" in node else ""))
    return ", ".join(found)


def measure(url: str, label: str) -> list[tuple[str, str]]:
    rows = []
    with psycopg.connect(url) as conn:
        plans = {name: _scans(conn, q) for name, q in SEARCHES.items()}
    for name, q in SEARCHES.items():
        ms, total, estimate = asyncio.run(_search_ms(url, q))
        rows.append((f"{name}, {label}", f"{ms:,.1f} ms (page and total {total}{' est.' * estimate}); "
                                         f"plan: {plans[name]}"))
    return rows


def main(articles: int = 1_000_000) -> None:
    rows: list[tuple[str, str]] = []
    with demo_copy() as url:
        timings = fill(url, stocks=300, years=1, articles=articles, news_days=1095, minute_stocks=5, minute_days=2)
        rows.append(("synthetic fill", ", ".join(f"{step} {s:.0f} s" for step, s in timings)))
        with psycopg.connect(url, autocommit=True) as conn:
            indexes = conn.execute(TRIGRAM).fetchall()
            if not indexes:
                raise SystemExit("no trigram index on marts.news_articles: does the server have pg_trgm?")
            rows.append(("data", f"{conn.execute('SELECT count(*) FROM marts.news_articles').fetchone()[0]:,} "
                                 "articles"))
            for name, _ in indexes:
                conn.execute(f"DROP INDEX marts.{name}")
        rows += measure(url, "no trigram index")
        with psycopg.connect(url, autocommit=True) as conn:
            started = time.perf_counter()
            for _, definition in indexes:
                conn.execute(definition)
            rows.append(("building the trigram indexes", f"{time.perf_counter() - started:.0f} s"))
            conn.execute("ANALYZE marts.news_articles")
        rows += measure(url, "trigram indexes")
    rows.append(("load average", load_average()))
    report("news text search at size (benchmarks/news_search.py)", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    main(parser.parse_args().articles)
