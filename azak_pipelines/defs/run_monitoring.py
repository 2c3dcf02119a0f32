"""The daemon's watch over runs executed in the CLI's own process (imports, backfills).

Dagster's run monitoring (``run_monitoring`` in dagster.yaml) covers the runs the daemon launches;
this sensor covers the others: a run whose process is gone is marked FAILURE and its pool slots are
freed, so a killed import never holds the ``kis`` pool for good (see
:mod:`azak_pipelines.run_monitor`).
"""


import dagster as dg

from azak_core import settings_registry
from azak_pipelines.run_monitor import reap_dead_runs

# how often the daemon looks: the detection window of a dead CLI run (AZAK_DEAD_RUN_CHECK_SECONDS)
DEAD_RUN_CHECK_SECONDS = int(settings_registry.read_or("AZAK_DEAD_RUN_CHECK_SECONDS", "60"))


@dg.sensor(name="dead_runs_sensor", default_status=dg.DefaultSensorStatus.RUNNING,
           minimum_interval_seconds=DEAD_RUN_CHECK_SECONDS,
           description="Marks FAILURE the runs whose process died (an `azak import` killed mid-run) and "
                       "frees the pool slots held by runs that ended.")
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    reaped = reap_dead_runs(context.instance)
    if reaped:
        return dg.SkipReason(f"marked {len(reaped)} run(s) whose process is gone as failed: {', '.join(reaped)}")
    return dg.SkipReason("every running run's process is alive")
