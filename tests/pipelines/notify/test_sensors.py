"""The admin chat hears about failed runs and failing checks (sensors evaluated with Dagster's
helpers against real runs in a real instance)."""

import dagster as dg
import psycopg

from azak_api.admin import run_migrations
from azak_pipelines.defs.notify.resources import TelegramResource
from azak_pipelines.defs.notify.sensors import telegram_check_failure_sensor, telegram_run_failure_sensor
from azak_pipelines.defs.resources import Warehouse
from tests.pipelines.notify.botapi import BotApi
from tests.pipelines.runs import run

ADMIN = -1001234


def admin_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT chat_id, kind, dedup_key, status, body FROM app.telegram_notifications "
                            "ORDER BY id").fetchall()


def failure_context(instance: dg.DagsterInstance, result) -> dg.RunFailureSensorContext:
    event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    return dg.build_run_status_sensor_context(
        sensor_name="telegram_run_failure_sensor", dagster_event=event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id)).for_run_failure()


def test_a_failed_run_reaches_the_admin_chat_once(db_url):
    instance = dg.DagsterInstance.ephemeral()
    # the outbox does not exist yet: the notifications run fails, saying what to do
    result = run("telegram_notifications_job", ("2025-06-16", "2025-06-16"), instance=instance, raise_on_error=False)
    assert not result.success
    run_migrations(db_url)
    warehouse = Warehouse(database_url=db_url)
    context = failure_context(instance, result)
    with BotApi() as api:
        telegram = TelegramResource(bot_token=api.token, api_url=api.url, admin_chat_id=str(ADMIN),
                                    dagit_url="http://dagit.example")
        telegram_run_failure_sensor(context, warehouse=warehouse, telegram=telegram)
        telegram_run_failure_sensor(failure_context(instance, result), warehouse=warehouse, telegram=telegram)
        [(chat, kind, key, status, body)] = admin_rows(db_url)
        assert (chat, kind, key, status) == (ADMIN, "run_failure", f"run-failure:{result.run_id}", "sent")
        assert "실행 실패" in body and "telegram_notifications_job" in body and "azak db migrate" in body
        assert f'href="http://dagit.example/runs/{result.run_id}"' in body
        assert api.texts(ADMIN) == [body]


def test_without_an_admin_chat_the_sensor_says_why_it_skips(db_url):
    instance = dg.DagsterInstance.ephemeral()
    result = run("telegram_notifications_job", ("2025-06-16", "2025-06-16"), instance=instance, raise_on_error=False)
    skipped = telegram_run_failure_sensor(failure_context(instance, result), warehouse=Warehouse(database_url=db_url),
                                          telegram=TelegramResource())
    assert isinstance(skipped, dg.SkipReason) and "AZAK_TELEGRAM_ADMIN_CHAT_ID" in skipped.skip_message


@dg.asset
def prices_like() -> None:
    """A stand-in asset whose check fails."""


@dg.asset_check(asset=prices_like)
def closes_are_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, description="3 bars have close <= 0: <005930 2025-06-16>")


def test_a_failing_check_in_a_successful_run_reaches_the_admin_chat(app_db):
    instance = dg.DagsterInstance.ephemeral()
    checked = dg.Definitions(assets=[prices_like], asset_checks=[closes_are_positive])
    result = checked.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    assert result.success
    event = next(e for e in result.all_events if e.event_type_value == "PIPELINE_SUCCESS")
    context = dg.build_run_status_sensor_context(
        sensor_name="telegram_check_failure_sensor", dagster_event=event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id))
    telegram = TelegramResource(admin_chat_id=str(ADMIN))  # no token: kept in the outbox
    telegram_check_failure_sensor(context, warehouse=Warehouse(database_url=app_db), telegram=telegram)
    [(chat, kind, key, status, body)] = admin_rows(app_db)
    assert (chat, kind, status) == (ADMIN, "check_failure", "pending")
    assert key == f"check:prices_like:closes_are_positive:-:{result.run_id}"
    assert "검사 실패" in body and "&lt;005930 2025-06-16&gt;" in body
