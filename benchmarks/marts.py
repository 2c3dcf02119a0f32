"""One daily incremental dbt run against a full rebuild, at the size of a loaded warehouse.

On a warehouse that ``benchmarks/scale.py`` loaded (``azak_scale`` by default):

1. ``azak marts --full-refresh``: every model from scratch (the baseline);
2. ``azak marts`` with nothing new: what an idle automation tick costs;
3. one new session for every listed stock through ``azak import prices`` (the next weekday after
   the newest bar, each stock's last close moved by up to ±2%), then ``azak marts``: the daily run.

    nice -n 10 python -m benchmarks.marts [--database azak_scale] [--home DIR]
"""

import argparse
import os
import random
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

from azak_cli.postgres import mask
from benchmarks.common import load_average, report

AZAK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "azak"


def azak(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(AZAK), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"azak {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def next_session_file(url: str, directory: Path) -> tuple[Path, int, str]:
    """A price file with one new bar per stock, the weekday after the newest bar."""
    with psycopg.connect(url) as conn:
        [(newest,)] = conn.execute(
            "SELECT max(trade_date) FROM raw.daily_prices WHERE price_basis = 'adjusted'").fetchall()
        last = conn.execute(
            "SELECT DISTINCT ON (stock_code) stock_code, close FROM raw.daily_prices "
            "WHERE price_basis = 'adjusted' ORDER BY stock_code, trade_date DESC").fetchall()
    day = newest + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    rng = random.Random(day.toordinal())
    path = directory / "next_session.csv"
    with path.open("w") as out:
        out.write("code,date,open,high,low,close,volume\n")
        for code, close in last:
            price = max(1, round(float(close) * rng.uniform(0.98, 1.02)))
            out.write(f"{code},{day},{close},{max(price, int(close))},{min(price, int(close))},{price},"
                      f"{rng.randint(1_000, 900_000)}\n")
    return path, len(last), str(day)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="azak_scale")
    parser.add_argument("--server", default=os.environ.get("AZAK_BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--home", default=None, help="AZAK_HOME for the runs (default: a temporary one)")
    args = parser.parse_args()
    url = f"{args.server}/{args.database}"
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or scratch
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
        env.update({"AZAK_DATABASE_URL": url, "AZAK_DAGSTER_DATABASE_URL": f"{url}_dagster",
                    "AZAK_HOME": home, "AZAK_SOURCE_MODE": "replay"})
        print(f"warehouse {mask(url)}, load average {load_average()}", flush=True)
        full = azak(env, "marts", "--full-refresh")
        print(f"full rebuild {full:.0f} s", flush=True)
        idle = azak(env, "marts")
        print(f"incremental, nothing new {idle:.0f} s", flush=True)
        path, stocks, day = next_session_file(url, Path(scratch))
        imported = azak(env, "import", "prices", str(path))
        daily = azak(env, "marts")
        print(f"incremental after {day} ({stocks:,} bars) {daily:.0f} s", flush=True)
    report("marts", [
        ("warehouse", mask(url)),
        ("azak marts --full-refresh (every model from scratch)", f"{full:.0f} s"),
        ("azak marts, nothing new", f"{idle:.0f} s ({idle / full:.2f}x the full rebuild)"),
        (f"azak import prices, one session ({stocks:,} stocks, {day})", f"{imported:.0f} s"),
        ("azak marts after that session (the daily run)", f"{daily:.0f} s (**{daily / full:.2f}x** the full rebuild)"),
        ("load average", load_average()),
    ])


if __name__ == "__main__":
    main()
