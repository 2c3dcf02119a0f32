"""The freshness job judges every rule against the instance's materializations; the sensor runs it
when a verdict changes."""

import json
from datetime import datetime, timedelta

import dagster as dg

from azak_core import clock
from azak_core.market import KST
from azak_pipelines.defs.freshness.rules import RULES
from azak_pipelines.defs.freshness.sensors import CHANGED_TAG, freshness_sensor
from tests.pipelines.runs import definitions, run


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_check_evaluation_data.asset_key.to_user_string(): e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_a_never_materialized_asset_is_stale_and_a_fresh_one_passes():
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=["raw", "naver_finance_news"]))
    found = evaluations(run("freshness_checks_job", instance=instance))
    assert set(found) == set(RULES)
    news = found["raw/naver_finance_news"]
    assert news.passed and news.description.startswith("fresh: last update")
    stale = found["computed/model_leaderboard"]
    assert not stale.passed and stale.description.startswith("never materialized")
    assert stale.severity == dg.AssetCheckSeverity.ERROR
    # the Telegram alert's key names the missed deadline, so each run does not alert again
    assert stale.metadata["alert_key"].value.startswith("due:")


def test_the_freshness_job_runs_only_the_freshness_checks():
    job = definitions().resolve_job_def("freshness_checks_job")
    assert [node.name for node in job.graph.node_defs] == ["freshness_checks"]


def _tick(instance: dg.DagsterInstance, at: datetime, cursor: str | None) -> tuple[dg.RunRequest | None, str | None]:
    with dg.build_sensor_context(instance=instance, cursor=cursor) as context, clock.simulated(lambda: at):
        result = freshness_sensor(context)
        return (result if isinstance(result, dg.RunRequest) else None), context.cursor


def _updated_at(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime:
    """When ``key`` was reported materialized (runless events carry the wall clock's time)."""
    return datetime.fromtimestamp(instance.get_latest_materialization_event(key).timestamp, KST)


def test_the_sensor_asks_for_a_run_only_when_a_verdict_changes():
    """Judged by the sensor each minute, run only on a change: never judged, fresh → stale, stale →
    fresh, and a stale asset again every 10 minutes; otherwise no run (the 10-minute schedule made
    144 runs a day recording the same verdicts). Each "no run" tick is at the instant of the tick
    before, so no deadline of the calendar can pass in between whatever the wall clock says."""
    instance = dg.DagsterInstance.ephemeral()
    news = dg.AssetKey(["raw", "naver_finance_news"])  # updated within the last 30 minutes, any day
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=news))
    at = _updated_at(instance, news) + timedelta(minutes=1)
    first, cursor = _tick(instance, at, None)
    assert first is not None, "never judged: a run"
    verdict, judged = json.loads(cursor)["raw/naver_finance_news"]
    assert verdict is True and datetime.fromisoformat(judged) == at
    assert _tick(instance, at, cursor)[0] is None, "nothing changed: no run"
    stale, cursor = _tick(instance, at + timedelta(minutes=30), cursor)
    assert stale is not None and json.loads(cursor)["raw/naver_finance_news"][0] is False, "fresh → stale: a run"
    assert _tick(instance, at + timedelta(minutes=30), cursor)[0] is None, "stale, judged just now: no run"
    assert _tick(instance, at + timedelta(minutes=40), cursor)[0] is not None, "stale 10 minutes on: judged again"
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=news))
    back, after = _tick(instance, _updated_at(instance, news) + timedelta(minutes=1), cursor)
    assert back is not None and "raw/naver_finance_news" in back.tags[CHANGED_TAG], "stale → fresh: a run"
    assert json.loads(after)["raw/naver_finance_news"][0] is True
