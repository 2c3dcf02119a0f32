"""The KRX trading calendar as a table, so SQL (dbt) does business-day arithmetic the same way."""

from datetime import timedelta
from typing import Any

import dagster as dg

from azak_pipelines.defs.common import AssetResult
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.krx_calendar import krx_calendar
from azak_pipelines.lib.warehouse import Column, TableSpec, replace_slice

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


@dg.asset(
    key=["raw", "trading_calendar"],
    group_name="reference",
    kinds={"postgres"},
    code_version="1",
)
def trading_calendar(context: dg.AssetExecutionContext, warehouse: Warehouse) -> AssetResult:
    """KRX trading days from 1990 to the end of the published calendar (exchange-calendars XKRX
    plus the project's overrides): session open/close and off-session windows in KST, or why the
    market is closed. Drives schedules, business-day arithmetic, labels and evaluation windows."""
    calendar = krx_calendar()
    rows: list[tuple[Any, ...]] = []
    day = calendar.first
    while day <= calendar.last:
        if calendar.is_trading_day(day):
            session = calendar.session(day)
            rows.append((day, True, calendar.session_index(day) + 1, session.open, session.close,
                         session.pre_market[0], session.after_hours_single_price[1], None))
        else:
            rows.append((day, False, None, None, None, None, None, calendar.closure_reason(day)))
        day += timedelta(days=1)
    with warehouse.connect() as conn:
        result = replace_slice(conn, TRADING_CALENDAR, rows)
    sessions = sum(1 for row in rows if row[1])
    context.log.info("trading calendar: %s days, %s sessions", len(rows), sessions)
    return dg.MaterializeResult(
        metadata={
            **result.metadata(),
            "first_day": str(calendar.first),
            "last_day": str(calendar.last),
            "trading_days": sessions,
            "dagster/row_count": len(rows),
        }
    )
