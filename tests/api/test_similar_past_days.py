"""Past days flow too: news imported for three past days gets its vectors and neighbours from the
daemon's own automation decisions (evaluated tick by tick, the runs they ask for executed), and
/api/news/{id}/similar answers 200 for every imported article without any other command (it
answered 503 for all of them: ``eager`` looks at the latest day only)."""

import asyncio
import json
from pathlib import Path

import dagster as dg
import pytest
from litestar.testing import AsyncTestClient

from azak_api.admin import run_migrations
from azak_api.app import create_app
from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.news.tables import IMPORTED_NEWS
from azak_pipelines.runs import op_config, range_tags, run_job
from tests.api.conftest import account, bearer, settings_for, sql
from tests.pipelines.runs import definitions, run

DAYS = ("2025-05-20", "2025-05-27", "2025-06-02")
TITLES = ("삼성전자, 2분기 반도체 실적 개선 기대", "SK하이닉스 HBM 공급 확대에 주가 강세")
EMBEDDINGS = dg.AssetKey(["milvus", "news_embeddings"])
SIMILAR = dg.AssetKey(["computed", "similar_news"])


def automation(instance: dg.DagsterInstance, cursor=None) -> dg.EvaluateAutomationConditionsResult:
    """One tick of the daemon's automation sensor over its own selection."""
    defs = definitions()
    sensor = next(s for s in defs.sensors if isinstance(s, dg.AutomationConditionSensorDefinition))
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor,
                                             asset_selection=sensor.asset_selection)


def execute_requested(instance: dg.DagsterInstance, tick: dg.EvaluateAutomationConditionsResult) -> int:
    """Launch the runs a tick asked for, as the daemon would: the partitioned assets (single-run
    backfill policy) in one run over the requested days, the unpartitioned ones (dbt) in another.
    Returns the number of assets requested."""
    defs = definitions()
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    requested = {key: tick.get_requested_partitions(key) for key in graph.get_all_asset_keys()
                 if tick.get_num_requested(key)}
    by_day = [key for key in requested if graph.get(key).partitions_def is not None]
    days = sorted({day for key in by_day for day in requested[key]})
    if by_day:
        assert days == news_days.get_partition_keys_in_range(dg.PartitionKeyRange(days[0], days[-1]))
        result = job.execute_in_process(instance=instance, asset_selection=by_day,
                                        tags=range_tags((days[0], days[-1])))
        assert result.success
    whole = [key for key in requested if key not in by_day]
    if whole:
        assert job.execute_in_process(instance=instance, asset_selection=whole).success
    return len(requested)


def import_and_follow(url: str, tmp_path: Path) -> None:
    """Import three past days as `azak import news` does, then tick the automation, execute what it
    asks for, and tick again (synchronous: the pipelines run their own event loops)."""
    instance = dg.DagsterInstance.get()
    run_migrations(url)  # a platform that runs: its app schema (the outbox), its reference and market marts
    run("reference_job", instance=instance)
    run("market_marts_job", instance=instance)  # (news_price_impact reads marts/daily_prices)
    before = automation(instance)
    assert not before.get_requested_partitions(EMBEDDINGS)  # the missing history is not work

    path = tmp_path / "news.jsonl"
    path.write_text("".join(
        json.dumps({"title": f"{title} ({day})", "summary": f"{title}. 시장 전망과 수급 동향.", "source": "team",
                    "published_at": f"{day}T0{hour}:30:00+09:00", "url": f"https://example.com/{day}/{hour}"},
                   ensure_ascii=False) + "\n"
        for day in DAYS for hour, title in zip((8, 9), TITLES, strict=True)), encoding="utf-8")
    imported = run_job(definitions(), instance, "imported_news_job", (DAYS[0], DAYS[-1]),
                       op_config(IMPORTED_NEWS, {"paths": [str(path)]}), {"azak/origin": "import"})
    assert imported.success

    tick = automation(instance, before.cursor)
    # exactly the days the import wrote: its one run covered the range of the file, every day of it
    written = set(news_days.get_partition_keys_in_range(dg.PartitionKeyRange(DAYS[0], DAYS[-1])))
    assert set(tick.get_requested_partitions(EMBEDDINGS)) == written
    assert set(tick.get_requested_partitions(SIMILAR)) == written
    assert execute_requested(instance, tick)
    for _ in range(3):  # the marts over the new vectors follow; then nothing is left to do
        tick = automation(instance, tick.cursor)
        assert not tick.get_requested_partitions(EMBEDDINGS) and not tick.get_requested_partitions(SIMILAR)
        if not execute_requested(instance, tick):
            break
    assert tick.total_requested == 0


@pytest.mark.slow
async def test_three_imported_past_days_answer_similar_without_another_command(
        warehouse_with_stocks, dagster_home, replay, milvus_uri, tmp_path):
    await asyncio.to_thread(import_and_follow, warehouse_with_stocks, tmp_path)
    ids = [row[0] for row in sql(warehouse_with_stocks, "SELECT news_id FROM computed.news_articles ORDER BY news_id")]
    assert len(ids) == 2 * len(DAYS)
    settings = settings_for(warehouse_with_stocks, milvus_uri=milvus_uri)
    async with AsyncTestClient(app=create_app(settings)) as client:
        user = await account(client, warehouse_with_stocks)
        for news_id in ids:
            response = await client.get(f"/api/news/{news_id}/similar", headers=bearer(user.token))
            assert response.status_code == 200, response.text
    later = [row[0] for row in sql(warehouse_with_stocks, """
        SELECT DISTINCT s.news_id FROM computed.similar_news s""")]
    assert later  # the later days' articles found their earlier neighbours
