"""The one sensor the daemon runs for declarative automation.

Every asset that carries an ``AutomationCondition`` (the dbt models, and each domain's derived
assets) is evaluated by this sensor; it is on by default, so an import, a backfill or a scheduled
run is followed by the assets downstream of it without anyone toggling anything in Dagit.
"""

import dagster as dg

# ``eager()`` looks at the latest time partition only: an import, a backfill or a correction of past
# days was followed by the unpartitioned marts but not by the partitioned assets below it (the
# vectors and neighbours of imported articles were never computed). This reacts to the days whose
# upstream partitions were updated, whichever days they are; it never reacts to a day merely
# missing (the history reaches back to 1990), and it ignores an upstream update made by a run that
# also wrote this asset (``any_deps_updated`` leaves those out).
UPDATED_DAYS = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("upstream_days_updated")

# eager for the latest day (which also runs a newly missing latest day), and every updated past day
EVERY_UPDATED_DAY = (dg.AutomationCondition.eager() | UPDATED_DAYS).with_label("eager_every_updated_day")

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates every asset's automation condition (e.g. marts rebuilt after their raw tables "
                "changed) and launches the runs they call for.",
)
