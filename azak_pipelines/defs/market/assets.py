"""Market data from KIS (live or replayed) and from files, into ``raw``.

Every price asset is partitioned by KST calendar day with a single-run backfill policy: a range
of partitions is one run that pages KIS per stock over the whole range and writes with one
``COPY``, fed as the stocks come in. Closed days materialize as empty, annotated partitions. If any
stock fails, the run fails before anything is written.
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Generic, TypeVar

import dagster as dg

from azak_core.market import KST, STOCK_CODE, bar_problem
from azak_pipelines.defs import pools
from azak_pipelines.defs.calendar.partitions import market_days
from azak_pipelines.defs.common import (
    AssetOptions,
    AssetResult,
    Window,
    asset_key,
    closed_days_note,
    kst_today,
    preview,
    watchlist_codes,
    window_of,
)
from azak_pipelines.defs.market import tables
from azak_pipelines.defs.market.resources import KisResource, KisSession
from azak_pipelines.defs.market.sectors import default_index_codes
from azak_pipelines.defs.reference import tables as reference_tables
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar, utc_now
from azak_pipelines.lib.kis import parsers
from azak_pipelines.lib.kis.client import INDEX_DAILY as INDEX_DAILY_TR
from azak_pipelines.lib.kis.client import Tr
from azak_pipelines.lib.kis.parsers import KisApiError
from azak_pipelines.lib.market.price_files import PriceFileError, codes_in_file, read_price_file
from azak_pipelines.lib.quarantine import Rejected, reasons_summary, record_quarantine
from azak_pipelines.lib.warehouse import copy_text, merge_rows, replace_slice, table_exists

T = TypeVar("T")
Row = tuple[Any, ...]
NULL = copy_text(None)
REPLAY_MISSING = "OPSQ0003"  # the replay server has no recording for the request
STOCKS = asset_key(reference_tables.STOCKS)
FEW = 10  # names a file import's metadata lists


class MarketOptions(AssetOptions, total=False):
    deps: list[dg.AssetKey]  # not in AssetOptions: most modules pass ``deps=`` next to their options


DAILY: MarketOptions = {"group_name": "market", "kinds": {"postgres"}, "partitions_def": market_days,
                        "backfill_policy": dg.BackfillPolicy.single_run(), "pool": pools.KIS}
PARTITIONED: MarketOptions = {**DAILY, "deps": [STOCKS]}
PER_STOCK: MarketOptions = {"group_name": "market", "kinds": {"postgres"}, "deps": [STOCKS], "pool": pools.KIS}


@dataclass
class Collected:
    mode: str
    requests: int
    missing: list[str]


async def per_code(session: KisSession, codes: list[str], fetch: Callable[[str], Awaitable[T]],
                   progress: Callable[[int, int], None] | None = None,
                   each: Callable[[str, T], None] | None = None) -> tuple[dict[str, T], list[str]]:
    """Fetch for every code concurrently; the client bounds concurrency and rate. ``each`` is
    handed every code's result as soon as it is in. Twice as many codes as the client has requests
    in flight are under way at a time, in order: enough to keep every request slot busy, few enough
    that codes finish one after another from the start (all codes at once would page in lockstep
    and every one of them finish at the end, leaving the writer nothing to do until then).

    In replay mode a code without a recording is reported back, not fatal.
    """
    done = [0]
    step = max(1, len(codes) // 10)
    under_way = asyncio.Semaphore(2 * session.client.concurrency)

    async def one(code: str) -> tuple[str, T | None]:
        try:
            async with under_way:
                value = await fetch(code)
            if each is not None:
                each(code, value)
            return code, value
        except KisApiError as exc:
            if session.mode == "replay" and exc.msg_cd == REPLAY_MISSING:
                return code, None
            raise
        finally:
            done[0] += 1
            if progress is not None and (done[0] % step == 0 or done[0] == len(codes)):
                progress(done[0], len(codes))

    results = await asyncio.gather(*(one(code) for code in codes))
    return ({code: value for code, value in results if value is not None},
            [code for code, value in results if value is None])


def source_meta(collected: Collected, codes: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": f"kis:{collected.mode}", "codes": len(codes),
                            "kis_requests": collected.requests}
    if collected.missing:
        meta["codes_without_recording"] = collected.missing
    return meta


@dataclass
class Fetched(Generic[T]):
    """What a KIS run found, and the provenance and fetch time every row of it carries."""

    found: T
    collected: Collected
    provenance: str
    fetched_at: datetime


def fetch(kis: KisResource, warehouse: Warehouse, replay_at: datetime,
          work: Callable[[KisSession], Awaitable[tuple[T, list[str]]]]) -> Fetched[T]:
    """Run ``work`` with a KIS session (live, or replay with its clock at ``replay_at``): what it
    found and the codes without a recording, stamped with the provenance and fetch time."""
    async def main() -> tuple[T, Collected]:
        async with kis.session(warehouse.database_url, replay_at) as session:
            found, missing = await work(session)
            return found, Collected(session.mode, session.client.requests_sent, missing)

    found, collected = asyncio.run(main())
    return Fetched(found, collected, f"kis:{collected.mode}", utc_now())


def kis_to_table(kis: KisResource, warehouse: Warehouse, codes: list[str], window: Window | None,
                 work: Callable[[KisSession], Awaitable[tuple[T, list[str]]]],
                 rows: Callable[[Fetched[T]], list[Row]],
                 write: Callable[[list[Row], Fetched[T]], tuple[int, dict[str, Any]]]) -> AssetResult:
    """A KIS asset's run: :func:`fetch` over ``window`` (or as of now), ``rows`` of what was found,
    ``write`` them (it returns the row count and its metadata), and the metadata every KIS asset
    reports: the window and its closed days, the source, the write's figures and the row count."""
    fetched = fetch(kis, warehouse, window.replay_clock() if window else utc_now(), work)
    written, write_meta = write(rows(fetched), fetched)
    window_meta = {"window": str(window), **closed_days_note(window)} if window else {}
    return dg.MaterializeResult(metadata={
        **window_meta, **source_meta(fetched.collected, codes), **write_meta, "dagster/row_count": written,
    })


def paper_account_skip(context: dg.AssetExecutionContext, kis: KisResource, *trs: Tr) -> AssetResult | None:
    """On a live paper account, a materialization that writes nothing and says why (KIS refuses
    these TRs there); ``None`` when the TRs can be called."""
    if kis.mode() != "live" or kis.env == "real":
        return None
    reason = (f"not collected: KIS offers {', '.join(tr.tr_id for tr in trs)} on real accounts only and "
              f"refuses them on a paper (모의투자) account (AZAK_KIS_ENV={kis.env}); set AZAK_KIS_ENV=real "
              "with a real account's app key and secret to collect them")
    context.log.warning(reason)
    return dg.MaterializeResult(metadata={"skipped": reason, "dagster/row_count": 0})


# -- daily prices ------------------------------------------------------------------------------------


class DailyPricesConfig(dg.Config):
    """Where rows come from: KIS (default) or price files (what ``azak import prices`` passes)."""

    source: str = "kis"
    paths: list[str] = []
    file_format: str = "auto"
    code: str | None = None
    price_basis: str = "adjusted"
    codes: list[str] = []  # KIS: these stocks instead of the watch-list


def _kis_daily(code: str, bars: list[parsers.DailyBar], basis: str, provenance: str,
               fetched_at: datetime) -> tuple[list[tuple[Any, ...]], list[Rejected]]:
    rows, rejected = [], []
    for bar in bars:
        locator = f"{provenance}:{code}:{bar.trade_date}"
        problem = bar_problem(bar.open, bar.high, bar.low, bar.close, bar.volume)
        if problem:
            rejected.append(Rejected(locator, problem, repr(bar), (code, bar.trade_date)))
        else:
            rows.append((code, bar.trade_date, basis, bar.open, bar.high, bar.low, bar.close,
                         bar.volume, bar.trading_value, provenance, fetched_at))
    return rows, rejected


def rejected_keys(rejected: list[Rejected], basis: str) -> list[tuple[Any, ...]]:
    """The natural keys of the rejected bars: the rows stored for them stay (a valid bar for the
    same key, elsewhere in the input, still replaces its row)."""
    return [(*r.key, basis) for r in rejected if r.key is not None]


@dataclass
class DailyStream:
    """What :func:`daily_rows` learns besides the rows: filled in as they are read."""

    rejected: list[Rejected] = field(default_factory=list)
    collected: Collected | None = None  # set once every stock is fetched
    last: list[Row] = field(default_factory=list)  # the newest stock's rows (a preview)


def daily_rows(log: Any, kis: KisResource, warehouse: Warehouse, codes: list[str], window: Window,
               basis: str, stream: DailyStream) -> Iterator[Row]:
    """Rows of raw.daily_prices for ``codes`` over ``window`` from KIS, stock by stock as each
    one's pages are in. The requests run in a thread of their own, so that what the caller does
    with the rows (a ``COPY``) overlaps them and the rate limit, not the write, bounds a live
    backfill. Rejected bars go to ``stream.rejected``; ``stream.collected`` is set at the end. A
    failed fetch raises here, in the caller's transaction; a caller that stops reading cancels it."""
    arrived: queue.Queue[Any] = queue.Queue()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = []
    stopped = threading.Event()  # the reader is gone: its run failed or was terminated

    async def work(session: KisSession) -> tuple[None, list[str]]:
        task = asyncio.current_task()
        assert task is not None
        running.append((asyncio.get_running_loop(), task))  # before the check: the reader sees one or the other
        if stopped.is_set():
            raise asyncio.CancelledError
        if not window.trading_days():
            return None, []
        _, missing = await per_code(session, codes, lambda code: session.client.daily_bars(
            code, window.start, window.last, adjusted=basis == "adjusted"),
            each=lambda code, bars: arrived.put((code, bars, session.provenance, utc_now())))
        return None, missing

    def requests() -> None:
        try:
            arrived.put(fetch(kis, warehouse, window.replay_clock(), work).collected)
        except BaseException as exc:  # handed to the reader, which raises it
            arrived.put(exc)

    thread = threading.Thread(target=requests, name="kis-daily-bars", daemon=True)
    thread.start()
    done, step = 0, max(1, len(codes) // 10)
    try:
        while True:
            item = arrived.get()
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, Collected):
                stream.collected = item
                return
            code, bars, provenance, fetched_at = item
            rows, rejected = _kis_daily(code, bars, basis, provenance, fetched_at)
            stream.rejected += rejected
            stream.last = rows[-5:] or stream.last
            yield from rows
            done += 1
            if done % step == 0 or done == len(codes):
                log.info("daily bars: %s/%s stocks fetched (%s)", done, len(codes), window)
    finally:
        stopped.set()
        if thread.is_alive() and running:
            loop, task = running[0]
            with contextlib.suppress(RuntimeError):  # its loop already closed: the thread is ending anyway
                loop.call_soon_threadsafe(task.cancel)
        thread.join()


def fetch_daily_bars(log: Any, kis: KisResource, warehouse: Warehouse, codes: list[str], window: Window,
                     basis: str) -> tuple[list[tuple[Any, ...]], list[Rejected], Collected]:
    """Daily bars of ``codes`` over ``window`` from KIS, all at once: rows of raw.daily_prices, the
    bars rejected with their reason, and what was asked of KIS."""
    stream = DailyStream()
    rows = list(daily_rows(log, kis, warehouse, codes, window, basis, stream))
    assert stream.collected is not None
    return rows, stream.rejected, stream.collected


def _file_rows(paths: list[Path], config: DailyPricesConfig, window: Window,
               rejected: list[Rejected], outside: list[int]) -> Iterator[tuple[date, str]]:
    """(trade date, COPY line) per valid row: files are the bulk path, so rows are rendered once."""
    basis = copy_text(config.price_basis)
    start, end = window.start, window.end
    iso: dict[date, str] = {}
    for path in paths:
        fetched_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        tail = f"\t{copy_text('file:' + path.name)}\t{fetched_at}\n"
        for item in read_price_file(path, config.file_format, config.code):
            if isinstance(item, Rejected):
                rejected.append(item)
                continue
            code, day, open_, high, low, close, volume, value, _ = item
            if not start <= day < end:
                outside[0] += 1
                continue
            day_text = iso.get(day) or iso.setdefault(day, day.isoformat())
            yield day, (f"{code}\t{day_text}\t{basis}\t{open_ or NULL}\t{high or NULL}\t"
                        f"{low or NULL}\t{close}\t{volume}\t{NULL if value is None else value}{tail}")


class Span:
    """The first and last partition value of the ``(partition value, line)`` pairs passed through."""

    def __init__(self) -> None:
        self.first: Any = None
        self.last: Any = None

    def track(self, pairs: Iterable[tuple[Any, str]]) -> Iterator[tuple[Any, str]]:
        for pair in pairs:
            value = pair[0]
            self.first = value if self.first is None or value < self.first else self.first
            self.last = value if self.last is None or value > self.last else self.last
            yield pair

    def span(self) -> tuple[Any, Any] | None:
        return None if self.first is None else (self.first, self.last)


def _import_files(conn: Any, config: DailyPricesConfig, window: Window,
                  rejected: list[Rejected]) -> tuple[Any, dict[str, Any]]:
    paths = [Path(p).expanduser().resolve() for p in config.paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths or missing:
        raise dg.Failure(f"no such price files: {missing or '(none given)'}")
    try:
        codes = {c for path in paths for c in codes_in_file(path, config.file_format, config.code)}
        outside = [0]
        valid = Span()
        # the run's window spans every dated row of the files, rejected ones too (the command reads
        # only their dates): the stored rows outside the valid rows' span stay
        result = replace_slice(
            conn, tables.DAILY_PRICES, valid.track(_file_rows(paths, config, window, rejected, outside)),
            window.start, window.end,
            scope={"stock_code": sorted(codes), "price_basis": [config.price_basis]},
            text_lines=True, keep=lambda: rejected_keys(rejected, config.price_basis), written_span=valid.span,
        )
    except PriceFileError as exc:
        raise dg.Failure(str(exc)) from None
    # counts and a few names: Dagster copies this metadata into the event of every partition day
    # of the run, so whole lists (thousands of files) cost their size 3,650 times over a decade
    return result, {"source": "files", "files": len(paths), "first_files": [p.name for p in paths[:FEW]],
                    "codes": len(codes), "first_codes": sorted(codes)[:FEW], "rows_outside_window": outside[0]}


@dg.asset(key=asset_key(tables.DAILY_PRICES), **PARTITIONED)
def daily_prices(context: dg.AssetExecutionContext, config: DailyPricesConfig,
                 warehouse: Warehouse, kis: KisResource) -> AssetResult:
    """Daily OHLCV per stock: the watch-list from KIS FHKST03010100 (adjusted prices unless
    ``price_basis: raw``; both bases are kept apart), or CSV files (English or pykrx layouts) when
    ``source: files``. The selected window is replaced per stock in one transaction. Halt days
    (zero volume) are kept; malformed rows are quarantined with their reason, and the valid row
    stored for a rejected row's day stays (``rows_kept``)."""
    if config.price_basis not in {"adjusted", "raw"}:
        raise dg.Failure(f"price_basis must be adjusted or raw, got {config.price_basis!r}")
    window = window_of(context)
    rejected: list[Rejected] = []
    meta: dict[str, Any] = {"window": str(window), **closed_days_note(window)}
    with warehouse.connect() as conn:
        if config.source == "files":
            result, extra = _import_files(conn, config, window, rejected)
        elif config.source == "kis":
            bad = [c for c in config.codes if not STOCK_CODE.match(c)]
            if bad:
                raise dg.Failure(f"codes must be 6 characters [0-9A-Z]: {bad}")
            codes = sorted(set(config.codes)) or watchlist_codes(conn)
            # rows are written as each stock's pages come in (the transaction stays open meanwhile)
            stream = DailyStream()
            result = replace_slice(conn, tables.DAILY_PRICES,
                                   daily_rows(context.log, kis, warehouse, codes, window, config.price_basis,
                                              stream), window.start, window.end,
                                   scope={"stock_code": codes, "price_basis": [config.price_basis]},
                                   keep=lambda: rejected_keys(stream.rejected, config.price_basis))
            assert stream.collected is not None
            rejected = stream.rejected
            extra = {**source_meta(stream.collected, codes), "preview": preview(
                stream.last, ["code", "date", "basis", "open", "high", "low", "close", "volume"])}
        else:
            raise dg.Failure(f"source must be kis or files, got {config.source!r}")
        record_quarantine(conn, "raw/daily_prices", window.start, window.end, rejected, utc_now())
    context.log.info("daily_prices %s: %s rows, %s rejected", window, result.written, len(rejected))
    return dg.MaterializeResult(metadata={
        **meta, **extra, **result.metadata(), "dagster/row_count": result.written,
        "rows_rejected": len(rejected), "rejected": dg.MetadataValue.md(reasons_summary(rejected)),
        # what `azak import prices` prints: the run is where the files' rows are parsed
        "first_rejections": [f"{row.locator}: {row.reason}" for row in rejected[:FEW]],
    })


# -- minute bars -------------------------------------------------------------------------------------


@dg.asset(key=asset_key(tables.MINUTE_PRICES), **PARTITIONED)
def minute_prices(context: dg.AssetExecutionContext, warehouse: Warehouse,
                  kis: KisResource) -> AssetResult:
    """One-minute bars for the watch-list. Today's partition (during the session) is topped up
    with the newest bars (FHKST03010200) and never loses earlier ones; past sessions are fetched
    whole (FHKST03010230, real accounts, about a year of history) and replaced."""
    window = window_of(context)
    today = kst_today()
    sessions = window.trading_days()
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)
        live_today = kis.mode() == "live" and today in sessions
        past = [d for d in sessions if not (live_today and d == today)]

        def write(rows: list[Row], _: Fetched[list[parsers.MinuteBar]]) -> tuple[int, dict[str, Any]]:
            written = 0
            past_end = today if live_today else window.end
            if window.start < past_end:
                written += replace_slice(conn, tables.MINUTE_PRICES, [r for r in rows if r[1] < past_end],
                                         window.start, past_end, scope={"stock_code": codes}).written
            if live_today:
                written += merge_rows(conn, tables.MINUTE_PRICES, [r for r in rows if r[1] == today],
                                      today, date.fromordinal(today.toordinal() + 1)).written
            return written, {"rows_written": written, "today_topped_up": bool(live_today)}

        return kis_to_table(kis, warehouse, codes, window,
                            lambda session: _minute_bars(session, conn, codes, past, today if live_today else None),
                            _minute_rows, write)


async def _minute_bars(session: KisSession, conn: Any, codes: list[str], past: list[date],
                       today: date | None) -> tuple[list[parsers.MinuteBar], list[str]]:
    """Whole past sessions, then (live, in session) today's bars newer than the stored ones."""
    bars: list[parsers.MinuteBar] = []
    missing: list[str] = []
    for day in past:
        def past_bars(code: str, d: date = day) -> Awaitable[list[parsers.MinuteBar]]:
            return session.client.minute_bars_past(code, d)

        found, absent = await per_code(session, codes, past_bars)
        missing += [f"{code}@{day}" for code in absent]
        bars += [bar for code_bars in found.values() for bar in code_bars]
    if today is not None:
        now = utc_now().astimezone(KST).time()
        found, _ = await per_code(session, codes, lambda code: session.client.minute_bars_today(
            code, until=min(now, time(15, 30)), since=_latest_bar(conn, code, today)))
        bars += [bar for code_bars in found.values() for bar in code_bars]
    return bars, missing


def _minute_rows(fetched: Fetched[list[parsers.MinuteBar]]) -> list[Row]:
    provenance, fetched_at = fetched.provenance, fetched.fetched_at
    return [(b.stock_code, b.trade_date, b.bar_time, b.open, b.high, b.low, b.close, b.volume,
             provenance, fetched_at) for b in fetched.found]


def _latest_bar(conn: Any, code: str, day: date) -> time | None:
    """The newest stored bar of ``day``, so a top-up fetches only what is newer."""
    if not table_exists(conn, tables.MINUTE_PRICES):
        return None
    row = conn.execute(
        "SELECT max(bar_time) FROM raw.minute_prices WHERE stock_code = %s AND trade_date = %s",
        (code, day)).fetchone()
    return row[0].astimezone(KST).time() if row and row[0] else None


# -- quote snapshots ---------------------------------------------------------------------------------


@dg.asset(key=asset_key(tables.QUOTE_SNAPSHOTS), **PARTITIONED)
def quote_snapshots(context: dg.AssetExecutionContext, warehouse: Warehouse,
                    kis: KisResource) -> AssetResult:
    """Quote (FHKST01010100) and 10-level order book (FHKST01010200) per watch-list stock. Live,
    a run adds one snapshot per stock to today's partition (every 5 minutes in session); a quote
    cannot be fetched for the past. Replay re-takes the recorded snapshots of each day."""
    window = window_of(context)
    today = kst_today()
    live = kis.mode() == "live"
    note = {} if not live or window.start <= today < window.end else {
        "note": "quotes are only available live, for the current session; past days stay empty"}
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)

        async def work(session: KisSession) -> tuple[list[Row], list[str]]:
            if session.mode == "live":
                open_today = window.start <= today < window.end and krx_calendar().phase(utc_now()) != "closed"
                return (await _snapshot(session, codes, utc_now()) if open_today else []), []
            return await _replayed_snapshots(session, codes, window), []

        def write(rows: list[Row], _: Fetched[list[Row]]) -> tuple[int, dict[str, Any]]:
            if live:
                result = merge_rows(conn, tables.QUOTE_SNAPSHOTS, rows, window.start, window.end)
            else:
                result = replace_slice(conn, tables.QUOTE_SNAPSHOTS, rows, window.start, window.end,
                                       scope={"stock_code": codes})
            return result.written, {**result.metadata(), **note}

        return kis_to_table(kis, warehouse, codes, window, work, lambda fetched: fetched.found, write)


async def _snapshot(session: KisSession, codes: list[str], captured_at: datetime) -> list[Row]:
    """One quote and order book per stock, as of ``captured_at``."""
    async def both(code: str) -> tuple[parsers.Quote, parsers.OrderBook]:
        return await session.client.quote(code), await session.client.orderbook(code)

    found, _ = await per_code(session, codes, both)
    day = captured_at.astimezone(KST).date()
    return [_quote_row(code, day, captured_at, quote, book, session.provenance)
            for code, (quote, book) in sorted(found.items())]


async def _replayed_snapshots(session: KisSession, codes: list[str], window: Window) -> list[Row]:
    """Every recorded snapshot of the window's sessions, with the replay clock at each."""
    assert session.simulator is not None
    rows: list[Row] = []
    for day in window.trading_days():
        stamps = sorted({t for code in codes for t in session.simulator.capture_times(code, day)})
        for stamp in stamps:
            def frozen(at: datetime = stamp) -> datetime:
                return at

            session.simulator.clock = frozen
            rows += await _snapshot(session, codes, stamp)
    return rows


def _quote_row(code: str, day: date, captured_at: datetime, quote: parsers.Quote,
               book: parsers.OrderBook, provenance: str) -> tuple[Any, ...]:
    return (code, day, captured_at, quote.price, quote.change, quote.change_sign, quote.change_rate,
            quote.open, quote.high, quote.low, quote.volume, quote.trading_value, quote.per,
            quote.pbr, quote.eps, quote.bps, quote.market_cap_100m_krw, book.ask_prices,
            book.ask_quantities, book.bid_prices, book.bid_quantities, book.total_ask_quantity,
            book.total_bid_quantity, provenance, utc_now())


# -- investor flows and after-hours prices (KIS keeps 30 sessions) -------------------------------------


def _covered_write(conn: Any, spec: Any, rows: list[Row], window: Window,
                   codes: list[str]) -> tuple[int, dict[str, Any]]:
    """Replace only the part of the window KIS still covers, so older history is never erased."""
    dates = sorted({row[1] for row in rows})
    if not dates:
        return len(rows), {"rows_written": 0, "uncovered_trading_days": len(window.trading_days()),
                           "note": "KIS keeps only the last 30 sessions; nothing in this window is covered"}
    start = max(window.start, dates[0])
    result = replace_slice(conn, spec, rows, start, window.end, scope={"stock_code": codes})
    uncovered = [d for d in window.trading_days() if d < start]
    meta = {**result.metadata(), "covered_from": str(start), "uncovered_trading_days": len(uncovered)}
    if uncovered:
        meta["note"] = "KIS keeps only the last 30 sessions; earlier days of this window are untouched"
    return len(rows), meta


@dg.asset(key=asset_key(tables.INVESTOR_FLOWS), **PARTITIONED)
def investor_flows(context: dg.AssetExecutionContext, warehouse: Warehouse,
                   kis: KisResource) -> AssetResult:
    """Daily net buying by individuals, foreigners and institutions (FHKST01010900; quantities
    in shares, values in millions of KRW). KIS serves the last 30 sessions, so a backfill fills what
    it still has and leaves older days as they are."""
    window = window_of(context)
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)

        async def work(session: KisSession) -> tuple[dict[str, list[parsers.InvestorFlow]], list[str]]:
            return await per_code(session, codes, session.client.investor_flows)

        def rows(fetched: Fetched[dict[str, list[parsers.InvestorFlow]]]) -> list[Row]:
            return [(f.stock_code, f.trade_date, f.close, f.individual_net_qty, f.foreign_net_qty,
                     f.institution_net_qty, f.individual_net_value, f.foreign_net_value,
                     f.institution_net_value, fetched.provenance, fetched.fetched_at)
                    for items in fetched.found.values() for f in items if window.start <= f.trade_date < window.end]

        return kis_to_table(kis, warehouse, codes, window, work, rows, lambda rows, _: _covered_write(
            conn, tables.INVESTOR_FLOWS, rows, window, codes))


@dg.asset(key=asset_key(tables.OVERTIME_PRICES), **PARTITIONED)
def overtime_prices(context: dg.AssetExecutionContext, warehouse: Warehouse,
                    kis: KisResource) -> AssetResult:
    """After-hours single-price session results (FHPST02320000), last 30 sessions per stock."""
    window = window_of(context)
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)

        async def work(session: KisSession) -> tuple[dict[str, list[parsers.OvertimeBar]], list[str]]:
            return await per_code(session, codes, session.client.overtime_daily)

        def rows(fetched: Fetched[dict[str, list[parsers.OvertimeBar]]]) -> list[Row]:
            return [(b.stock_code, b.trade_date, b.price, b.change, b.change_sign, b.change_rate,
                     b.volume, b.trading_value, fetched.provenance, fetched.fetched_at)
                    for items in fetched.found.values() for b in items if window.start <= b.trade_date < window.end]

        return kis_to_table(kis, warehouse, codes, window, work, rows, lambda rows, _: _covered_write(
            conn, tables.OVERTIME_PRICES, rows, window, codes))


# -- index levels ------------------------------------------------------------------------------------


class IndexDailyConfig(dg.Config):
    """Which indices; empty: KOSPI, KOSDAQ, KOSPI 200 and every sector of
    ``dbt_project/seeds/kis_sectors.csv``."""

    index_codes: list[str] = []


@dg.asset(key=asset_key(tables.INDEX_DAILY), **DAILY)
def index_daily(context: dg.AssetExecutionContext, config: IndexDailyConfig, warehouse: Warehouse,
                kis: KisResource) -> AssetResult:
    """Daily index levels (FHPUP02120000): KOSPI 0001, KOSDAQ 1001, KOSPI 200 2001 and the daily
    series of every sector in ``seeds/kis_sectors.csv`` by default (names checked against KIS's
    sector master); the run config may name other codes. Volume is in thousands of shares, value
    in millions of KRW, as KIS reports them. Real accounts only: skipped with the reason on a
    paper account."""
    skipped = paper_account_skip(context, kis, INDEX_DAILY_TR)
    if skipped is not None:
        return skipped
    window = window_of(context)
    index_codes = config.index_codes or default_index_codes()

    async def work(session: KisSession) -> tuple[dict[str, list[parsers.IndexBar]], list[str]]:
        if not window.trading_days():
            return {}, []
        return await per_code(session, index_codes, lambda code: session.client.index_daily(
            code, window.start, window.last))

    def rows(fetched: Fetched[dict[str, list[parsers.IndexBar]]]) -> list[Row]:
        return [(b.index_code, b.trade_date, b.open, b.high, b.low, b.close, b.volume, b.trading_value,
                 fetched.provenance, fetched.fetched_at) for items in fetched.found.values() for b in items]

    def write(rows: list[Row], fetched: Fetched[dict[str, list[parsers.IndexBar]]]) -> tuple[int, dict[str, Any]]:
        with warehouse.connect() as conn:
            result = replace_slice(conn, tables.INDEX_DAILY, rows, window.start, window.end,
                                   scope={"index_code": sorted(fetched.found)})
        if fetched.collected.missing:
            context.log.warning("no data for index codes %s", ", ".join(fetched.collected.missing))
        return result.written, result.metadata()

    return kis_to_table(kis, warehouse, index_codes, window, work, rows, write)


# -- fundamentals (not partitioned by day) -------------------------------------------------------------


@dg.asset(key=asset_key(tables.FINANCIAL_RATIOS), **PER_STOCK)
def financial_ratios(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     kis: KisResource) -> AssetResult:
    """Annual and quarterly financial ratios per watch-list stock (FHKST66430300): growth of
    revenue, operating and net income, ROE, EPS, BPS, debt and reserve ratios. The table is range
    partitioned by period; re-runs replace the periods KIS returns for each stock."""
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)

        async def work(session: KisSession) -> tuple[dict[str, list[parsers.FinancialRatio]], list[str]]:
            async def both(code: str) -> list[parsers.FinancialRatio]:
                return (await session.client.financial_ratios(code, "annual")
                        + await session.client.financial_ratios(code, "quarterly"))

            return await per_code(session, codes, both)

        def write(rows: list[Row],
                  fetched: Fetched[dict[str, list[parsers.FinancialRatio]]]) -> tuple[int, dict[str, Any]]:
            written = 0
            if rows:
                first, last = min(row[1] for row in rows), max(row[1] for row in rows)
                written = replace_slice(conn, tables.FINANCIAL_RATIOS, rows, first,
                                        date.fromordinal(last.toordinal() + 1),
                                        scope={"stock_code": sorted(fetched.found)}).written
            return written, {"rows_written": written, "periods": len({row[2] for row in rows})}

        return kis_to_table(kis, warehouse, codes, None, work, _ratio_rows, write)


def _ratio_rows(fetched: Fetched[dict[str, list[parsers.FinancialRatio]]]) -> list[Row]:
    return [(r.stock_code, r.period_end, r.period, r.period_kind, r.revenue_growth,
             r.operating_income_growth, r.net_income_growth, r.roe, r.eps, r.bps, r.debt_ratio,
             r.reserve_ratio, fetched.provenance, fetched.fetched_at)
            for items in fetched.found.values() for r in items]


@dg.asset(key=asset_key(tables.PRODUCT_INFO), **PER_STOCK)
def product_info(context: dg.AssetExecutionContext, warehouse: Warehouse,
                 kis: KisResource) -> AssetResult:
    """Listing metadata per watch-list stock (CTPF1604R): product name, classification, type,
    risk grade and first registration date."""
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)

        async def work(session: KisSession) -> tuple[dict[str, parsers.ProductInfo], list[str]]:
            return await per_code(session, codes, session.client.product_info)

        def rows(fetched: Fetched[dict[str, parsers.ProductInfo]]) -> list[Row]:
            return [(i.stock_code, i.product_name, i.classification, i.product_type, i.risk_grade,
                     i.first_registered_on, fetched.provenance, fetched.fetched_at) for i in fetched.found.values()]

        def write(rows: list[Row], fetched: Fetched[dict[str, parsers.ProductInfo]]) -> tuple[int, dict[str, Any]]:
            result = replace_slice(conn, tables.PRODUCT_INFO, rows, scope={"stock_code": sorted(fetched.found)})
            return result.written, result.metadata()

        return kis_to_table(kis, warehouse, codes, None, work, rows, write)
