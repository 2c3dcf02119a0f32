"""Outputs of schema version 2 through the real pipeline and the real app: rows written before
the upgrade keep their nulls and are still served beside the new ones; an on-demand prediction
that would do nothing answers 409 without taking a quota slot."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_core.market import PRICE_IMPACT_HORIZONS
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS, STOCK_REPORTS
from azak_pipelines.lib import warehouse
from tests.api.conftest import account, bearer, settings_for, sql
from tests.api.dagit_standin import DagitStandIn, dagit_standin
from tests.pipelines.evaluation.fixtures import news_prediction, report
from tests.pipelines.predictions.conftest import (  # noqa: F401 (fixture)
    ARTICLE_AT,
    ARTICLE_ID,
    CODE,
    OTHER,
    add_model,
    build_warehouse,
    openai_server,
)
from tests.pipelines.runs import run

DAY = ("2025-02-12", "2025-02-12")
URGENCY = {"routine", "notable", "urgent", "breaking"}
PARTS = {"business", "sentiment", "competition", "regulation"}


def write_version_one_rows(url: str) -> None:
    """The tables as the previous release made them (without the version-2 columns), each with one
    row: the baseline's prediction of the article, and its report of the day before."""
    before = ARTICLE_AT - timedelta(days=1)
    with warehouse.connect(url) as conn:
        for spec, row, day in ((NEWS_PREDICTIONS, news_prediction("baseline", ARTICLE_ID, CODE, ARTICLE_AT, "up",
                                                                  0.6, 5), ARTICLE_AT),
                               (STOCK_REPORTS, report("baseline", CODE, before, "up", 0.6, 70000, 75000, 65000, 5),
                                before)):
            old = replace(spec, columns=spec.columns[:-2])
            warehouse.append_rows(conn, old, [row[:-2]], day.date(), day.date() + timedelta(days=1))


@pytest.fixture
def upgraded(db_url) -> str:
    build_warehouse(db_url)
    # the mart's other horizons and excess returns, which the article route serves (the prediction
    # warehouse holds only what the context reads)
    sql(db_url, "ALTER TABLE marts.news_price_impact " + ", ".join(
        [f"ADD COLUMN IF NOT EXISTS return_{h}d double precision" for h in PRICE_IMPACT_HORIZONS]
        + [f"ADD COLUMN excess_{h}d double precision" for h in PRICE_IMPACT_HORIZONS]))
    write_version_one_rows(db_url)
    run("news_predictions_job", DAY)
    run("stock_reports_job", DAY)
    return db_url


@pytest.fixture
def dagit() -> Iterator[DagitStandIn]:
    with dagit_standin() as standin:
        yield standin


@pytest.fixture
async def api(db_url, dagit) -> AsyncIterator[AsyncTestClient]:
    settings = settings_for(db_url, dagster_url=dagit.base_url, analysis_refreshes_per_day=2)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def assert_version_two_prediction(item: dict) -> None:
    assert item["urgency"] in URGENCY and set(item["impact_breakdown"]) == PARTS
    assert all(part["effect"] in {"positive", "negative", "neutral"} and part["note"]
               for part in item["impact_breakdown"].values())
    assert item["provenance"]["prompt_version"].endswith("/news_impact.v2")


async def test_new_fields_are_served_and_old_rows_keep_their_nulls(upgraded, api):
    user = await account(api, upgraded)
    listed = await api.get("/api/predictions", params={"stock": CODE}, headers=bearer(user.token))
    assert listed.status_code == 200, listed.text
    by_model = {i["provenance"]["model_name"]: i for i in listed.json()["items"] if i["news_id"] == str(ARTICLE_ID)}
    # the baseline had answered before the upgrade: its row stays as it was, not asked again
    old = by_model["baseline"]
    assert old["provenance"]["prompt_version"] == "v1" and old["urgency"] is None and old["impact_breakdown"] is None
    assert_version_two_prediction(by_model["momentum"])
    assert by_model["momentum"]["impact_breakdown"]["business"]["effect"] == "neutral"  # no news signal used

    detail = await api.get(f"/api/news/{ARTICLE_ID}", headers=bearer(user.token))
    assert detail.status_code == 200, detail.text
    assert {p["provenance"]["model_name"]: p["urgency"] for p in detail.json()["predictions"]} == {
        "baseline": None, "momentum": by_model["momentum"]["urgency"]}

    reports = await api.get(f"/api/stocks/{CODE}/reports", params={"model": "baseline"}, headers=bearer(user.token))
    new, old_report = reports.json()["items"]  # newest first
    assert old_report["medium_support"] is None and old_report["data_completeness"] is None
    assert new["provenance"]["prompt_version"] == "azak-baseline-v1/stock_report.v2"
    assert 0 < new["medium_support"] <= new["base_price"]
    # every section of the context had data on 2025-02-12 16:00 KST, the predictions of 10:00 included
    assert new["data_completeness"] == 1.0 and "sectors" in new["data_sources"]
    # the other stock has no DART filing and no news-impact history in the warehouse: 7 of 9 sections
    analysis = await api.get(f"/api/stocks/{OTHER}/analysis", headers=bearer(user.token))
    assert {r["data_completeness"] for r in analysis.json()["reports"]} == {round(7 / 9, 3)}


@pytest.fixture
def answered(db_url) -> str:
    build_warehouse(db_url)
    run("news_predictions_job", DAY)  # both offline models answer every link
    return db_url


async def test_a_prediction_that_would_do_nothing_takes_no_quota(answered, api, dagit, openai_server):
    db_url = answered
    user = await account(api, db_url)
    answered = await api.post(f"/api/news/{ARTICLE_ID}/predict", headers=bearer(user.token))
    assert answered.status_code == 409 and "already predicted" in answered.json()["detail"]

    # an article that only mentions the stock in passing (a link, not a salient one)
    sql(db_url, "INSERT INTO marts.news_articles SELECT 9100, published_at, published_day, published_precision, "
                "'업계 동향', summary, url, press, source, sources, content_type, 9100, true, 1, stock_codes, "
                "mentioned_codes FROM marts.news_articles WHERE news_id = %s", (ARTICLE_ID,))
    sql(db_url, "INSERT INTO marts.news_stock_matches (news_id, stock_code, score, salient) "
                "VALUES (9100, %s, 0.3, false)", (CODE,))
    unlinked = await api.post("/api/news/9100/predict", headers=bearer(user.token))
    assert unlinked.status_code == 409 and "no salient link" in unlinked.json()["detail"]

    add_model(db_url, "local-ok", "local/ok", openai_server.base_url)
    launched = await api.post(f"/api/news/{ARTICLE_ID}/predict", headers=bearer(user.token))
    assert launched.status_code == 202 and launched.json()["refreshes_left_today"] == 1  # the refusals took none
    [launch] = dagit.launches
    # the launched run, executed for real, answers the new model; asking again has nothing left to do
    await asyncio.to_thread(run, launch.job, DAY, launch.run_config)  # the runner has its own event loop
    assert sql(db_url, "SELECT status, urgency IS NOT NULL FROM computed.news_predictions "
                       "WHERE model_name = 'local-ok'") == [("ok", True)]
    again = await api.post(f"/api/news/{ARTICLE_ID}/predict", headers=bearer(user.token))
    assert again.status_code == 409

    sql(db_url, "UPDATE app.models SET active = false")
    idle = await api.post(f"/api/news/{ARTICLE_ID + 1}/predict", headers=bearer(user.token))
    assert idle.status_code == 409 and "no active model" in idle.json()["detail"]
    assert sql(db_url, "SELECT count(*) FROM app.quota_slots WHERE user_id = %s", (user.id,)) == [(1,)]
    assert len(dagit.launches) == 1


def test_the_sections_missing_lower_the_completeness(upgraded):
    """Computed from what the context held, never asked: without sector indices (8 of 9 sections)."""
    sql(upgraded, "DELETE FROM marts.index_daily WHERE index_code NOT IN ('0001', '1001')")
    run("stock_reports_job", ("2025-02-13", "2025-02-13"))  # a Thursday: a trading day
    made = sql(upgraded, "SELECT DISTINCT data_completeness, 'sectors' = ANY(data_sources) FROM "
                         "computed.stock_reports WHERE report_day = '2025-02-13' AND stock_code = %s", (CODE,))
    assert made == [(round(8 / 9, 3), False)]
