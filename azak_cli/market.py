"""`azak import prices`, `azak backfill prices` and `azak housekeeping`: one Dagster run each, recorded in Dagit."""

import time
from datetime import date
from pathlib import Path
from typing import Any

from azak_cli import progress
from azak_cli.errors import UsageError
from azak_cli.runtime.environment import Runtime
from azak_core.clock import kst_today
from azak_core.market import STOCK_CODE
from azak_pipelines.defs.market.tables import DAILY_PRICES
from azak_pipelines.defs.news.tables import IMPORTED_NEWS, NEWS_ARTICLES
from azak_pipelines.lib.warehouse import table_exists
from azak_pipelines.runs import dagster_instance, materialization, op_config, require_success, run_job

# what `azak import news` tells the operator to run for the predictions of the imported days
PREDICTIONS_BACKFILL = ("AZAK_LLM_BUDGET_USD=<cap> dagster asset materialize -m azak_pipelines.definitions "
                        "--select computed/news_predictions --partition-range {first}...{last}")


def span_of_price_files(paths: list[Path], file_format: str, code: str | None,
                        bars: bool = False) -> tuple[date, date] | None:
    """The first and last date of the files' rows, from their date column alone (a bar of files read
    when ``bars``): the run's range. The run parses and validates every row once, and reports what
    it rejected; a file that cannot be imported at all is refused here, before the run."""
    from azak_pipelines.lib.market.price_files import PriceFileError, date_span

    spans = []
    for path in progress.each_file(paths, "reading", bars):
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        try:
            span = date_span(path, file_format, code)
        except PriceFileError as exc:
            raise UsageError(str(exc)) from None
        if span is not None:
            spans.append(span)
    if not spans:
        return None
    return min(first for first, _ in spans), max(last for _, last in spans)


def import_prices(runtime: Runtime, paths: list[Path], file_format: str = "auto",
                  basis: str = "adjusted", code: str | None = None, quiet: bool = False,
                  bars: bool = False) -> dict[str, Any]:
    """Load price files through ``raw/daily_prices`` (one run, in this process); with ``bars``, a bar
    of files read, then a spinner while the run writes them. The files' rows are parsed once, by the
    run; what it rejected is printed from its materialization."""

    from azak_pipelines.definitions import daily_prices_defs
    from azak_pipelines.defs.calendar.partitions import MARKET_START

    if code is not None and not STOCK_CODE.match(code):
        raise UsageError(f"--code must be 6 characters [0-9A-Z], got {code!r}")
    paths = [p.expanduser().resolve() for p in paths]
    span = span_of_price_files(paths, file_format, code, bars)
    if span is None:
        raise UsageError("no valid rows to import")
    first, last = span
    if first < date.fromisoformat(MARKET_START):
        raise UsageError(f"the files start on {first}, before the first partition ({MARKET_START})")
    say = (lambda *_: None) if quiet else print
    say(f"importing {len(paths)} file(s), {first} … {last}, through raw/daily_prices…")
    started = time.monotonic()
    with progress.working(f"writing {len(paths):,} file(s) through raw/daily_prices", bars):
        result = run_job(
            daily_prices_defs(), dagster_instance(), "daily_prices_job", (str(first), str(last)),
            op_config(DAILY_PRICES, {
                "source": "files", "paths": [str(p) for p in paths], "file_format": file_format,
                "price_basis": basis, "code": code}),
            {"azak/origin": "import"},
        )
    require_success(result, "the import run")
    report = materialization(result, DAILY_PRICES) or {}
    say(f"{len(paths)} file(s): {report.get('rows_written', 0):,} valid rows for {report.get('codes', 0)} "
        f"stock(s), {report.get('rows_rejected', 0):,} rejected")
    for reason in report.get("first_rejections", []):
        say(f"  rejected {reason}")
    say(f"done in {time.monotonic() - started:.1f} s: {report.get('rows_written', 0):,} rows written, "
        f"{report.get('rows_replaced', 0):,} replaced, {report.get('rows_rejected', 0):,} rejected "
        f"(run {result.run_id})")
    if report.get("rows_kept"):
        say(f"kept {report['rows_kept']:,} stored row(s) whose replacement in the files was rejected "
            "(fix the rows above and import again to replace them)")
    if not report.get("rows_written") and report.get("rows_rejected"):
        # the files' rows are first parsed by the run: every one was rejected, as before it started
        raise UsageError(f"no valid rows to import: {report['rows_rejected']:,} rejected (run {result.run_id})")
    return {"run_id": result.run_id, **report}


def check_backfill(start: date, end: date, codes: list[str] | None = None, shards: int = 1) -> None:
    """What a price backfill's options must be, in-process or as a Dagster backfill."""
    from azak_pipelines.defs.calendar.partitions import MARKET_START

    if start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    if start < date.fromisoformat(MARKET_START):
        raise UsageError(f"--from must be on or after {MARKET_START}")
    if end > kst_today():
        raise UsageError(f"--to {end} is in the future")
    bad = [c for c in codes or [] if not STOCK_CODE.match(c)]
    if bad:
        raise UsageError(f"--codes must be 6 characters [0-9A-Z]: {bad}")
    if shards < 1:
        raise UsageError(f"--shards must be at least 1, got {shards}")


def backfill_prices(runtime: Runtime, start: date, end: date, codes: list[str] | None = None,
                    basis: str = "adjusted", shards: int = 1, quiet: bool = False) -> dict[str, Any]:
    """One run over the range, in this process (``azak backfill prices --in-process``): the asset's
    own step, or ``shards`` steps of stocks (which the Celery workers share out when
    AZAK_EXECUTOR=celery)."""

    from azak_pipelines.definitions import daily_prices_defs, defs
    from azak_pipelines.defs.market.backfill import stock_shards
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

    check_backfill(start, end, codes, shards)
    say = (lambda *_, **__: None) if quiet else print
    sessions = krx_calendar().count_sessions(start, date.fromordinal(end.toordinal() + 1))
    say(f"backfilling daily prices {start} … {end} ({sessions} trading days"
        f"{f', {len(codes)} stocks' if codes else ', the watch-list'}) in one run"
        f"{f' of {shards} steps' if shards > 1 else ''}…", flush=True)
    config: dict[str, Any] = {"price_basis": basis}
    if codes:
        config["codes"] = codes
    logs = {"console": {"config": {"log_level": "INFO"}}}
    started = time.monotonic()
    if shards > 1:
        config.update(start=str(start), end=str(end), shards=shards)
        result = run_job(defs(), dagster_instance(), "daily_prices_backfill_job", None,
                         {"ops": {stock_shards.name: {"config": config}}, "loggers": logs},
                         {"azak/origin": "backfill"})
    else:
        result = run_job(daily_prices_defs(), dagster_instance(), "daily_prices_job", (str(start), str(end)),
                         {**op_config(DAILY_PRICES, {"source": "kis", **config}), "loggers": logs},
                         {"azak/origin": "backfill"})
    require_success(result, "the backfill run")
    report = materialization(result, DAILY_PRICES) or {}
    say(f"done in {time.monotonic() - started:.1f} s: {report.get('rows_written', 0):,} rows, "
        f"{report.get('kis_requests', 0):,} KIS requests ({report.get('source')}), run {result.run_id}")
    return {"run_id": result.run_id, **report}


def build_marts(full_refresh: bool = False, quiet: bool = False) -> dict[str, Any]:
    """Every dbt model in one run: incremental marts resume where their inputs changed, or are
    rebuilt from scratch with ``full_refresh``."""
    from azak_pipelines.definitions import defs
    from azak_pipelines.defs.dbt.assets import dbt_models

    say = (lambda *_, **__: None) if quiet else print
    say(f"building the marts{' from scratch' if full_refresh else ''}…", flush=True)
    started = time.monotonic()
    result = run_job(defs(), dagster_instance(), "marts_job",
                     run_config={"ops": {dbt_models.op.name: {"config": {"full_refresh": full_refresh}}}})
    require_success(result, "the marts run")
    built = len(result.get_asset_materialization_events())
    seconds = time.monotonic() - started
    say(f"done in {seconds:.1f} s: {built} models and seeds, run {result.run_id}")
    return {"run_id": result.run_id, "built": built, "full_refresh": full_refresh, "seconds": round(seconds, 1)}


def _universe_loaded(runtime: Runtime) -> bool:
    import psycopg

    with psycopg.connect(runtime.database.render(), autocommit=True) as conn:
        if not table_exists(conn, "raw.stocks"):
            return False
        return conn.execute("SELECT EXISTS (SELECT 1 FROM raw.stocks)").fetchone() == (True,)


def import_news(runtime: Runtime, paths: list[Path], quiet: bool = False, bars: bool = False) -> dict[str, Any]:
    """Load JSON Lines news through ``raw/imported_news`` and ``news_articles`` (one run); with
    ``bars``, a bar of files read, then a spinner while the run writes them."""
    from azak_pipelines.definitions import defs
    from azak_pipelines.defs.calendar.partitions import NEWS_START
    from azak_pipelines.lib.news.jsonl import NewsFileError, read_news_file

    say = (lambda *_: None) if quiet else print
    paths = [p.expanduser().resolve() for p in paths]
    days = []
    rejected = 0
    for path in progress.each_file(paths, "reading", bars):
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        try:
            parsed = read_news_file(path)
        except NewsFileError as exc:
            raise UsageError(str(exc)) from None
        days += [item.published_day for item in parsed.items]
        rejected += len(parsed.rejected)
        for row in parsed.rejected[:10]:
            say(f"  rejected {row.locator}: {row.reason}")
    say(f"{len(paths)} file(s): {len(days):,} valid items, {rejected:,} rejected")
    if not days:
        raise UsageError("no valid items to import")
    first, last = min(days), max(days)
    if first < date.fromisoformat(NEWS_START):
        raise UsageError(f"items start on {first}, before the first news partition ({NEWS_START})")
    started = time.monotonic()
    if not _universe_loaded(runtime):
        say("the KRX universe is not loaded yet (linking needs it): materializing raw/stocks first…")
        universe = run_job(defs(), dagster_instance(), "universe_job", tags={"azak/origin": "import"})
        require_success(universe, "the universe run")
    say(f"importing {first} … {last} through raw/imported_news and computed/news_articles…")
    with progress.working("writing through raw/imported_news and computed/news_articles", bars):
        result = run_job(defs(), dagster_instance(), "imported_news_job", (str(first), str(last)),
                         op_config(IMPORTED_NEWS, {"paths": [str(p) for p in paths]}),
                         {"azak/origin": "import"})
    require_success(result, "the import run")
    report = materialization(result, IMPORTED_NEWS) or {}
    articles = materialization(result, NEWS_ARTICLES) or {}
    say(f"done in {time.monotonic() - started:.1f} s: {report.get('rows_new', 0):,} new items, "
        f"{articles.get('stories', 0):,} stories in the range (run {result.run_id})")
    say("with the daemon running (azak serve), its automation embeds these days and finds their similar "
        "news; predictions of past days cost model calls and stay an explicit backfill, capped by "
        "AZAK_LLM_BUDGET_USD:\n"
        f"  {PREDICTIONS_BACKFILL.format(first=first, last=last)}")
    return {"run_id": result.run_id, **report}


def housekeeping(runtime: Runtime, as_of: date | None, dry_run: bool, quiet: bool = False) -> dict[str, Any]:
    """Run retention_job now (what the nightly schedule runs) and print what it dropped, or with
    ``dry_run`` what it would drop; per table, what its observation recorded."""
    from azak_pipelines.definitions import defs
    from azak_pipelines.defs.market.ops import drop_expired_partitions

    config = {"as_of": str(as_of) if as_of else "", "dry_run": dry_run}
    result = run_job(defs(), dagster_instance(), "retention_job",
                     run_config={"ops": {drop_expired_partitions.name: {"config": config}}},
                     tags={"azak/origin": "cli"})
    require_success(result, "the retention run")
    say = (lambda *_: None) if quiet else print
    seen: dict[str, Any] = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            observation = event.asset_observation_data.asset_observation
            meta = {k: v.value for k, v in observation.metadata.items()}
            seen[observation.asset_key.to_user_string()] = meta
            names = [p["name"] for p in meta["partitions_dropped"]] or ["nothing"]
            say(f"{observation.asset_key.to_user_string()}: {'would drop' if dry_run else 'dropped'} "
                f"{', '.join(names)} (before {meta['cutoff']}, {meta['retention_months']} months kept): "
                f"{meta['rows_freed']} rows, {meta['bytes_freed']} bytes")
    say(f"run {result.run_id}")
    return {"run_id": result.run_id, "dry_run": dry_run, "tables": seen}
