"""``POST /api/news/{id}/predict`` through the real app and a stand-in for Dagit's GraphQL: one
article's run is launched narrowed to it, on its own day, and draws on the caller's daily quota
of on-demand runs, shared with report refreshes."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_api.settings import Settings
from azak_core.market import KST
from tests.api.conftest import account, bearer, sql
from tests.api.dagit_standin import DagitStandIn, dagit_standin

# the first article a run would predict: a salient link to a watch-list stock (else the route answers
# 409 without launching anything, tests/api/test_outputs.py)
PREDICTABLE = ("FROM marts.news_articles AS a WHERE EXISTS (SELECT 1 FROM marts.news_stock_matches AS m "
               "JOIN marts.stocks AS s ON s.stock_code = m.stock_code AND s.is_watchlist "
               "WHERE m.news_id = a.news_id AND m.salient) AND coalesce(a.is_canonical, true) ORDER BY a.news_id")


@pytest.fixture
def dagit() -> Iterator[DagitStandIn]:
    with dagit_standin() as standin:
        yield standin


@pytest.fixture
async def api(app_settings: Settings, dagit: DagitStandIn) -> AsyncIterator[AsyncTestClient]:
    settings = replace(app_settings, dagster_url=dagit.base_url, analysis_refreshes_per_day=2)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_one_article_is_predicted_on_demand_within_the_shared_quota(api, api_warehouse, dagit):
    [(news_id, published_at)] = sql(api_warehouse, f"SELECT news_id, published_at {PREDICTABLE} LIMIT 1")
    user = await account(api, api_warehouse)
    launched = await api.post(f"/api/news/{news_id}/predict", headers=bearer(user.token))
    assert launched.status_code == 202, launched.text
    assert launched.json()["refreshes_left_today"] == 1 and launched.json()["status_url"].startswith("/api/runs/")
    [launch] = dagit.launches
    assert launch.job == "news_predictions_job"
    assert launch.run_config == {"ops": {"computed__news_predictions": {"config": {"news_ids": [news_id]}}}}
    assert launch.tags["dagster/partition"] == str(published_at.astimezone(KST).date())
    assert launch.tags["azak/requested_by"] == str(user.id) and launch.tags["azak/origin"] == "api"
    # the same quota as report refreshes: one refresh spends the last slot
    assert (await api.post("/api/stocks/005930/analysis/refresh", headers=bearer(user.token))).status_code == 202
    over = await api.post(f"/api/news/{news_id}/predict", headers=bearer(user.token))
    assert over.status_code == 429 and "refreshes and predictions count alike" in over.json()["detail"]
    assert len(dagit.launches) == 2


async def test_unknown_articles_and_disabled_users_launch_nothing(api, api_warehouse, dagit):
    user, admin = await account(api, api_warehouse), await account(api, api_warehouse, admin=True)
    assert (await api.post("/api/news/999999999999/predict", headers=bearer(user.token))).status_code == 404
    [(news_id,)] = sql(api_warehouse, f"SELECT news_id {PREDICTABLE} LIMIT 1")
    await api.patch(f"/api/users/{user.id}", json={"refresh_enabled": False}, headers=bearer(admin.token))
    refused = await api.post(f"/api/news/{news_id}/predict", headers=bearer(user.token))
    assert refused.status_code == 403 and "turned off" in refused.json()["detail"]
    assert dagit.launches == []
    unlimited = await api.post(f"/api/news/{news_id}/predict", headers=bearer(admin.token))
    assert unlimited.status_code == 202 and unlimited.json()["refreshes_left_today"] is None
