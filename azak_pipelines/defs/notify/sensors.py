"""Operators hear about failed runs and failing asset checks in the admin Telegram chat."""

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from azak_pipelines.defs.notify.resources import TelegramResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.calendar.krx_calendar import kst_day
from azak_pipelines.lib.notify import outbox
from azak_pipelines.lib.notify.messages import check_failure_message, run_failure_message
from azak_pipelines.lib.warehouse import connect


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    partition: str | None
    description: str | None
    at: datetime
    # a check that fails run after run for the same reason (a missed freshness deadline) names it,
    # so the chat hears about it once
    alert_key: str | None = None


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[FailedCheck]:
    """The asset checks that did not pass in a run."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        event = entry.dagster_event
        data = event.event_specific_data if event else None
        if not isinstance(data, dg.AssetCheckEvaluation) or data.passed:
            continue
        alert_key = data.metadata.get("alert_key")
        found.append(FailedCheck(data.asset_key.to_user_string(), data.check_name, data.partition,
                                 data.description, datetime.fromtimestamp(entry.timestamp, UTC),
                                 alert_key.value if isinstance(alert_key, dg.TextMetadataValue) else None))
    return found


def _ended_at(instance: dg.DagsterInstance, run_id: str) -> datetime:
    """When the run ended, from its record (the failure event itself carries no time)."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        raise dg.DagsterInvariantViolationError(f"run {run_id} is not in this instance")
    if record.end_time is not None:
        return datetime.fromtimestamp(record.end_time, UTC)
    return record.update_timestamp.astimezone(UTC)


def _check_messages(checks: list[FailedCheck], run_id: str, chat_id: int, telegram: TelegramResource
                    ) -> list[outbox.Outgoing]:
    return [outbox.Outgoing(
        chat_id, "check_failure", f"check:{c.asset}:{c.check}:{c.partition or '-'}:{c.alert_key or run_id}",
        kst_day(c.at),
        check_failure_message(c.asset, c.check, c.partition, c.description, run_id, telegram.run_url(run_id)),
        c.at) for c in checks]


def _send(messages: list[outbox.Outgoing], warehouse: Warehouse, telegram: TelegramResource) -> str:
    with connect(warehouse.database_url) as conn:
        outbox.require_tables(conn)
        written = outbox.enqueue(conn, messages)
    delivery = telegram.deliver(warehouse.database_url)
    return f"{written.new} new admin message(s); " + (delivery.summary() if delivery else "no bot token: kept")


@dg.run_failure_sensor(name="telegram_run_failure_sensor", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="A failed run (and the checks that failed in it) → the admin chat.")
def telegram_run_failure_sensor(context: dg.RunFailureSensorContext, warehouse: Warehouse,
                                telegram: TelegramResource) -> dg.SkipReason | None:
    chat_id = telegram.admin_chat()
    if chat_id is None:
        return dg.SkipReason("AZAK_TELEGRAM_ADMIN_CHAT_ID is not set: failures are not sent anywhere")
    run = context.dagster_run
    at = _ended_at(context.instance, run.run_id)
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    errors = [e.step_failure_data.error.message for e in context.get_step_failure_events()
              if e.step_failure_data.error]
    said = "\n".join(errors) or context.failure_event.message or ""
    if run.tags.get("dagster/will_retry") == "true":  # its job asks for a retry (dagster.yaml's run_retries)
        said = f"{said}\n(the daemon retries this run: a failure of the retry is sent too)"
    body = run_failure_message(run.job_name, run.run_id, said, steps, telegram.run_url(run.run_id))
    messages = [outbox.Outgoing(chat_id, "run_failure", f"run-failure:{run.run_id}", kst_day(at), body, at),
                *_check_messages(failed_checks(context.instance, run.run_id), run.run_id, chat_id, telegram)]
    context.log.info(_send(messages, warehouse, telegram))
    return None


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="telegram_check_failure_sensor",
                      default_status=dg.DefaultSensorStatus.RUNNING,
                      description="An asset check that failed in a successful run → the admin chat.")
def telegram_check_failure_sensor(context: dg.RunStatusSensorContext, warehouse: Warehouse,
                                  telegram: TelegramResource) -> dg.SkipReason | None:
    chat_id = telegram.admin_chat()
    if chat_id is None:
        return dg.SkipReason("AZAK_TELEGRAM_ADMIN_CHAT_ID is not set: failing checks are not sent anywhere")
    run = context.dagster_run
    checks = failed_checks(context.instance, run.run_id)
    if not checks:
        return dg.SkipReason(f"run {run.run_id}: every check passed")
    context.log.info(_send(_check_messages(checks, run.run_id, chat_id, telegram), warehouse, telegram))
    return None
