"""The reference tables: the current listing and its history."""

from azak_pipelines.lib.warehouse import Column, TableSpec

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

STOCK_HISTORY = TableSpec(
    schema="computed",
    name="stock_history",
    comment="Which company held which code and name when: listings, renames, delistings, code reuse.",
    columns=(
        Column("code", "text", nullable=False),
        Column("name", "text", nullable=False),
        Column("market", "text", nullable=False),
        Column("isin", "text"),
        Column("valid_from", "date", nullable=False),
        Column("valid_to", "date", comment="exclusive; null while the code holds the name"),
        Column("began_by", "text", nullable=False, comment="first_seen | listed | renamed | code_reused"),
        Column("ended_by", "text", comment="renamed | delisted | code_reused"),
        Column("last_seen", "date", nullable=False, comment="the last snapshot that listed it"),
    ),
    natural_key=("code", "valid_from"),
)
