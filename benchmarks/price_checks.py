"""The daily-price checks' queries at whole-market size, this tree's against another revision's.

On a warehouse that holds a decade of the market (``python -m benchmarks.scale``, or the database a
``benchmarks.import_prices --decade`` run left), each query of ``checks.sql`` of either revision
runs alternately with its namesake, three times each, for a run over every day (an import of the
decade, or a check run alone from Dagit) and for a run of one day (the daemon's daily run), and
the median of each is reported. The other revision's queries are read with ``git show``.

    python -m benchmarks.price_checks --database-url URL --before REV
"""

import argparse
import statistics
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

from azak_pipelines.defs.market.checks import QUERIES
from azak_pipelines.defs.market.tables import DAILY_PRICES
from azak_pipelines.lib.sql_files import load_queries
from benchmarks.common import load_average, report

ROUNDS = 3


def _queries_at(revision: str, directory: Path) -> dict[str, str]:
    text = subprocess.run(["git", "show", f"{revision}:azak_pipelines/defs/market/checks.sql"],
                          check=True, capture_output=True, text=True).stdout
    path = directory / "checks.sql"
    path.write_text(text)
    return load_queries(path)


def _seconds(conn: psycopg.Connection, query: str, days: dict[str, object]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = conn.execute(query, days).fetchall()
    return time.perf_counter() - started, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--before", required=True, help="the revision to compare against, e.g. main")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = _queries_at(args.before, Path(tmp))
    after = load_queries(QUERIES)
    results = [("load average at the start", load_average())]
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        span_row = conn.execute("SELECT min(trade_date), max(trade_date), count(*) FROM raw.daily_prices").fetchone()
        assert span_row is not None
        first, last, rows = span_row
        results.append(("rows", f"{rows:,} ({first} … {last})"))
        table = {"table": DAILY_PRICES.key, "key": sorted(DAILY_PRICES.natural_key)}  # key_enforced's
        spans = {"every day": {"first": date.min, "last": date.max, **table},
                 f"one day ({last})": {"first": last, "last": last, **table}}
        for span, days in spans.items():
            for name in sorted(set(before) | set(after)):
                times: dict[str, list[float]] = {"before": [], "after": []}
                found = {}
                try:
                    for _ in range(ROUNDS):
                        for side, queries in (("before", before), ("after", after)):
                            if name in queries:
                                seconds, found[side] = _seconds(conn, queries[name], days)
                                times[side].append(seconds)
                except psycopg.errors.UndefinedTable as exc:  # e.g. raw.stocks in a decade-only warehouse
                    results.append((f"{span}: {name}", f"not measured: {exc.diag.message_primary}"))
                    continue
                shown = "; ".join(f"{side} {statistics.median(t) * 1000:,.0f} ms ({found[side]} rows)"
                                  for side, t in times.items() if t)
                results.append((f"{span}: {name}", shown))
    results.append(("load average at the end", load_average()))
    report(f"daily-price checks' queries, {args.before} against this tree (benchmarks/price_checks.py)", results)


if __name__ == "__main__":
    main()
