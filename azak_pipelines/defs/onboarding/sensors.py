"""The daemon's half of onboarding: a run for each stock the API or the CLI added to the watch-list."""

import dagster as dg

from azak_core.runs import API_RUN_TAGS
from azak_pipelines.defs.onboarding.jobs import stock_onboarding_job
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib import onboarding


@dg.sensor(job=stock_onboarding_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def stock_onboarding_sensor(context: dg.SensorEvaluationContext,
                            warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
    """Reads ``app.stock_onboarding`` for stocks added to the watch-list and not onboarded yet, and
    requests one ``stock_onboarding_job`` run per request (its run key is the request: a request is
    never run twice). A stock the universe does not hold yet (a new listing) waits for the watch-list
    sensor's reference run. Requests made through the API keep the API's run tags (priority -1), so
    they never hold up the platform's own runs."""
    with warehouse.connect() as conn:
        ready, waiting = onboarding.pending(conn)
    if not ready:
        return dg.SkipReason(f"waiting for the universe to list {waiting}" if waiting else "no stock to onboard")
    return dg.SensorResult(run_requests=[
        dg.RunRequest(
            run_key=f"onboarding:{r.id}",
            run_config={"ops": {"onboarding_started": {"config": {"code": r.stock_code, "request_id": r.id}}}},
            tags={"azak/stock": r.stock_code, "azak/onboarding": str(r.id),
                  **(API_RUN_TAGS if r.origin == "api" else {"azak/origin": r.origin})})
        for r in ready])
