"""Refresh the stock list when an admin changes the watch-list through the API."""

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.reference.jobs import reference_job
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.warehouse import table_exists


@dg.sensor(job=reference_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def watchlist_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.RunRequest | dg.SkipReason:
    """Watches ``app.stock_watchlist`` (owned by the API) and re-materializes the reference
    assets when it changes."""
    with warehouse.connect() as conn:
        if not table_exists(conn, "app.stock_watchlist"):
            return dg.SkipReason("the API has not created app.stock_watchlist yet")
        row = conn.execute("SELECT count(*), max(updated_at) FROM app.stock_watchlist").fetchone()
    assert row is not None  # count(*) always returns a row
    marker = f"{row[0]}:{row[1].isoformat() if row and row[1] else ''}"
    if context.cursor == marker:
        return dg.SkipReason("the watch-list has not changed")
    context.update_cursor(marker)
    return dg.RunRequest(run_key=f"watchlist:{marker}")


@dg.schedule(cron_schedule="0 1 * * 0", job=reference_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def reference_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Weekly refresh of the universe and the calendar (Sundays 01:00 KST)."""
    return dg.RunRequest(run_key=f"reference:{context.scheduled_execution_time:%Y-%m-%d}")
