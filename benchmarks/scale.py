"""The scale dataset: generation and import times, and a full rebuild of the marts at that size.

Generates the whole-market dataset of ``azak dev generate`` (every bundled listing x ten years of
daily bars, minute bars for 50 stocks over ~a year of sessions, news articles), then into a database
it leaves in place (``azak_scale`` on the server ``azak`` uses, for the API benchmarks):

* baseline — ``COPY raw.daily_prices FROM STDIN`` of the adjusted rows, pre-rendered to a file;
* the asset's own work (parse, validate, COPY; no Dagster run around it), as
  ``benchmarks/import_prices.py`` measures it;
* ``azak import prices`` (adjusted, then raw) as Dagster runs — what stays in the database;
* minute bars and the KOSPI/KOSDAQ levels through the warehouse writer; news through
  ``azak import news``, one run per chunk,
  newest chunk first, until ``--news-budget`` seconds are spent (each chunk is a whole run);
* ``azak marts --full-refresh`` once: every dbt model rebuilt from scratch at that size.

    nice -n 10 python -m benchmarks.scale [--articles 1000000] [--news-budget 420] [--out DIR]
"""

import argparse
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from azak_cli.runtime import environment
from azak_cli.runtime.postgres import drop_database, ensure_database
from azak_core.redact import mask_url
from benchmarks.common import load_average, report


def _render_copy(files: list[Path], target: Path) -> int:
    """The adjusted rows as COPY text in a file, written before the clock starts."""
    from azak_pipelines.lib.market.price_files import PriceRow, read_price_file

    fetched = datetime.now(UTC).isoformat()
    count = 0
    null = "\\N"
    with target.open("w", encoding="utf-8") as out:
        for path in files:
            for row in read_price_file(path, "english"):
                if isinstance(row, PriceRow):
                    out.write(f"{row.stock_code}\t{row.trade_date}\tadjusted\t{row.open or null}\t"
                              f"{row.high or null}\t{row.low or null}\t{row.close}\t{row.volume}\t"
                              f"{null if row.value is None else row.value}\tfile:{path.name}\t{fetched}\n")
                    count += 1
    return count


def _plain_copy(url: str, data: Path) -> float:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        with conn.transaction(), data.open("rb") as handle, cursor.copy(
            "COPY raw.daily_prices (stock_code, trade_date, price_basis, open, high, low, close, "
            "volume, trading_value, source, fetched_at) FROM STDIN"
        ) as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - started


def _asset_core(url: str, files: list[Path], start: date, end: date) -> tuple[float, int]:
    from azak_pipelines.defs.common import Window
    from azak_pipelines.defs.market.assets import DailyPricesConfig, _import_files
    from azak_pipelines.lib.warehouse import connect

    started = time.perf_counter()
    with connect(url) as conn:
        rejected: list[Any] = []
        result, _ = _import_files(conn, DailyPricesConfig(source="files", paths=[str(p) for p in files],
                                                          file_format="english"), Window(start, end), rejected)
    assert not rejected, rejected[:3]
    return time.perf_counter() - started, result.written


def _truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE raw.daily_prices")


def main() -> None:
    from azak_cli.dev import generate as scale
    from azak_pipelines.definitions import defs
    from azak_pipelines.runs import dagster_instance, run_job

    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale")
    parser.add_argument("--database", default="azak_scale")
    parser.add_argument("--out", default="/tmp/azak_scale", help="where the generated files go")
    parser.add_argument("--stocks", default=None, type=int, help="default: every listing")
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--news-budget", type=float, default=420,
                        help="seconds of news import; chunks (newest first) start while within it")
    args = parser.parse_args()

    server = environment.resolve()
    url = server.database.with_database(args.database)
    dagster_url = server.database.with_database(args.database + "_dagster")
    for database in (url, dagster_url):
        drop_database(database)
        ensure_database(database)
    home = environment.PROJECT_ROOT / ".azak" / args.database
    os.environ.update({"AZAK_DATABASE_URL": url.render(), "AZAK_DAGSTER_DATABASE_URL": dagster_url.render(),
                       "AZAK_HOME": str(home), "AZAK_SOURCE_MODE": "replay"})
    figures: list[tuple[str, str]] = []
    loads = [f"start {load_average()}"]
    with environment.session(apply=True) as runtime:
        definitions, instance = defs(), dagster_instance()
        started = time.monotonic()
        reference = run_job(definitions, instance, "reference_job", tags={"azak/origin": "benchmark"})
        assert reference.success, reference.run_id
        figures.append(("reference_job (universe, calendar, history, seeds, their marts)",
                        f"{time.monotonic() - started:.0f} s"))

        options = scale.ScaleOptions(args.stocks, args.years, 50, 245, args.articles)
        out = Path(args.out)
        generated = scale.generate(options, out)
        g = generated.seconds
        figures += [
            ("generate daily bars", f"{generated.daily_rows:,} adjusted + {generated.raw_rows:,} raw rows "
             f"({len(generated.adjusted_files):,} listings, {len(generated.splits)} splits, {generated.halts:,} "
             f"halt days) in {g['daily']:.0f} s: "
             f"{(generated.daily_rows + generated.raw_rows) / g['daily']:,.0f} rows/s; "
             f"{len(generated.delisted)} listings delisted before the end"),
            ("generate index levels", f"{generated.index_rows:,} rows (KOSPI, KOSDAQ) in {g['index']:.1f} s"),
            ("generate minute bars", f"{generated.minute_rows:,} rows ({len(generated.minute_files)} stocks) "
             f"in {g['minute']:.0f} s: {generated.minute_rows / g['minute']:,.0f} rows/s"),
            ("generate news", f"{generated.articles:,} articles in {len(generated.news_files)} files in "
             f"{g['news']:.0f} s: {generated.articles / max(g['news'], 1e-9):,.0f} articles/s"),
        ]
        loads.append(f"after generation {load_average()}")

        from azak_pipelines.defs.market.tables import DAILY_PRICES
        from azak_pipelines.lib.warehouse import connect, ensure_partitions, ensure_table

        with connect(url.render()) as conn:
            ensure_table(conn, DAILY_PRICES)
            ensure_partitions(conn, DAILY_PRICES, options.start, date.fromordinal(options.end.toordinal() + 1))
        rendered = out / "adjusted.copy"
        assert _render_copy(generated.adjusted_files, rendered) == generated.daily_rows
        copy_seconds = _plain_copy(url.render(), rendered)
        rendered.unlink()
        _truncate(url.render())
        core_seconds, written = _asset_core(url.render(), generated.adjusted_files, options.start,
                                            date.fromordinal(options.end.toordinal() + 1))
        assert written == generated.daily_rows
        _truncate(url.render())
        rows = generated.daily_rows
        figures += [
            ("plain COPY of the adjusted rows", f"{rows / copy_seconds:,.0f} rows/s ({copy_seconds:.0f} s)"),
            ("the asset's import (parse, validate, COPY), no Dagster",
             f"{rows / core_seconds:,.0f} rows/s ({core_seconds:.0f} s): "
             f"{copy_seconds / core_seconds:.2f}x plain COPY"),
        ]
        for basis, files, count in (("adjusted", generated.adjusted_files, generated.daily_rows),
                                    ("raw", generated.raw_files, generated.raw_rows)):
            started = time.monotonic()
            scale.load_prices(runtime, files, basis)
            spent = time.monotonic() - started
            extra = f": {copy_seconds / spent:.2f}x plain COPY" if basis == "adjusted" else ""
            figures.append((f"azak import prices --basis {basis} (one Dagster run, {len(files):,} files)",
                            f"{count / spent:,.0f} rows/s ({spent:.0f} s){extra}"))
        loads.append(f"after prices {load_average()}")

        started = time.monotonic()
        assert generated.minute_window is not None
        minute_rows = scale.load_minutes(url.render(), generated.minute_files, generated.minute_window)
        spent = time.monotonic() - started
        figures.append(("minute bars through the warehouse writer",
                        f"{minute_rows:,} rows, {minute_rows / spent:,.0f} rows/s ({spent:.0f} s)"))
        started = time.monotonic()
        assert generated.index_window is not None
        index_rows = scale.load_index(url.render(), generated.index_files, generated.index_window)
        figures.append(("index levels (KOSPI, KOSDAQ) through the warehouse writer",
                        f"{index_rows:,} rows ({time.monotonic() - started:.1f} s)"))

        started = time.monotonic()
        loaded: list[int] = []
        for path in reversed(generated.news_files):
            if time.monotonic() - started > args.news_budget:
                break
            report_ = scale.load_news(runtime, path)
            loaded.append(int(report_.get("rows_new", 0)))
        spent = time.monotonic() - started
        figures.append((f"azak import news (newest {len(loaded)} of {len(generated.news_files)} chunks)",
                        f"{sum(loaded):,} articles, {sum(loaded) / spent:,.0f} articles/s ({spent:.0f} s), "
                        "links included"))
        loads.append(f"after news {load_average()}")

        from azak_cli.market import build_marts

        started = time.monotonic()
        build_marts(full_refresh=True)
        figures.append(("azak marts --full-refresh (every dbt model, one run)", f"{time.monotonic() - started:.0f} s"))
        loads.append(f"after dbt {load_average()}")

        with psycopg.connect(url.render()) as conn:
            for table in ("raw.daily_prices", "raw.minute_prices", "raw.index_daily", "computed.news_articles",
                          "computed.news_stock_matches", "marts.daily_prices", "marts.news_price_impact"):
                count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                figures.append((f"rows in {table}", f"{count[0] if count else 0:,}"))
            matured = conn.execute("SELECT count(*) FILTER (WHERE return_1d IS NOT NULL), "
                                   "count(*) FILTER (WHERE excess_1d IS NOT NULL) "
                                   "FROM marts.news_price_impact").fetchone()
            if matured:
                figures.append(("marts.news_price_impact: links with a 1-day return / excess over KOSPI",
                                f"{matured[0]:,} / {matured[1]:,}"))
    figures += [("load average (1/5/15 min)", "; ".join(loads)),
                ("database (left in place)", mask_url(url.render())),
                ("Dagster instance", f"{dagster_url.database}, AZAK_HOME={home}")]
    report("scale dataset (benchmarks/scale.py)", figures)


if __name__ == "__main__":
    main()
