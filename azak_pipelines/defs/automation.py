"""The one sensor the daemon runs for declarative automation.

Every asset that carries an ``AutomationCondition`` (the dbt models, and each domain's derived
assets) is evaluated by this sensor; it is on by default, so an import, a backfill or a scheduled
run is followed by the assets downstream of it without anyone toggling anything in Dagit.
"""

import dagster as dg

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates every asset's automation condition (e.g. marts rebuilt after their raw tables "
                "changed) and launches the runs they call for.",
)
