"""One daily incremental dbt run against a full rebuild, at the size of a loaded warehouse.

On a warehouse that ``benchmarks/scale.py`` loaded (``azak_scale`` by default):

1. ``azak marts --full-refresh``: every model from scratch (the baseline);
2. ``azak marts`` with nothing new: what an idle automation tick costs;
3. one new session for every stock still trading through ``azak import prices`` (the next KRX
   session after the newest bar, each stock's last close moved by up to ±2%; delisted stocks, whose
   bars end earlier, get none) and that session's KOSPI and KOSDAQ levels (moved by up to ±1.5%)
   through the warehouse writer, as ``azak dev generate --load`` and the KIS index asset write
   them, and that day's news (``--articles``, the scale dataset's daily mean by default) through
   ``azak import news``, which links it; then ``azak marts``: the daily run.

    nice -n 10 python -m benchmarks.marts [--database azak_scale] [--home DIR]
"""

import argparse
import json
import math
import os
import random
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

from azak_cli.dev import generate as scale
from azak_core.redact import mask_url
from benchmarks.common import load_average, report

AZAK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "azak"
TARGET = Path(__file__).resolve().parents[1] / "dbt_project" / "target"


def azak(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(AZAK), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"azak {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def slowest_nodes(since: float, count: int = 8) -> str:
    """The dbt nodes that took longest in the newest dbt invocation after ``since`` (its run_results.json)."""
    results = [p for p in TARGET.glob("*/run_results.json") if p.stat().st_mtime >= since]
    if not results:
        return "no run_results.json"
    nodes = json.loads(max(results, key=lambda p: p.stat().st_mtime).read_text())["results"]
    nodes.sort(key=lambda n: n["execution_time"], reverse=True)
    total = sum(n["execution_time"] for n in nodes)
    top = ", ".join(f"{n['unique_id'].split('.')[-1 if n['unique_id'].startswith('model') else 2]} "
                    f"{n['execution_time']:.0f} s" for n in nodes[:count])
    return f"{len(nodes)} nodes, {total:.0f} s in all; {top}"


def next_session_file(url: str, directory: Path) -> tuple[Path, int, date]:
    """A price file with one new bar per stock that traded on the newest day, the KRX session after it."""
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

    with psycopg.connect(url) as conn:
        [(newest,)] = conn.execute(
            "SELECT max(trade_date) FROM raw.daily_prices WHERE price_basis = 'adjusted'").fetchall()
        last = conn.execute(
            "SELECT stock_code, close FROM raw.daily_prices WHERE price_basis = 'adjusted' AND trade_date = %s "
            "ORDER BY stock_code", (newest,)).fetchall()
    day = krx_calendar().sessions_between(newest + timedelta(days=1), newest + timedelta(days=30))[0]
    rng = random.Random(day.toordinal())
    path = directory / "next_session.csv"
    with path.open("w") as out:
        out.write("code,date,open,high,low,close,volume\n")
        for code, close in last:
            price = max(1, round(float(close) * rng.uniform(0.98, 1.02)))
            out.write(f"{code},{day},{close},{max(price, int(close))},{min(price, int(close))},{price},"
                      f"{rng.randint(1_000, 900_000)}\n")
    return path, len(last), day


def next_session_index_files(url: str, directory: Path, day: date) -> list[Path]:
    """Generated-layout index files (``<code>.csv``) with one level of ``day`` per index, moved
    from the index's newest close."""
    with psycopg.connect(url) as conn:
        last = conn.execute(
            "SELECT DISTINCT ON (index_code) index_code, close FROM raw.index_daily WHERE trade_date < %s "
            "ORDER BY index_code, trade_date DESC", (day,)).fetchall()
    if not last:
        raise SystemExit("raw.index_daily is empty: load the warehouse with benchmarks/scale.py first")
    rng = random.Random(f"index:{day.toordinal()}")
    move = rng.uniform(-0.015, 0.015)
    paths = []
    for code, close in last:
        previous = float(close)
        level = previous * (1 + move + rng.uniform(-0.003, 0.003))
        path = directory / f"{code}.csv"
        path.write_text(f"{','.join(scale.INDEX_HEADER)}\n{day},{previous:.2f},{max(previous, level) * 1.002:.2f},"
                        f"{min(previous, level) * 0.998:.2f},{level:.2f},{rng.randint(300_000, 1_200_000)},"
                        f"{rng.randint(5_000_000, 15_000_000)}\n")
        paths.append(path)
    return paths


def next_day_news(directory: Path, day: date, count: int) -> Path:
    """``count`` articles published on ``day``, as ``azak dev generate`` writes them."""
    listings = scale.select_listings(None)
    rng = random.Random(f"daily news {day}")
    path = directory / f"news-{day}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for listing in rng.choices(listings, k=count):
            serial = day.toordinal() * 10_000 + rng.randrange(10_000)
            out.write(json.dumps(scale.article(listing, day, serial, rng), ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="azak_scale")
    parser.add_argument("--server", default=os.environ.get("AZAK_BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--home", default=None, help="AZAK_HOME for the runs (default: a temporary one)")
    parser.add_argument("--daily-only", type=float, metavar="FULL_SECONDS", default=None,
                        help="only the daily run (step 3), against a full rebuild measured earlier in FULL_SECONDS")
    parser.add_argument("--articles", type=int, default=300, help="the daily run's new articles")
    args = parser.parse_args()
    url = f"{args.server}/{args.database}"
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or scratch
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
        env.update({"AZAK_DATABASE_URL": url, "AZAK_DAGSTER_DATABASE_URL": f"{url}_dagster",
                    "AZAK_HOME": home, "AZAK_SOURCE_MODE": "replay"})
        print(f"warehouse {mask_url(url)}, load average {load_average()}", flush=True)
        if args.daily_only is None:
            mark = time.time()
            full = azak(env, "marts", "--full-refresh")
            full_nodes = slowest_nodes(mark)
            print(f"full rebuild {full:.0f} s: {full_nodes}", flush=True)
            mark = time.time()
            idle = azak(env, "marts")
            idle_nodes = slowest_nodes(mark)
            print(f"incremental, nothing new {idle:.0f} s: {idle_nodes}", flush=True)
        else:
            full, full_nodes, idle, idle_nodes = args.daily_only, "measured in an earlier run", math.nan, "not run"
        path, stocks, day = next_session_file(url, Path(scratch))
        imported = azak(env, "import", "prices", str(path))
        (Path(scratch) / "index").mkdir()
        index_files = next_session_index_files(url, Path(scratch) / "index", day)
        started = time.perf_counter()
        index_rows = scale.load_index(url, index_files, (day, day + timedelta(days=1)))
        indexed = time.perf_counter() - started
        news = azak(env, "import", "news", str(next_day_news(Path(scratch), day, args.articles)))
        mark = time.time()
        daily = azak(env, "marts")
        daily_nodes = slowest_nodes(mark)
        print(f"incremental after {day} ({stocks:,} bars, {index_rows} index levels, {args.articles} articles) "
              f"{daily:.0f} s: {daily_nodes}", flush=True)
    report("marts", [
        ("warehouse", mask_url(url)),
        ("azak marts --full-refresh (every model from scratch)", f"{full:.0f} s"),
        ("  its slowest dbt nodes", full_nodes),
        ("azak marts, nothing new", f"{idle:.0f} s ({idle / full:.2f}x the full rebuild)"),
        ("  its slowest dbt nodes", idle_nodes),
        (f"azak import prices, one session ({stocks:,} stocks, {day})", f"{imported:.0f} s"),
        (f"index levels of that session ({index_rows} rows: {', '.join(p.stem for p in index_files)}), "
         "warehouse writer", f"{indexed:.2f} s"),
        (f"azak import news, that day's {args.articles} articles (with their links)", f"{news:.0f} s"),
        ("azak marts after that session (the daily run)", f"{daily:.0f} s (**{daily / full:.2f}x** the full rebuild)"),
        ("  its slowest dbt nodes", daily_nodes),
        ("load average", load_average()),
    ])


if __name__ == "__main__":
    main()
