"""What the simulation tests share."""

from typing import Any

import dagster as dg


def watchlist_seen(code: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, Any]:
    """Sensor cursors saying the watch-list sensor has seen the current watch-list (its own
    evaluation gives the cursor): the setup's reference run reflects it, so a simulation handed these
    does not run ``reference_job`` again in its first tick (half a minute, and raw writes the
    ledger's expectations would then follow too)."""
    watchlist = code.get_repository_def().get_sensor_def("watchlist_sensor")
    cursor = watchlist.evaluate_tick(dg.build_sensor_context(
        instance=instance, resources=code.resources, repository_def=code.get_repository_def())).cursor
    return {"watchlist_sensor": cursor}
