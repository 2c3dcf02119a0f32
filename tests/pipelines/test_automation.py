"""What the daemon runs: every sensor and schedule evaluates, and declarative automation keeps the
marts fresh after an import (the first round's marts sensors failed on every tick, unseen)."""

import json
from datetime import datetime

import dagster as dg
import psycopg
import pytest

from azak_core.market import KST
from tests.pipelines.runs import definitions, run


def _context_kwargs(instance: dg.DagsterInstance) -> dict:
    return {"instance": instance, "resources": definitions().resources}


def test_every_sensor_and_schedule_of_the_code_location_evaluates(warehouse_with_stocks, dagster_home, replay):
    instance = dg.DagsterInstance.get()
    defs = definitions()
    evaluated = []
    repository = defs.get_repository_def()  # partitioned run requests resolve against it, as in the daemon
    for schedule in defs.schedules:
        # closed after the tick: asked for its instance, a schedule's context opens one from the
        # reference, which stays the process's current state storage (and breaks the next test that
        # loads the definitions once it is collected) until the context is closed
        with dg.build_schedule_context(scheduled_execution_time=datetime(2025, 6, 4, 15, 40, tzinfo=KST),
                                       repository_def=repository, **_context_kwargs(instance)) as context:
            result = schedule.evaluate_tick(context)
        assert result.skip_message or result.run_requests, schedule.name
        evaluated.append(schedule.name)
    for sensor in defs.sensors:
        if isinstance(sensor, dg.AutomationConditionSensorDefinition):
            continue  # evaluated below through Dagster's own automation evaluator
        if isinstance(sensor, dg.RunStatusSensorDefinition):
            continue  # need a run to react to: tests/pipelines/notify/test_sensors.py evaluates them with one
        with dg.build_sensor_context(repository_def=repository, **_context_kwargs(instance)) as context:
            result = sensor.evaluate_tick(context)
        assert result.skip_message or result.run_requests, sensor.name
        evaluated.append(sensor.name)
    assert {"news_schedule", "daily_prices_schedule", "watchlist_sensor"} <= set(evaluated)


def test_the_automation_sensor_covers_every_asset_with_a_condition():
    defs = definitions()
    graph = defs.resolve_asset_graph()
    automated = {key for key in graph.get_all_asset_keys() if graph.get(key).automation_condition}
    sensors = [s for s in defs.sensors if isinstance(s, dg.AutomationConditionSensorDefinition)]
    assert [s.name for s in sensors] == ["automation_sensor"]
    assert sensors[0].default_status == dg.DefaultSensorStatus.RUNNING
    covered = sensors[0].asset_selection.resolve(graph)
    assert automated and automated <= covered
    assert dg.AssetKey(["marts", "news_articles"]) in automated


def _automation(instance: dg.DagsterInstance, cursor=None):
    defs = definitions()
    sensor = next(s for s in defs.sensors if isinstance(s, dg.AutomationConditionSensorDefinition))
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor,
                                             asset_selection=sensor.asset_selection)


def _requested(result) -> set[str]:
    return {r.key.to_user_string() for r in result.results if r.true_subset.size}


@pytest.mark.slow
def test_an_import_is_followed_by_refreshed_marts(warehouse_with_stocks, dagster_home, replay, tmp_path):
    instance = dg.DagsterInstance.get()
    run("reference_job", instance=instance)
    run("market_marts_job", instance=instance)  # news_price_impact reads marts/daily_prices
    quiet = _automation(instance)
    assert not any(key.startswith("marts/news") for key in _requested(quiet))

    path = tmp_path / "news.jsonl"
    path.write_text(json.dumps({"title": "삼성전자, 신규 파운드리 고객 확보", "summary": "요약", "source": "team",
                                "published_at": "2025-06-02T09:15:00+09:00", "url": "https://example.com/a"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    run("imported_news_job", ("2025-06-02", "2025-06-02"), instance=instance,
        run_config={"ops": {"raw__imported_news": {"config": {"paths": [str(path)]}}}})

    after_import = _automation(instance, quiet.cursor)
    requested = _requested(after_import)
    assert {"staging/stg_news__articles", "marts/news_articles", "marts/news_stock_matches",
            "marts/news_price_impact"} <= requested, requested
    assert not any(key.startswith("raw/") for key in requested)

    # launch the unpartitioned part of what the sensor asked for (the dbt models), as the daemon
    # would in one run, then read the mart the API serves; the day's embeddings and neighbours it
    # also asks for run in runs of their own partition (tests/api/test_similar_past_days.py)
    graph = definitions().resolve_asset_graph()
    whole = [key for key in map(dg.AssetKey.from_user_string, requested) if graph.get(key).partitions_def is None]
    assert {"milvus/news_embeddings", "computed/similar_news"} <= requested, requested
    result = definitions().resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=whole)
    assert result.success
    with psycopg.connect(warehouse_with_stocks) as conn:
        titles = [r[0] for r in conn.execute("SELECT title FROM marts.news_articles").fetchall()]
        linked = conn.execute("SELECT count(*) FROM marts.news_stock_matches WHERE stock_code = '005930'").fetchone()
    assert titles == ["삼성전자, 신규 파운드리 고객 확보"]
    assert linked[0] == 1

    settled = _automation(instance, after_import.cursor)
    assert not any(key.startswith(("marts/", "staging/")) for key in _requested(settled))


def test_a_calendar_refresh_is_followed_only_when_the_calendar_changed(warehouse_with_stocks, dagster_home):
    """The automation follows changed data versions. The calendar has a code version and no inputs,
    so without a version of its own Dagster would give every refresh the same one and a new holiday
    would never reach marts/trading_days; it reports a digest of its rows instead."""
    instance = dg.DagsterInstance.get()
    key = dg.AssetKey(["raw", "trading_calendar"])

    def version() -> str:
        run("reference_job", assets=["raw/trading_calendar"], instance=instance)
        [record] = instance.fetch_materializations(key, limit=1).records
        tags = record.asset_materialization.tags
        assert tags["dagster/data_version_is_user_provided"] == "true"
        return tags["dagster/data_version"]

    first = version()
    settled = _automation(instance)
    assert version() == first  # the same rows: the same version, so nothing below is requested
    assert "marts/trading_days" not in _requested(_automation(instance, settled.cursor))
