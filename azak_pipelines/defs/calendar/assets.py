"""The KRX trading calendar as a table, so SQL (dbt) does business-day arithmetic the same way."""

import hashlib
from datetime import timedelta
from typing import Any

import dagster as dg

from azak_pipelines.defs.calendar.tables import TRADING_CALENDAR
from azak_pipelines.defs.common import AssetResult
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from azak_pipelines.lib.warehouse import replace_slice


@dg.asset(
    key=["raw", "trading_calendar"],
    group_name="reference",
    kinds={"postgres"},
    code_version="1",
)
def trading_calendar(context: dg.AssetExecutionContext, warehouse: Warehouse) -> AssetResult:
    """KRX trading days from 1990 to the end of the published calendar (exchange-calendars XKRX
    plus the project's overrides): session open/close and off-session windows in KST, or why the
    market is closed. Drives schedules, business-day arithmetic, labels and evaluation windows.
    Its data version is a digest of the rows: with a code version and no inputs, Dagster would give
    every materialization the same one, and the automation (which follows changed versions) would
    never rebuild the marts below after a refresh that added a holiday."""
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
        },
        data_version=dg.DataVersion(hashlib.sha256(repr(rows).encode()).hexdigest()[:32]),
    )
