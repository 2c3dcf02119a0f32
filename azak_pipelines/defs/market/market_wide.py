"""KIS's market-wide TRs into ``raw``: the rankings (rise, fall, volume) and the index snapshots
(composites and sectors). KIS offers them on real accounts only: on a paper (모의투자) account the
assets write nothing and say why in their materialization.

Live, a run takes the figures as of now (in the session and the closing-price window after it).
Replay re-takes each trading day of the window at its close, from the generated recordings
(``lib/kis/generated.py``).
"""

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.common import AssetResult, Window, asset_key, kst_today, preview, window_of
from azak_pipelines.defs.market import tables
from azak_pipelines.defs.market.assets import (
    DAILY,
    REPLAY_MISSING,
    Fetched,
    Row,
    kis_to_table,
    paper_account_skip,
    per_code,
)
from azak_pipelines.defs.market.resources import KisResource, KisSession
from azak_pipelines.defs.market.sectors import default_index_codes
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar, utc_now
from azak_pipelines.lib.kis import market_wide
from azak_pipelines.lib.kis.client import INDEX_PRICE, RANKING_FLUCTUATION, RANKING_VOLUME
from azak_pipelines.lib.kis.parsers import KisApiError
from azak_pipelines.lib.warehouse import merge_rows, replace_slice

# when a live run takes the figures: the session and the closing-price window after it, when the
# day's figures are final (not before the open: KIS still shows the previous session then)
LIVE_PHASES = {"regular", "after_hours_closing", "after_hours_single_price"}
RANKINGS = (market_wide.RISE, market_wide.FALL, market_wide.VOLUME)


def live_now(window: Window) -> datetime | None:
    """The time a live run takes its figures: now, when the window holds today and the market is
    in :data:`LIVE_PHASES`; otherwise ``None`` (KIS answers these TRs only as of now)."""
    now = utc_now()
    today = kst_today()
    if window.start <= today < window.end and krx_calendar().phase(now) in LIVE_PHASES:
        return now
    return None


Take = Callable[[KisSession, datetime], Awaitable[list[Row]]]


async def replayed_at_close(session: KisSession, window: Window, take: Take) -> tuple[list[Row], list[str]]:
    """``take`` on each trading day of ``window`` with the replay clock at that day's close; the
    days the recordings do not cover are reported back."""
    assert session.simulator is not None
    rows: list[Row] = []
    missing: list[str] = []
    for day in window.trading_days():
        close = krx_calendar().session(day).close

        def frozen(at: datetime = close) -> datetime:
            return at

        session.simulator.clock = frozen
        try:
            rows += await take(session, close)
        except KisApiError as exc:
            if exc.msg_cd != REPLAY_MISSING:
                raise
            missing.append(str(day))
    return rows, missing


async def collect(session: KisSession, window: Window, take: Take) -> tuple[list[Row], list[str]]:
    if session.mode == "replay":
        return await replayed_at_close(session, window, take)
    at = live_now(window)
    return (await take(session, at) if at else []), []


def _next_day(day: date) -> date:
    return day + timedelta(days=1)


# -- rankings ----------------------------------------------------------------------------------------


async def rankings_now(session: KisSession, captured_at: datetime) -> list[Row]:
    day = captured_at.astimezone(KST).date()
    rows: list[Row] = []
    for ranking in RANKINGS:
        rows += [(day, r.ranking, r.rank, r.stock_code, r.stock_name, r.price, r.change, r.change_sign,
                  r.change_rate, r.volume, r.trading_value, captured_at, session.provenance, utc_now())
                 for r in await session.client.ranking(ranking)]
    return rows


@dg.asset(key=asset_key(tables.MARKET_RANKINGS), **DAILY)
def market_rankings(context: dg.AssetExecutionContext, warehouse: Warehouse, kis: KisResource) -> AssetResult:
    """KIS's market-wide rankings: the 30 largest rises and falls from the previous close
    (FHPST01700000) and the 30 most traded stocks (FHPST01710000), all KRX stocks. A day keeps its
    latest ranking: a live run replaces today's (every 5 minutes of the session, and after the
    close the final one). Real accounts only: skipped with the reason on a paper account. Replay
    ranks the sample's stocks (generated recordings)."""
    skipped = paper_account_skip(context, kis, RANKING_FLUCTUATION, RANKING_VOLUME)
    if skipped is not None:
        return skipped
    window = window_of(context)
    live = kis.mode() == "live"

    def write(rows: list[Row], fetched: Fetched[list[Row]]) -> tuple[int, dict[str, Any]]:
        if live and not rows:
            return 0, {"note": "KIS ranks only as of now: nothing taken outside today's session"}
        start, end = (kst_today(), _next_day(kst_today())) if live else (window.start, window.end)
        with warehouse.connect() as conn:
            result = replace_slice(conn, tables.MARKET_RANKINGS, rows, start, end)
        missing = {"days_without_recording": fetched.collected.missing} if fetched.collected.missing else {}
        return result.written, {**result.metadata(), **missing, "preview": preview(
            [r[:10] for r in rows if r[1] == market_wide.RISE],
            ["date", "ranking", "rank", "code", "name", "price", "change", "sign", "rate %", "volume"])}

    return kis_to_table(kis, warehouse, [], window, lambda session: collect(session, window, rankings_now),
                        lambda fetched: fetched.found, write)


# -- index snapshots ---------------------------------------------------------------------------------


class IndexSnapshotsConfig(dg.Config):
    """Which indices to snapshot; empty: KOSPI, KOSDAQ, KOSPI 200 and every sector of
    ``dbt_project/seeds/kis_sectors.csv``."""

    index_codes: list[str] = []


async def levels_now(session: KisSession, codes: list[str], captured_at: datetime) -> list[Row]:
    found, _ = await per_code(session, codes, session.client.index_price)
    day = captured_at.astimezone(KST).date()
    return [(code, day, captured_at, i.level, i.change, i.change_sign, i.change_rate, i.open, i.high, i.low,
             i.volume, i.trading_value, i.advancing, i.declining, session.provenance, utc_now())
            for code, i in sorted(found.items())]


@dg.asset(key=asset_key(tables.INDEX_SNAPSHOTS), **DAILY)
def index_snapshots(context: dg.AssetExecutionContext, config: IndexSnapshotsConfig, warehouse: Warehouse,
                    kis: KisResource) -> AssetResult:
    """Index levels as of now (FHPUP02100000) for the composites and the sectors of
    ``seeds/kis_sectors.csv`` (names checked against KIS's sector master), every 5 minutes of the
    session; the daily sector series is ``raw/index_daily``. Real accounts only: skipped with the
    reason on a paper account. Replay takes each day's close from the generated recordings."""
    skipped = paper_account_skip(context, kis, INDEX_PRICE)
    if skipped is not None:
        return skipped
    window = window_of(context)
    codes = config.index_codes or default_index_codes()

    def write(rows: list[Row], _: Fetched[list[Row]]) -> tuple[int, dict[str, Any]]:
        with warehouse.connect() as conn:
            if kis.mode() == "live":
                result = merge_rows(conn, tables.INDEX_SNAPSHOTS, rows, window.start, window.end)
            else:
                result = replace_slice(conn, tables.INDEX_SNAPSHOTS, rows, window.start, window.end,
                                       scope={"index_code": codes})
        return result.written, result.metadata()

    return kis_to_table(kis, warehouse, codes, window,
                        lambda session: collect(session, window, lambda s, at: levels_now(s, codes, at)),
                        lambda fetched: fetched.found, write)
