"""The KRX universe with the watch-list flag."""

from pathlib import Path

import dagster as dg

from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.sample_data import sample_data_dir
from azak_pipelines.lib.universe import (
    WatchlistChange,
    apply_watchlist,
    read_listing,
    read_watchlist,
)
from azak_pipelines.lib.warehouse import Column, TableSpec, replace_slice

STOCKS = TableSpec(
    schema="raw",
    name="stocks",
    comment="KRX-listed stocks (official short names) with market, size and the watch-list flag.",
    columns=(
        Column("code", "text", nullable=False),
        Column("name", "text", nullable=False),
        Column("market", "text", comment="KOSPI, KOSDAQ, KOSDAQ GLOBAL or KONEX"),
        Column("section", "text", comment="KOSDAQ section (소속부)"),
        Column("industry", "text"),
        Column("listed_on", "date"),
        Column("close", "numeric(14,2)", comment="close on the listing snapshot day, KRW"),
        Column("market_cap", "bigint", comment="KRW"),
        Column("listed_shares", "bigint"),
        Column("is_watchlist", "boolean", nullable=False),
        Column("source", "text", nullable=False),
    ),
    natural_key=("code",),
)

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


def _watchlist_changes(conn) -> list[WatchlistChange]:
    """Admin changes made through the API, when its table exists (the API owns ``app``)."""
    exists = conn.execute("SELECT to_regclass('app.stock_watchlist')").fetchone()
    if not exists or exists[0] is None:
        return []
    return [WatchlistChange(*row) for row in conn.execute(WATCHLIST_CHANGES_SQL)]


@dg.asset(key=["raw", "stocks"], group_name="reference", kinds={"postgres"}, deps=[STOCK_WATCHLIST])
def stocks(context: dg.AssetExecutionContext, config: StocksConfig,
           warehouse: Warehouse) -> dg.MaterializeResult:
    """The KRX universe from the bundled listing snapshot (KRX, September 2025; industries from
    KIND), plus stocks an admin added through the API. ``is_watchlist`` marks the stocks whose
    market data and news are collected: the bundled default list, changed by admins."""
    listing_file = Path(config.listing_file) if config.listing_file else (
        sample_data_dir() / "universe" / "krx_listed_2025_09.csv"
    )
    watchlist_file = Path(config.watchlist_file) if config.watchlist_file else (
        sample_data_dir() / "watchlist.csv"
    )
    listings = read_listing(listing_file)
    with warehouse.connect() as conn:
        changes = _watchlist_changes(conn)
        merged, watched = apply_watchlist(listings, read_watchlist(watchlist_file), changes)
        unknown = sorted(watched - {item.code for item in merged})
        if unknown:
            raise dg.Failure(f"watch-list codes not in the listing: {unknown}")
        rows = [
            (s.code, s.name, s.market, s.section, s.industry, s.listed_on, s.close, s.market_cap,
             s.listed_shares, s.code in watched, listing_file.name)
            for s in merged
        ]
        result = replace_slice(conn, STOCKS, rows)
    markets: dict[str, int] = {}
    for s in merged:
        markets[s.market or "unknown"] = markets.get(s.market or "unknown", 0) + 1
    context.log.info("stocks: %s listings, %s on the watch-list", len(rows), len(watched))
    return dg.MaterializeResult(
        metadata={
            **result.metadata(),
            "dagster/row_count": len(rows),
            "watchlist_size": len(watched),
            "admin_changes": len(changes),
            "by_market": markets,
            "watchlist": dg.MetadataValue.md(
                "\n".join(f"- {s.code} {s.name}" for s in merged if s.code in watched)
            ),
        }
    )
