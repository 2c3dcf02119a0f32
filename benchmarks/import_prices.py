"""Price-file import throughput versus a plain COPY of the same rows into the same table.

Generates realistic daily bars (420 tickers x 376 sessions = 157,920 rows; random walks on KRX tick
sizes, half the files in pykrx's Korean layout, half in the English one), then, in one process:

* baseline — ``COPY raw.daily_prices FROM STDIN`` of the same rows, pre-rendered in memory;
* import   — what the ``raw/daily_prices`` asset does with files: stream, parse, validate, replace
  the slice with COPY (no Dagster run around it);
* end to end — ``azak import prices`` as a Dagster run (once, for the record).

Peak memory of the import is measured in a child process (``ru_maxrss``).

``--decade STOCKS`` measures the bookkeeping instead (issue 29): ``azak dev generate``'s listings
over ten years (3,650 partitions in one run), a plain COPY of the same rows, then ``azak import
prices`` of the same files as a command, from its start to its exit (its ratio to the COPY is
issue 29's target); with ``--before``, also the import as one run in this process with
dagster-postgres' stock event log (one statement per event, each check planned per partition); with
``--against CHECKOUT --rounds N``, N rounds of a plain COPY and the command of both checkouts,
alternating, each ratio against its own round's COPY.

``--held-out`` measures the command at the held-out size (500 stocks x 370 days) from its start to
its exit against a plain COPY of the same rows: the first import (a fresh Dagster database), then
three times the same files again (replaces) and a first import into the existing instance (the
table emptied before it); and what a command pays before its run: loading the whole code location
or only ``daily_prices_defs()``, and importing Dagster from compiled bytecode or from source — each
in a fresh child process, its CPU time beside its wall time. With ``--against CHECKOUT`` the
repeated commands alternate with the same commands run from another checkout (e.g. the main
branch's), in the same minutes, so that the machine's load hits both alike.

    python -m benchmarks.import_prices [--decade 100 [--before | --against CHECKOUT --rounds N]
                                        | --held-out [--against CHECKOUT]]
"""

import csv
import io
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from azak_core.market import tick_size
from benchmarks.common import load_average, report, scratch_database, timed

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
                cells = [row.stock_code, row.trade_date, "adjusted", row.open, row.high, row.low, row.close,
                         row.volume, row.value, f"file:{path.name}", fetched]
                out.write("\t".join("\\N" if c is None else str(c) for c in cells) + "\n")
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


STOCK_EVENT_LOG = """
event_log_storage:
  module: dagster_postgres.event_log
  class: PostgresEventLogStorage
  config:
    postgres_url:
      env: DAGSTER_PG_URL
"""


def _stock_event_log(home: Path) -> None:
    """dagster.yaml with dagster-postgres' own event log, as before issue 29 (no event batching)."""
    config = (home / "dagster.yaml").read_text()
    start = config.index("event_log_storage:")
    end = config.index("schedule_storage:")
    (home / "dagster.yaml").write_text(config[:start] + STOCK_EVENT_LOG.lstrip() + "\n" + config[end:])
    os.environ["DAGSTER_EVENT_BATCH_SIZE"] = "0"


def _generate(stocks: int, years: float, out: Path) -> tuple[list[Path], int]:
    from azak_cli.dev import generate as scale

    generated = scale.generate(scale.ScaleOptions(stocks, years, 0, 0, 0), out)
    return generated.adjusted_files, generated.daily_rows


def _import_run(files: list[Path]) -> float:
    from azak_cli.market import import_prices

    started = time.perf_counter()
    import_prices(None, files, "english", quiet=True)
    return time.perf_counter() - started


def _command(files: list[Path], url: str, home: str, checkout: Path | None = None) -> float:
    """``azak import prices`` in its own process, from its start to its exit (the code of
    ``checkout``, by default this one)."""
    env = {**os.environ, "AZAK_DATABASE_URL": url, "AZAK_HOME": home}
    env.pop("DAGSTER_HOME", None)
    env.pop("DAGSTER_EVENT_BATCH_SIZE", None)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    started = time.perf_counter()
    # `python -m azak_cli.main`, not the venv's `azak` script: the code of the checkout this runs from
    subprocess.run([sys.executable, "-m", "azak_cli.main", "import", "prices", "--format", "english",
                    *map(str, files)], env=env, check=True, capture_output=True, cwd=checkout)
    return time.perf_counter() - started


def decade(stocks: int, before: bool = False, against: Path | None = None, rounds: int = 1) -> None:
    """``stocks`` listings over ten years: a plain COPY of their rows, then ``azak import prices`` of
    the same files as a command (its own process, from its start to its exit, into the emptied
    table) — and with ``before``, the same import as one run in this process with dagster-postgres'
    stock event log (no batching), as before issue 29 (20 minutes for 100 listings). With
    ``against`` (another checkout), ``rounds`` rounds after one warm-up command: each a plain COPY,
    this checkout's command and the other's, in an order that alternates, each ratio against the
    COPY of its own round (this machine's COPY of the decade moves by half between minutes)."""
    if against is not None:
        return _decade_against(stocks, against, rounds)
    loads = [f"start {load_average()}"]
    with tempfile.TemporaryDirectory() as tmp, scratch_database("azak_bench_decade") as url:
        files, rows = _generate(stocks, 10, Path(tmp) / "decade")
        first, last, copy_seconds = _copy_baseline(url, files)
        loads.append(f"after COPY {load_average()}")
        _truncate(url)
        command, cpu = _timed_command(files, url, str(Path(tmp) / "azak_home"))
        loads.append(f"after the command {load_average()}")
        results = [("azak import prices (the command, start to exit)",
                    f"{command:.1f} s ({cpu:.1f} s CPU of its process), {copy_seconds / command:.3f}x plain COPY")]
        if before:
            home = Path(os.environ["DAGSTER_HOME"])
            saved = (home / "dagster.yaml").read_text()
            _truncate(url)
            _stock_event_log(home)
            seconds = _import_run(files)
            (home / "dagster.yaml").write_text(saved)
            os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
            loads.append(f"after 'before' {load_average()}")
            results.append(("before: one run, stock event log",
                            f"{seconds:.1f} s, {copy_seconds / seconds:.3f}x plain COPY"))
    report(f"decade import, {stocks} listings (benchmarks/import_prices.py --decade)", [
        ("rows", f"{rows:,} ({first} … {last}, one run over {(last - first).days + 1:,} partitions)"),
        ("plain COPY", f"{rows / copy_seconds:,.0f} rows/s ({copy_seconds:.2f} s, median of 3)"),
        *results,
        ("load average (1/5/15 min)", "; ".join(loads)),
    ])


def _decade_against(stocks: int, against: Path, rounds: int) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database("azak_bench_decade") as url:
        files, rows = _generate(stocks, 10, Path(tmp) / "decade")
        first, last, _ = _copy_baseline(url, files)
        data = _render(files)
        home = str(Path(tmp) / "azak_home")
        _truncate(url)
        _command(files[:1], url, home)  # the instance's migrations, before any round
        sides: list[tuple[str, Path | None]] = [("this", None), ("against", against)]
        for n in range(rounds):
            load = load_average()
            copy_seconds, _ = timed(lambda: plain_copy(url, data), repeat=1)
            timings = []
            for side, checkout in sides if n % 2 == 0 else sides[::-1]:
                _truncate(url)
                wall, cpu = _timed_command(files, url, home, checkout)
                timings.append(f"{side} {wall:.1f} s ({cpu:.1f} s CPU, {copy_seconds / wall:.3f}x COPY)")
            results.append((f"round {n + 1}: COPY {copy_seconds:.1f} s, load {load}", "; ".join(timings)))
    report(f"decade import, {stocks} listings, against {against} (benchmarks/import_prices.py --decade)", [
        ("rows", f"{rows:,} ({first} … {last}, one run over {(last - first).days + 1:,} partitions)"),
        *results,
        ("load average at the end", load_average()),
    ])


LOADS = {
    "the whole code location (defs())":
        "from azak_pipelines.definitions import defs; defs().resolve_job_def('daily_prices_job')",
    "daily_prices_defs() (what the import loads)":
        "from azak_pipelines.definitions import daily_prices_defs; "
        "daily_prices_defs().resolve_job_def('daily_prices_job')",
    "import dagster, compiled bytecode": "import dagster",
}


def _child_cpu(code: str, *flags: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a fresh Python running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *flags, "-c", code], check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _timed_command(files: list[Path], url: str, home: str, checkout: Path | None = None) -> tuple[float, float]:
    """``azak import prices`` in its own process: wall seconds from start to exit, and its CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = _command(files, url, home, checkout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


REPEATS = 3


def held_out(against: Path | None = None) -> None:
    """The held-out-sized import (500 stocks x 370 days) as a command, against a plain COPY of the
    same rows, with what a command pays before its run starts, each measured in a child process;
    with ``against``, the repeated commands alternate with another checkout's."""
    loads = [f"start {load_average()}"]
    rows: list[tuple[str, str]] = []
    for name, code in LOADS.items():
        wall, cpu = _child_cpu(code)
        rows.append((f"loading {name}", f"{cpu:.2f} s CPU ({wall:.1f} s wall)"))
    with tempfile.TemporaryDirectory() as empty:
        # a bytecode cache nobody wrote: every module compiled from source, as in a venv installed
        # without --compile-bytecode where PYTHONDONTWRITEBYTECODE is set
        wall, cpu = _child_cpu(LOADS["import dagster, compiled bytecode"], "-X", f"pycache_prefix={empty}")
    rows.append(("loading import dagster, compiled from source", f"{cpu:.2f} s CPU ({wall:.1f} s wall)"))
    loads.append(f"after the loads {load_average()}")
    with tempfile.TemporaryDirectory() as tmp, scratch_database("azak_bench_held_out") as url:
        files, count = _generate(500, 370 / 365, Path(tmp) / "held_out")
        first, last, copy_seconds = _copy_baseline(url, files)
        _truncate(url)
        home = str(Path(tmp) / "azak_home")
        runs = {"first (inserts, a fresh Dagster database)": [_timed_command(files, url, home)]}
        for _ in range(REPEATS):
            for label, checkout in [("", None)] + ([(f" [{against}]", against)] if against else []):
                runs.setdefault(f"again (replaces){label}", []).append(_timed_command(files, url, home, checkout))
                _truncate(url)
                runs.setdefault(f"first into the existing instance{label}", []).append(
                    _timed_command(files, url, home, checkout))
        loads.append(f"after the commands {load_average()}")
    for label, timings in runs.items():
        walls, cpus = sorted(w for w, _ in timings), sorted(c for _, c in timings)
        rows.append((f"azak import prices, {label}",
                     f"{statistics.median(walls):.1f} s start to exit, {statistics.median(cpus):.1f} s CPU "
                     f"(median of {len(timings)}; CPU {', '.join(f'{c:.2f}' for _, c in timings)}); "
                     f"{copy_seconds / statistics.median(walls):.3f}x plain COPY"))
    report("azak import prices, 500 stocks x 370 days (benchmarks/import_prices.py --held-out)", [
        ("rows", f"{count:,} ({first} … {last}, one run over {(last - first).days + 1:,} partitions)"),
        ("plain COPY", f"{count / copy_seconds:,.0f} rows/s ({copy_seconds:.2f} s, median of 3)"),
        *rows,
        ("load average (1/5/15 min)", "; ".join(loads)),
    ])


def _copy_baseline(url: str, files: list[Path]) -> tuple[date, date, float]:
    """The files' first and last day, and the median seconds of a plain COPY of their rows into
    the table with its partitions made (left filled)."""
    from azak_pipelines.defs.market.tables import DAILY_PRICES
    from azak_pipelines.lib.warehouse import connect, ensure_partitions, ensure_table

    first, last = _span(files)
    with connect(url) as conn:
        ensure_table(conn, DAILY_PRICES)
        ensure_partitions(conn, DAILY_PRICES, first, date.fromordinal(last.toordinal() + 1))
    data = _render(files)
    copy_seconds, _ = timed(lambda: plain_copy(url, data))
    return first, last, copy_seconds


def _span(files: list[Path]) -> tuple[date, date]:
    from azak_pipelines.lib.market.price_files import PriceRow, read_price_file

    days = [row.trade_date for path in files for row in read_price_file(path) if isinstance(row, PriceRow)]
    return min(days), max(days)


def _render(files: list[Path]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            (Path(tmp) / path.name).symlink_to(path)
        data, _ = copy_text(Path(tmp))
    return data


def _truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE raw.daily_prices")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    elif sys.argv[1:] == ["--held-out"]:
        held_out()
    elif len(sys.argv) == 4 and sys.argv[1:3] == ["--held-out", "--against"]:
        held_out(Path(sys.argv[3]).resolve())
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "--decade" and sys.argv[3:] in ([], ["--before"]):
        decade(int(sys.argv[2]), before=sys.argv[3:] == ["--before"])
    elif len(sys.argv) == 7 and sys.argv[1] == "--decade" and sys.argv[3] == "--against" and sys.argv[5] == "--rounds":
        decade(int(sys.argv[2]), against=Path(sys.argv[4]).resolve(), rounds=int(sys.argv[6]))
    else:
        main()
