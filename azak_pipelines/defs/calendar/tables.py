"""The calendar's table: the KRX calendar as rows."""

from azak_pipelines.lib.warehouse import Column, TableSpec

TRADING_CALENDAR = TableSpec(
    schema="raw",
    name="trading_calendar",
    comment="Every calendar day the KRX calendar knows: session hours or the closure reason.",
    columns=(
        Column("day", "date", nullable=False),
        Column("is_trading_day", "boolean", nullable=False),
        Column("session_number", "integer", comment="1-based position among trading days"),
        Column("open_at", "timestamptz"),
        Column("close_at", "timestamptz"),
        Column("pre_market_open_at", "timestamptz"),
        Column("after_hours_close_at", "timestamptz"),
        Column("closure_reason", "text"),
    ),
    natural_key=("day",),
)
