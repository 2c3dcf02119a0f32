"""The scheduled freshness job judges every rule against the instance's materializations."""

import dagster as dg

from azak_pipelines.defs.freshness.rules import RULES
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
