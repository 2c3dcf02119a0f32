"""The calendar's table: the KRX calendar as rows."""

from azak_pipelines.lib.warehouse import Column, TableSpec

TRADING_CALENDAR = TableSpec(
    schema="raw",
    name="trading_calendar",
    comment="Every calendar day the KRX calendar knows: session hours or the closure reason.",
    columns=(
        Column("day", "date", nullable=False, comment="calendar day (KST)"),
        Column("is_trading_day", "boolean", nullable=False, comment="the KRX is open that day"),
        Column("session_number", "integer", comment="1-based position among trading days"),
        Column("open_at", "timestamptz", comment="regular session open"),
        Column("close_at", "timestamptz", comment="regular session close"),
        Column("pre_market_open_at", "timestamptz", comment="pre-market (closing-price trades) open"),
        Column("after_hours_close_at", "timestamptz", comment="after-hours single-price session close"),
        Column("closure_reason", "text", comment="why the market is closed (weekend, holiday name)"),
    ),
    natural_key=("day",),
)
