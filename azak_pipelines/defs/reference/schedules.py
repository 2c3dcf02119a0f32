"""The listing refresh: weekly, and on demand (launch ``stock_listing_job``)."""

import dagster as dg

from azak_core.market import KST

stock_listing_job = dg.define_asset_job(
    "stock_listing_job",
    selection=dg.AssetSelection.assets(["raw", "stocks"], ["computed", "stock_history"]),
    description="Refresh the KRX universe from the KIS master files and fold it into the history.",
)


@dg.schedule(cron_schedule="30 7 * * 1", job=stock_listing_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def stock_listing_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Mondays 07:30 KST, before the open: KIS rebuilds its master files overnight, so the week's
    listings, renames and delistings are in."""
    return dg.RunRequest(run_key=f"stock_listing:{context.scheduled_execution_time:%Y-%m-%d}")
