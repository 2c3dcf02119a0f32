"""Freshness is judged when a verdict can change, at any hour, rather than on a clock.

Every minute the sensor judges every rule against the instance's asset records (one query, no run)
and asks for a run of ``freshness_checks_job`` only when a verdict differs from the one its last
run recorded: an asset turned stale, a stale one was updated, or one was never judged; a stale
asset is judged again every 10 minutes while it stays stale (its failed check, and the
Telegram alert once per missed deadline, stay current). A check also runs in every job that
materializes its asset, where it passes at once. Judging every 10 minutes on a schedule made 144
runs a day that recorded the same verdicts (1 s of a run's bookkeeping each).
"""

import json
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from azak_pipelines.defs.freshness.checks import SPECS, last_updates
from azak_pipelines.defs.freshness.jobs import freshness_checks_job
from azak_pipelines.defs.freshness.rules import RULES
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.freshness import judge

STALE_AGAIN = timedelta(minutes=10)  # a stale asset is judged again this often (the old schedule's pace)
CHANGED_TAG = "azak/freshness_changed"  # the run's tag: which verdicts changed (Dagit's run list)


def verdicts_due(before: dict[str, list[Any]], now: datetime, fresh: dict[str, bool]) -> list[str]:
    """The assets whose verdict at ``now`` (``fresh``) the last judged run did not record, or that
    are stale and were last judged ``STALE_AGAIN`` ago; ``before``: asset → [fresh, judged at]."""
    due = []
    for name, verdict in sorted(fresh.items()):
        last = before.get(name)
        if last is None or last[0] != verdict or (
                not verdict and now - datetime.fromisoformat(last[1]) >= STALE_AGAIN):
            due.append(name)
    return due


@dg.sensor(job=freshness_checks_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Runs every asset's freshness rule when a verdict changes (the rules: docs/dagit.md).")
def freshness_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    now = utc_now()
    keys = [spec.asset_key for spec in SPECS]
    updated = last_updates(context.instance, keys)
    fresh = {key.to_user_string(): judge(RULES[key.to_user_string()], updated[key], now).fresh for key in keys}
    before = json.loads(context.cursor) if context.cursor else {}
    due = verdicts_due(before, now, fresh)
    if not due:
        return dg.SkipReason(f"every verdict stands ({sum(fresh.values())} of {len(fresh)} fresh)")
    # the run judges every rule: the cursor records each verdict as judged now
    context.update_cursor(json.dumps({name: [verdict, now.isoformat()] for name, verdict in fresh.items()}))
    changed = ", ".join(due[:3]) + (f" and {len(due) - 3} more" if len(due) > 3 else "")
    return dg.RunRequest(run_key=f"freshness:{now:%Y-%m-%dT%H:%M:%S}", tags={CHANGED_TAG: changed})
