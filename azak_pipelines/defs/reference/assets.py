"""The KRX universe with the watch-list flag, and its history (renames, listings, delistings)."""

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg

from azak_core.market import KST
from azak_pipelines.defs.common import AssetResult, asset_key
from azak_pipelines.defs.reference.resources import ListingSource
from azak_pipelines.defs.reference.tables import STOCK_HISTORY, STOCKS
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.kis.master import MasterRecord
from azak_pipelines.lib.reference.listing_history import Change, HistoryRow, apply_snapshot
from azak_pipelines.lib.reference.universe import (
    Listing,
    WatchlistChange,
    apply_watchlist,
    listings_from_masters,
    read_listing,
    read_watchlist,
    snapshot_rows,
)
from azak_pipelines.lib.sample_data import sample_data_dir
from azak_pipelines.lib.warehouse import ensure_table, replace_slice, table_exists

__all__ = ["STOCKS", "STOCK_HISTORY", "stocks"]

# The API owns app.stock_watchlist (admins' additions and removals); declared here so Dagit shows
# that the universe depends on it. ``watchlist_sensor`` re-materializes the universe when it changes.
STOCK_WATCHLIST = dg.AssetSpec(
    key=["app", "stock_watchlist"], group_name="reference", kinds={"postgres"},
    description="Watch-list changes admins make through the API (table owned by the API's migrations).")

WATCHLIST_CHANGES_SQL = """
SELECT code, name, market, active FROM app.stock_watchlist ORDER BY updated_at
"""


class StocksConfig(dg.Config):
    listing_file: str | None = None
    watchlist_file: str | None = None


def _watchlist_changes(conn: psycopg.Connection[Any]) -> list[WatchlistChange]:
    """Admin changes made through the API, when its table exists (the API owns ``app``)."""
    if not table_exists(conn, "app.stock_watchlist"):
        return []
    return [WatchlistChange(*row) for row in conn.execute(WATCHLIST_CHANGES_SQL)]


HISTORY_SQL = """
SELECT code, name, market, isin, valid_from, valid_to, began_by, ended_by, last_seen
FROM computed.stock_history ORDER BY code, valid_from
"""


def _fold(snapshots: Iterable[tuple[date, list[MasterRecord]]],
          history: list[HistoryRow]) -> tuple[list[HistoryRow], list[Change]]:
    changes: list[Change] = []
    for day, records in snapshots:
        history, found = apply_snapshot(history, snapshot_rows(records), day)
        changes += found
    return history, changes


@dg.multi_asset(
    specs=[
        dg.AssetSpec(asset_key(STOCKS), group_name="reference", kinds={"postgres"}, deps=[STOCK_WATCHLIST],
                     description="The KRX universe (official short names) and the watch-list flag."),
        dg.AssetSpec(dg.AssetKey([STOCK_HISTORY.schema, STOCK_HISTORY.name]), group_name="reference",
                     kinds={"postgres"},
                     description="Which company held which code and name when (validity dates)."),
    ],
    can_subset=True,
)
def stocks(context: dg.AssetExecutionContext, config: StocksConfig, warehouse: Warehouse,
           listing_source: ListingSource) -> Iterator[AssetResult]:
    """The KRX universe from the KIS master files (KOSPI, KOSDAQ, KONEX): live, today's files;
    replay, the bundled weekly snapshots (2025-09-26 … 2025-11-28, carrying a few listings, a
    rename, a delisting and a reused code). Each snapshot is folded into ``computed.stock_history``
    (validity dates per code and name) so an article links to the company that held a name on
    its publication day. Section, industry and the KRX figures come from the bundled KRX export
    (replay) or the previous ``raw.stocks`` (live). A ``listing_file`` (CSV) replaces the master
    files for the current listing. ``is_watchlist`` marks the stocks whose market data and news
    are collected: the bundled default list, changed by admins through the API."""
    watchlist_file = Path(config.watchlist_file) if config.watchlist_file else (
        sample_data_dir() / "watchlist.csv"
    )
    known = {item.code: item for item in read_listing(sample_data_dir() / "universe" / "krx_listed_2025_09.csv")}
    today = utc_now().astimezone(KST).date()
    selected = {key.path[0] + "/" + key.path[1] for key in context.selected_asset_keys}
    with warehouse.connect() as conn:
        history: list[HistoryRow] = []
        if listing_source.mode == "live":
            ensure_table(conn, STOCK_HISTORY)
            history = [HistoryRow(*row) for row in conn.execute(HISTORY_SQL)]
            known.update(_previous_listing(conn))
        snapshots = listing_source.snapshots(today)
        history, changes = _fold(snapshots, history)
        if config.listing_file:
            listings, source = read_listing(Path(config.listing_file)), Path(config.listing_file).name
        else:
            listings = listings_from_masters(snapshots[-1][1], known)
            source = f"kis_master:{listing_source.mode}:{snapshots[-1][0]}"
        changes_by_admin = _watchlist_changes(conn)
        merged, watched = apply_watchlist(listings, read_watchlist(watchlist_file), changes_by_admin)
        unknown = sorted(watched - {item.code for item in merged})
        if unknown:
            raise dg.Failure(f"watch-list codes not in the listing: {unknown}")
        if "raw/stocks" in selected:
            rows = [(s.code, s.name, s.market, s.section, s.industry, s.listed_on, s.close, s.market_cap,
                     s.listed_shares, s.code in watched, source) for s in merged]
            result = replace_slice(conn, STOCKS, rows)
            markets: dict[str, int] = {}
            for s in merged:
                markets[s.market or "unknown"] = markets.get(s.market or "unknown", 0) + 1
            context.log.info("stocks: %s listings, %s on the watch-list", len(rows), len(watched))
            yield dg.MaterializeResult(asset_key=asset_key(STOCKS), metadata={
                **result.metadata(), "dagster/row_count": len(rows), "watchlist_size": len(watched),
                "admin_changes": len(changes_by_admin), "by_market": markets, "source": source,
                "watchlist": dg.MetadataValue.md(
                    "\n".join(f"- {s.code} {s.name}" for s in merged if s.code in watched)),
            })
        if "computed/stock_history" in selected:
            result = replace_slice(conn, STOCK_HISTORY, [row.as_tuple() for row in history])
            yield dg.MaterializeResult(asset_key=asset_key(STOCK_HISTORY), metadata={
                **result.metadata(), "dagster/row_count": len(history),
                "snapshots": [str(day) for day, _ in snapshots],
                "changes": dg.MetadataValue.md("\n".join(
                    f"- {c.day} {c.kind} {c.code}: {c.before or '—'} → {c.after or '—'}" for c in changes)
                    or "no changes"),
            })


def _previous_listing(conn: psycopg.Connection[Any]) -> dict[str, Listing]:
    """Section, industry and figures of the last materialized listing (live refreshes keep them)."""
    if not table_exists(conn, STOCKS):
        return {}
    rows = conn.execute("SELECT code, name, market, section, industry, listed_on::text, close::bigint, "
                        "market_cap, listed_shares FROM raw.stocks").fetchall()
    return {row[0]: Listing(*row) for row in rows}
