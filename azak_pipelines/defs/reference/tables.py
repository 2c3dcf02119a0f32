"""The reference tables: the current listing and its history."""

from azak_pipelines.lib.warehouse import Column, TableSpec

STOCKS = TableSpec(
    schema="raw",
    name="stocks",
    comment="KRX-listed stocks (official short names) with market, size and the watch-list flag.",
    columns=(
        Column("code", "text", nullable=False, comment="6-character KRX short code (e.g. 005930)"),
        Column("name", "text", nullable=False, comment="official short name (종목명)"),
        Column("market", "text", comment="KOSPI, KOSDAQ, KOSDAQ GLOBAL or KONEX"),
        Column("section", "text", comment="KOSDAQ section (소속부)"),
        Column("industry", "text", comment="industry classification of the listing"),
        Column("listed_on", "date", comment="listing date"),
        Column("close", "numeric(14,2)", comment="close on the listing snapshot day, KRW"),
        Column("market_cap", "bigint", comment="KRW"),
        Column("listed_shares", "bigint", comment="shares outstanding on the snapshot day"),
        Column("is_watchlist", "boolean", nullable=False, comment="collected and predicted for (the watch-list)"),
        Column("source", "text", nullable=False,
               comment="where the row came from: KIS master file, KRX listing or the admins' watch-list"),
    ),
    natural_key=("code",),
)

STOCK_HISTORY = TableSpec(
    schema="computed",
    name="stock_history",
    comment="Which company held which code and name when: listings, renames, delistings, code reuse.",
    columns=(
        Column("code", "text", nullable=False, comment="6-character KRX short code"),
        Column("name", "text", nullable=False, comment="the name the code carried in this span"),
        Column("market", "text", nullable=False, comment="KOSPI, KOSDAQ, KOSDAQ GLOBAL or KONEX"),
        Column("isin", "text", comment="ISIN when the listing gave one"),
        Column("valid_from", "date", nullable=False, comment="first day the code held this name (inclusive)"),
        Column("valid_to", "date", comment="exclusive; null while the code holds the name"),
        Column("began_by", "text", nullable=False, comment="first_seen | listed | renamed | code_reused"),
        Column("ended_by", "text", comment="renamed | delisted | code_reused"),
        Column("last_seen", "date", nullable=False, comment="the last snapshot that listed it"),
    ),
    natural_key=("code", "valid_from"),
)
