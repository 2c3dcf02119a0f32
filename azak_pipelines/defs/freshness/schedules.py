"""Freshness is judged every 10 minutes, at any hour: the shortest rule allows 30 minutes."""

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs.freshness.jobs import freshness_checks_job


@dg.schedule(cron_schedule="*/10 * * * *", job=freshness_checks_job, execution_timezone=KST.key,
             default_status=dg.DefaultScheduleStatus.RUNNING)
def freshness_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every asset's freshness rule against its last materialization (the rules: docs/dagit.md)."""
    return dg.RunRequest(run_key=f"freshness:{context.scheduled_execution_time:%Y-%m-%dT%H:%M}")
