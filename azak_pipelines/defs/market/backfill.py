"""The price backfill that scales out: one run, one step per shard of stocks.

``raw/daily_prices`` over a range is a single step (single-run backfill policy), so one process
does all of it. ``daily_prices_backfill_job`` splits the stocks into shards instead: each shard is
a step that fetches its stocks over the whole window and replaces their slice of the window in its
own transaction. With ``AZAK_EXECUTOR=celery`` the shards run on the Celery workers (``azak
worker``); each claims a slot of the ``kis`` pool and all share the app key's rate limit through
PostgreSQL. A failed shard fails the run and leaves the other shards' stocks written; re-executing
the run from failure fetches only what failed. The last step records the rejected bars and a
materialization of every day of the window, as the asset's own run would.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg

from azak_core.market import STOCK_CODE
from azak_pipelines.defs import pools
from azak_pipelines.defs.common import Window, watchlist_codes
from azak_pipelines.defs.market import tables
from azak_pipelines.defs.market.assets import DailyStream, daily_rows
from azak_pipelines.defs.market.resources import KisResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import written_by
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.quarantine import Rejected, reasons_summary, record_quarantine
from azak_pipelines.lib.warehouse import replace_slice

DAILY_PRICES = dg.AssetKey(["raw", "daily_prices"])


class PriceBackfillConfig(dg.Config):
    start: str  # first day, ISO
    end: str  # last day (included), ISO
    codes: list[str] = []  # empty: the watch-list
    price_basis: str = "adjusted"
    shards: int = 2


@dataclass(frozen=True)
class Shard:
    codes: list[str]
    window: Window
    price_basis: str


@dataclass
class ShardResult:
    shard: Shard
    written: int
    requests: int
    source: str
    missing: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dg.op(out=dg.DynamicOut(Shard))
def stock_shards(config: PriceBackfillConfig, warehouse: Warehouse) -> Iterator[dg.DynamicOutput[Shard]]:
    """The stocks (given, or the watch-list) split into ``shards`` steps over the window."""
    try:
        first, last = date.fromisoformat(config.start), date.fromisoformat(config.end)
    except ValueError as exc:
        raise dg.Failure(f"start and end must be ISO dates: {exc}") from None
    if first > last:
        raise dg.Failure(f"start {first} is after end {last}")
    if config.price_basis not in {"adjusted", "raw"}:
        raise dg.Failure(f"price_basis must be adjusted or raw, got {config.price_basis!r}")
    if config.shards < 1:
        raise dg.Failure(f"shards must be at least 1, got {config.shards}")
    bad = [c for c in config.codes if not STOCK_CODE.match(c)]
    if bad:
        raise dg.Failure(f"codes must be 6 characters [0-9A-Z]: {bad}")
    if config.codes:
        codes = sorted(set(config.codes))
    else:
        with warehouse.connect() as conn:
            codes = watchlist_codes(conn)
    window = Window(first, last + timedelta(days=1))
    size = -(-len(codes) // config.shards)
    for number, offset in enumerate(range(0, len(codes), size)):
        yield dg.DynamicOutput(Shard(codes[offset:offset + size], window, config.price_basis),
                               mapping_key=f"shard_{number}")


@dg.op(pool=pools.KIS)
def daily_prices_shard(context: dg.OpExecutionContext, shard: Shard, warehouse: Warehouse,
                       kis: KisResource) -> ShardResult:
    """Daily bars of one shard's stocks over the window, replacing their slice of raw.daily_prices."""
    stream = DailyStream()
    rows = daily_rows(context.log, kis, warehouse, shard.codes, shard.window, shard.price_basis, stream)
    with warehouse.connect() as conn:
        result = replace_slice(conn, tables.DAILY_PRICES, rows, shard.window.start, shard.window.end,
                               scope={"stock_code": shard.codes, "price_basis": [shard.price_basis]})
    collected, rejected = stream.collected, stream.rejected
    assert collected is not None
    context.log.info("%s stocks, %s: %s rows, %s rejected", len(shard.codes), shard.window,
                     result.written, len(rejected))
    return ShardResult(shard, result.written, collected.requests, f"kis:{collected.mode}",
                       collected.missing, rejected)


@dg.op
def daily_prices_backfilled(context: dg.OpExecutionContext, results: list[ShardResult],
                            warehouse: Warehouse) -> None:
    """The shards' rejected bars into the quarantine, and one materialization per day of the window."""
    if not results:
        return
    window = results[0].shard.window
    rejected = [row for result in results for row in result.rejected]
    with warehouse.connect() as conn:
        record_quarantine(conn, "raw/daily_prices", window.start, window.end, rejected, utc_now())
    metadata: dict[str, Any] = {
        "window": str(window), "source": results[0].source, "shards": len(results),
        "codes": sum(len(r.shard.codes) for r in results),
        "kis_requests": sum(r.requests for r in results),
        "rows_written": sum(r.written for r in results), "rows_rejected": len(rejected),
        "rejected": dg.MetadataValue.md(reasons_summary(rejected)),
    }
    missing = [code for r in results for code in r.missing]
    if missing:
        metadata["codes_without_recording"] = missing
    for day in window.days():
        context.log_event(dg.AssetMaterialization(DAILY_PRICES, partition=day.isoformat(), metadata=metadata,
                                                  tags=written_by(context.run_id)))


@dg.job(tags={"azak/source": "kis"})
def daily_prices_backfill_job() -> None:
    """Daily bars over a date range in one run, a step per shard of stocks (`azak backfill prices
    --shards N`); with AZAK_EXECUTOR=celery the shards run on the Celery workers."""
    daily_prices_backfilled(stock_shards().map(daily_prices_shard).collect())
