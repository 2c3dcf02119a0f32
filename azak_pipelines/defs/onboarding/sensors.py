"""The daemon's half of onboarding: a run for each stock the API or the CLI added to the watch-list."""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from azak_core.runs import API_RUN_TAGS
from azak_pipelines.defs.onboarding.jobs import model_onboarding_job, stock_onboarding_job
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib import model_onboarding, onboarding
from azak_pipelines.lib.calendar.krx_calendar import utc_now


@dg.sensor(job=stock_onboarding_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def stock_onboarding_sensor(context: dg.SensorEvaluationContext,
                            warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
    """Reads ``app.stock_onboarding`` for stocks added to the watch-list and not onboarded yet, and
    requests one ``stock_onboarding_job`` run per request (its run key is the request: a request is
    never run twice). A stock the universe does not hold yet (a new listing) waits for the watch-list
    sensor's reference run. Requests made through the API keep the API's run tags (priority -1), so
    they never hold up the platform's own runs."""
    with warehouse.connect() as conn:
        close_abandoned(context.instance, conn)
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


ENDED_WITHOUT_SUCCESS = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def close_abandoned(instance: dg.DagsterInstance, conn: Any, table: str = onboarding.TABLE,
                    tag: str = "azak/onboarding") -> None:
    """Requests (in ``table``, their runs tagged ``tag``) whose run ended as failed or canceled but
    are still open: the failure hook runs only when a step fails, not when a run is canceled, its
    process killed (the dead-run reaper marks it failed) or its launch fails. Closed here, the stock
    (or model) can be added again (a new request, a new run key)."""
    for request_id in onboarding.open_requests(conn, table):
        records = instance.get_run_records(dg.RunsFilter(tags={tag: str(request_id)}), limit=1)
        if records and records[0].dagster_run.status in ENDED_WITHOUT_SUCCESS:
            run, ended = records[0].dagster_run, records[0].end_time
            # a run canceled before it started has no end time: the request ends when this tick saw it
            at = datetime.fromtimestamp(ended, UTC) if ended else utc_now()
            onboarding.abandoned(conn, request_id, run.run_id, at,
                                 f"the run ended {run.status.value.lower()} before it finished", table)


@dg.sensor(job=model_onboarding_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def model_onboarding_sensor(context: dg.SensorEvaluationContext,
                            warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
    """Reads ``app.model_onboarding`` for models and A/B pairs added with a backfill, and requests
    one ``model_onboarding_job`` run per request (its run key is the request: never run twice).
    Requests made through the API keep the API's run tags (priority -1)."""
    with warehouse.connect() as conn:
        close_abandoned(context.instance, conn, model_onboarding.TABLE, model_onboarding.RUN_TAG)
        ready = model_onboarding.pending(conn)
    if not ready:
        return dg.SkipReason("no model or pair to backfill")
    return dg.SensorResult(run_requests=[
        dg.RunRequest(
            run_key=f"model_onboarding:{r.id}",
            run_config={"ops": {"model_onboarding_started": {"config": {"request_id": r.id}}}},
            tags={model_onboarding.RUN_TAG: str(r.id),
                  **(API_RUN_TAGS if r.origin == "api" else {"azak/origin": r.origin})})
        for r in ready])
