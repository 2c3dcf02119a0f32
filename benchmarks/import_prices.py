"""Price-file import throughput versus a plain COPY of the same rows into the same table.

Generates realistic daily bars (420 tickers x 376 sessions = 157,920 rows; random walks on KRX tick
sizes, half the files in pykrx's Korean layout, half in the English one), then, in one process:

* baseline — ``COPY raw.daily_prices FROM STDIN`` of the same rows, pre-rendered in memory;
* import   — what the ``raw/daily_prices`` asset does with files: stream, parse, validate, replace
  the slice with COPY (no Dagster run around it);
* end to end — ``azak import prices`` as a Dagster run (once, for the record).

Peak memory of the import is measured in a child process (``ru_maxrss``).

    python -m benchmarks.import_prices
"""

import csv
import io
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from azak_core.market import tick_size
from benchmarks.common import report, scratch_database, timed

TICKERS = 420
START = date(2024, 1, 2)


def generate(directory: Path) -> int:
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

    sessions = krx_calendar().sessions_between(START, date(2025, 7, 1))[:376]
    rng = random.Random(7)
    rows = 0
    for i in range(TICKERS):
        code = f"{900000 + i}"
        price = rng.choice([1_500, 8_000, 30_000, 120_000, 400_000])
        pykrx = i % 2 == 0
        with (directory / f"{code}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["날짜", "시가", "고가", "저가", "종가", "거래량"] if pykrx
                            else ["date", "open", "high", "low", "close", "volume", "code"])
            for day in sessions:
                size = tick_size(price)
                open_ = max(size, round(price * rng.uniform(0.98, 1.02) / size) * size)
                close = max(size, round(price * rng.uniform(0.97, 1.03) / size) * size)
                high = max(open_, close) + size * rng.randint(0, 5)
                low = max(size, min(open_, close) - size * rng.randint(0, 5))
                volume = rng.randint(10_000, 5_000_000)
                if pykrx:
                    writer.writerow([day.isoformat(), open_, high, low, close, volume])
                else:
                    writer.writerow([day.strftime("%Y%m%d"), open_, high, low, close, volume, code])
                price = close
                rows += 1
    return rows


def copy_text(directory: Path) -> tuple[bytes, int]:
    """The same rows as COPY text, rendered before the clock starts."""
    from azak_pipelines.lib.market.price_files import PriceRow, read_price_file

    fetched = datetime.now(UTC).isoformat()
    out = io.StringIO()
    count = 0
    for path in sorted(directory.glob("*.csv")):
        for row in read_price_file(path):
            if isinstance(row, PriceRow):
                out.write(f"{row.stock_code}\t{row.trade_date}\tadjusted\t{row.open}\t{row.high}\t"
                          f"{row.low}\t{row.close}\t{row.volume}\t\\N\tfile:{path.name}\t{fetched}\n")
                count += 1
    return out.getvalue().encode(), count


def plain_copy(url: str, data: bytes) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("TRUNCATE raw.daily_prices")
        with conn.transaction(), cursor.copy(
            "COPY raw.daily_prices (stock_code, trade_date, price_basis, open, high, low, close, "
            "volume, trading_value, source, fetched_at) FROM STDIN"
        ) as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start:start + (1 << 20)])


def import_files(url: str, directory: Path) -> int:
    from azak_pipelines.defs.common import Window
    from azak_pipelines.defs.market.assets import DailyPricesConfig, _import_files
    from azak_pipelines.lib.warehouse import connect

    paths = sorted(str(p) for p in directory.glob("*.csv"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE raw.daily_prices")
    with connect(url) as conn:
        rejected: list = []
        result, _ = _import_files(conn, DailyPricesConfig(source="files", paths=paths),
                                  Window(START, date(2025, 8, 1)), rejected)
    assert not rejected
    return result.written


def child(url: str, directory: str) -> None:
    """Run one import and print the process's peak resident memory (MiB)."""
    written = import_files(url, Path(directory))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{written} {peak:.0f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, scratch_database("azak_bench_import") as url:
        directory = Path(tmp)
        rows = generate(directory)
        from azak_pipelines.defs.market.tables import DAILY_PRICES
        from azak_pipelines.lib.warehouse import connect, ensure_partitions, ensure_table

        with connect(url) as conn:
            ensure_table(conn, DAILY_PRICES)
            ensure_partitions(conn, DAILY_PRICES, START, date(2025, 8, 1))
        data, count = copy_text(directory)
        assert count == rows
        copy_seconds, _ = timed(lambda: plain_copy(url, data))
        import_seconds, written = timed(lambda: import_files(url, directory))
        assert written == rows
        probe = subprocess.run([sys.executable, "-m", "benchmarks.import_prices", "--child", url, tmp],
                               capture_output=True, text=True, check=True)
        _, peak = probe.stdout.split()

        from azak_cli.market import import_prices

        started = time.perf_counter()
        import_prices(None, sorted(directory.glob("*.csv")), quiet=True)
        end_to_end = time.perf_counter() - started

    report("price import (benchmarks/import_prices.py)", [
        ("rows", f"{rows:,} ({TICKERS} tickers x 376 sessions)"),
        ("plain COPY", f"{rows / copy_seconds:,.0f} rows/s ({copy_seconds:.2f} s, median of 3)"),
        ("import (parse, validate, COPY)", f"{rows / import_seconds:,.0f} rows/s ({import_seconds:.2f} s)"),
        ("import / plain COPY", f"{copy_seconds / import_seconds:.2f}"),
        ("peak memory of an import process", f"{peak} MiB"),
        ("azak import prices (a Dagster run, 545 partitions)", f"{end_to_end:.1f} s, "
         f"{rows / end_to_end:,.0f} rows/s"),
    ])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
