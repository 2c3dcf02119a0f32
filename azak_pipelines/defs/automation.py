"""The one sensor the daemon runs for declarative automation.

Every asset that carries an ``AutomationCondition`` (the dbt models, and each domain's derived
assets) is evaluated by this sensor; it is on by default, so an import, a backfill or a scheduled
run is followed by the assets downstream of it without anyone toggling anything in Dagit.
"""

from typing import Any

import dagster as dg

# A dependency counts as updated when its data version changed, not whenever it was materialized:
# the collectors poll every 10 minutes around the clock and at night most polls store nothing new,
# yet each run materializes; the assets that poll report the digest of what they hold
# (``defs/versions.py``), so a poll that stored nothing new leaves every asset below alone. An asset
# without a data version of its own gets a new one from Dagster on every materialization (derived
# from the run), so for it this is ``any_deps_updated`` as before. Like ``any_deps_updated`` it
# ignores an update made by a run that also wrote this asset, and counts a dependency that will be
# requested on this tick.
DEPS_CHANGED = dg.AutomationCondition.any_deps_match(
    (dg.AutomationCondition.data_version_changed() & ~dg.AutomationCondition.executed_with_root_target())
    .with_label("data_version_changed_without_root")
    | dg.AutomationCondition.will_be_requested()
).with_label("any_deps_changed")


def on_change(condition: dg.AutomationCondition[Any]) -> dg.AutomationCondition[Any]:
    """``condition`` (built on ``eager()``) reacting to a dependency whose data changed instead of any
    new materialization of it (``DEPS_CHANGED``)."""
    return condition.replace("any_deps_updated", DEPS_CHANGED)


EAGER = on_change(dg.AutomationCondition.eager().with_label("eager_on_change"))

# ``eager()`` looks at the latest time partition only: an import, a backfill or a correction of past
# days was followed by the unpartitioned marts but not by the partitioned assets below it (the
# vectors and neighbours of imported articles were never computed). This reacts to the days whose
# upstream partitions were updated, whichever days they are; it never reacts to a day merely
# missing (the history reaches back to 1990), and it ignores an upstream update made by a run that
# also wrote this asset (``any_deps_updated`` leaves those out).
UPDATED_DAYS = (
    DEPS_CHANGED.since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("upstream_days_updated")

# eager for the latest day (which also runs a newly missing latest day), and every updated past day
EVERY_UPDATED_DAY = (EAGER | UPDATED_DAYS).with_label("eager_every_updated_day")

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates every asset's automation condition (e.g. marts rebuilt after their raw tables "
                "changed) and launches the runs they call for.",
)
