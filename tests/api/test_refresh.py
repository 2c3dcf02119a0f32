"""On-demand refreshes and run status, over HTTP against a served API and a stand-in for Dagit's
GraphQL: the daily quota holds under parallel requests, a failed launch gives its slot back, runs
launched from the API queue behind the platform's, a user sees only the runs they launched, and a
stock code with a trailing newline is refused before anything launches."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.api.conftest import PASSWORD, bearer, make_user, serving, settings_for, sql
from tests.api.dagit_standin import DagitStandIn, dagit_standin

QUOTA = 3
CODE = "005930"
REFRESH = f"/api/stocks/{CODE}/analysis/refresh"


@pytest.fixture
def dagit() -> Iterator[DagitStandIn]:
    # Dagit takes a moment to answer a launch: parallel requests overlap in it, as they would
    with dagit_standin(launch_delay=0.2) as standin:
        yield standin


@pytest.fixture
def served(api_warehouse: str, api_milvus: str, dagit: DagitStandIn) -> Iterator[str]:
    settings = settings_for(api_warehouse, milvus_uri=api_milvus, dagster_url=dagit.base_url,
                            analysis_refreshes_per_day=QUOTA)
    with serving(settings) as base_url:
        yield base_url


@pytest.fixture
async def api(served: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served, timeout=60) as client:
        yield client


async def signed_in(api: httpx.AsyncClient, database_url: str, admin: bool = False) -> tuple[int, dict[str, str]]:
    """A new user's id and the headers that authenticate as them."""
    user_id, email = await make_user(database_url, admin=admin)
    response = await api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    api.cookies.clear()  # every call names its caller by the Bearer header
    return user_id, bearer(response.json()["access_token"])


def launches_for(dagit: DagitStandIn, user_id: int) -> list:
    return [launch for launch in dagit.launches if launch.tags.get("azak/requested_by") == str(user_id)]


async def test_parallel_refreshes_by_one_user_launch_exactly_the_quota(api, dagit, api_warehouse):
    user_id, headers = await signed_in(api, api_warehouse)
    answers = await asyncio.gather(*(api.post(REFRESH, headers=headers) for _ in range(20)))
    assert sorted(a.status_code for a in answers) == [202] * QUOTA + [429] * (20 - QUOTA), \
        [a.text for a in answers]
    assert len(launches_for(dagit, user_id)) == QUOTA
    assert sql(api_warehouse, "SELECT count(*) FROM app.quota_slots WHERE user_id = %s", (user_id,)) == [(QUOTA,)]
    refused = next(a for a in answers if a.status_code == 429)
    assert f"daily limit of {QUOTA}" in refused.json()["detail"]


async def test_a_failed_launch_does_not_spend_the_quota(api, dagit, api_warehouse):
    user_id, headers = await signed_in(api, api_warehouse)
    dagit.refuse = 1
    failed = await api.post(REFRESH, headers=headers)
    assert failed.status_code == 503 and "code location is not loaded" in failed.json()["detail"]
    lefts = [(await api.post(REFRESH, headers=headers)).json()["refreshes_left_today"] for _ in range(QUOTA)]
    assert lefts == list(range(QUOTA - 1, -1, -1))
    assert (await api.post(REFRESH, headers=headers)).status_code == 429
    assert len(launches_for(dagit, user_id)) == QUOTA


async def test_api_runs_queue_behind_the_platforms_own(api, dagit, api_warehouse):
    """The daemon dequeues higher priorities first (the platform's runs have 0), and dagster.yaml
    limits runs tagged azak/origin=api (tests/test_dagster_instance.py)."""
    user_id, headers = await signed_in(api, api_warehouse)
    assert (await api.post(REFRESH, headers=headers)).status_code == 202
    [launch] = launches_for(dagit, user_id)
    assert launch.job == "stock_reports_job" and launch.run_config["ops"]["computed__stock_reports"]
    assert int(launch.tags["dagster/priority"]) < 0 and launch.tags["azak/origin"] == "api"


async def test_a_user_sees_only_the_runs_they_launched(api, dagit, api_warehouse):
    _, owner = await signed_in(api, api_warehouse)
    _, other = await signed_in(api, api_warehouse)
    _, admin = await signed_in(api, api_warehouse, admin=True)
    status_url = (await api.post(REFRESH, headers=owner)).json()["status_url"]
    assert (await api.get(status_url, headers=owner)).status_code == 200
    assert (await api.get(status_url, headers=admin)).status_code == 200
    # someone else's run answers exactly like a run that does not exist: ids cannot be probed
    theirs = await api.get(status_url, headers=other)
    unknown = await api.get("/api/runs/00000000-0000-4000-8000-000000000000", headers=other)
    assert theirs.status_code == unknown.status_code == 404
    assert "tags" not in theirs.text and theirs.json()["detail"].startswith("no run ")


async def test_a_code_with_a_trailing_newline_is_refused_before_anything_launches(api, dagit, api_warehouse):
    user_id, headers = await signed_in(api, api_warehouse)
    refresh = await api.post("/api/stocks/005930%0A/analysis/refresh", headers=headers)
    assert refresh.status_code == 400, refresh.text
    assert launches_for(dagit, user_id) == []
    for url in ("/api/news/search?q=samsung&stock=005930%0A", "/api/news?stock=005930%0A",
                "/api/stocks/005930%0A", "/api/news/1%0A", "/api/runs/00000000-0000-4000-8000-000000000000%0A"):
        response = await api.get(url, headers=headers)
        assert response.status_code == 400, (url, response.status_code, response.text)
