"""Analyses, report history, predictions and on-demand refreshes over a warehouse the prediction
assets filled (baseline plus a failing model), through the real app."""

import os
import subprocess
import time
import urllib.request
from dataclasses import replace

import httpx
import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_core.market import PRICE_IMPACT_HORIZONS
from tests.api.conftest import account, bearer, serving, settings_for, sql
from tests.conftest import BIN, PROJECT_ROOT, free_port
from tests.pipelines.predictions.conftest import ARTICLE_ID, CODE, add_model, build_warehouse, openai_server  # noqa: F401 (fixture)
from tests.pipelines.runs import run

DAY = ("2025-02-12", "2025-02-12")


@pytest.fixture
def filled(db_url, openai_server) -> str:
    build_warehouse(db_url)
    add_model(db_url, "local-broke", "local/credits", openai_server.base_url)
    run("news_predictions_job", DAY, raise_on_error=False)
    run("stock_reports_job", DAY, raise_on_error=False)
    return db_url


@pytest.fixture
async def api(filled):
    async with AsyncTestClient(app=create_app(settings_for(filled))) as client:
        yield client


async def test_analysis_serves_latest_ok_report_per_active_model(api, filled):
    user = await account(api, filled)
    response = await api.get(f"/api/stocks/{CODE}/analysis", headers=bearer(user.token))
    assert response.status_code == 200, response.text
    body = response.json()
    # the two offline baselines report; the failed model has none
    assert [r["provenance"]["model_name"] for r in body["reports"]] == ["baseline", "momentum"]
    report = body["reports"][0]
    assert report["provenance"]["mode"] == "simulated" and report["provenance"]["status"] == "ok"
    assert report["recommendation"] in {"buy", "hold", "sell"} and report["base_price"] > 0
    assert "bars" in report["data_sources"] and report["provenance"]["input_hash"]
    assert response.headers["content-type"].startswith("application/json")

    history = await api.get(f"/api/stocks/{CODE}/reports", params={"model": "baseline", "from": "2025-02-12",
                                                                  "to": "2025-02-12"}, headers=bearer(user.token))
    assert history.status_code == 200 and len(history.json()["items"]) == 1 and history.json()["total"] == 1
    empty = await api.get(f"/api/stocks/{CODE}/reports", params={"from": "2025-02-13"}, headers=bearer(user.token))
    assert empty.json()["items"] == [] and empty.json()["pages"] == 0


async def test_analysis_shows_the_active_ab_pair_side_by_side(api, filled):
    user, admin = await account(api, filled), await account(api, filled, admin=True)
    plain = (await api.get(f"/api/stocks/{CODE}/analysis", headers=bearer(user.token))).json()
    assert plain["ab_pair"] is None  # no A/B test configured (and this answer is now cached)
    models = {m["name"]: m["id"] for m in (await api.get("/api/models", headers=bearer(admin.token))).json()}
    created = await api.post("/api/ab-tests", headers=bearer(admin.token),
                             json={"model_a_id": models["local-broke"], "model_b_id": models["baseline"]})
    assert created.status_code == 201, created.text
    pair = (await api.get(f"/api/stocks/{CODE}/analysis", headers=bearer(user.token))).json()["ab_pair"]
    assert pair is not None, "the cached analysis outlived the new A/B pair"
    assert pair["ab_test_id"] == created.json()["id"]
    assert (pair["model_a"], pair["model_b"]) == ("local-broke", "baseline")
    assert pair["a"] is None  # the failing model has no successful report
    assert pair["b"]["provenance"]["model_name"] == "baseline" and pair["b"]["report_id"]


async def test_predictions_show_failures_as_failures(api, filled):
    user = await account(api, filled)
    failed = await api.get("/api/predictions", params={"status": "failed"}, headers=bearer(user.token))
    assert failed.status_code == 200
    items = failed.json()["items"]
    assert items and all(i["provenance"]["error_class"] == "credits" and i["direction"] is None for i in items)
    ok = await api.get("/api/predictions", params={"stock": CODE, "model": "baseline"}, headers=bearer(user.token))
    assert ok.json()["total"] == 1 and ok.json()["items"][0]["news_id"] == str(ARTICLE_ID)


async def test_analysis_requires_login(api):
    assert (await api.get(f"/api/stocks/{CODE}/analysis")).status_code == 401
    assert (await api.post(f"/api/stocks/{CODE}/analysis/refresh")).status_code == 401


async def test_refresh_without_dagit_is_503(api, filled):
    admin = await account(api, filled, admin=True)
    response = await api.post(f"/api/stocks/{CODE}/analysis/refresh", headers=bearer(admin.token))
    assert response.status_code == 503 and "AZAK_DAGSTER_URL" in response.json()["detail"]


def _wait_for_dagit(port: int, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError("Dagit did not start")


@pytest.mark.slow
async def test_refresh_launches_a_dagster_run_within_the_quota(filled, dagster_home, tmp_path):
    port = free_port()
    log = tmp_path / "webserver.log"
    server = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", "127.0.0.1",
         "-p", str(port)], cwd=PROJECT_ROOT, env=dict(os.environ), stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        _wait_for_dagit(port, server, log)
        settings = replace(settings_for(filled), dagster_url=f"http://127.0.0.1:{port}", analysis_refreshes_per_day=1)
        async with AsyncTestClient(app=create_app(settings)) as api:
            user = await account(api, filled)
            launched = await api.post(f"/api/stocks/{CODE}/analysis/refresh", headers=bearer(user.token))
            assert launched.status_code == 202, launched.text
            body = launched.json()
            assert body["refreshes_left_today"] == 0 and body["status_url"] == f"/api/runs/{body['run_id']}"
            status = await api.get(body["status_url"], headers=bearer(user.token))
            assert status.status_code == 200, status.text
            run_info = status.json()
            assert run_info["job"] == "stock_reports_job" and run_info["tags"]["azak/requested_by"] == str(user.id)
            assert run_info["status"] in {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS"}
            again = await api.post(f"/api/stocks/{CODE}/analysis/refresh", headers=bearer(user.token))
            assert again.status_code == 429 and "daily limit" in again.json()["detail"]
            unknown = await api.get("/api/runs/00000000-0000-0000-0000-000000000000", headers=bearer(user.token))
            assert unknown.status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=30)




async def test_upstream_error_bodies_are_for_admins_only(filled):
    """A provider's error body (here a 402's text; in the wild, internal addresses) is stored and
    shown to admins; users see the error class only, on every route that serves failures — also
    when an admin's answer was cached first."""
    upstream = "This request requires more credits"
    missing = [f"return_{h}d" for h in (2, 3, 10)] + [f"excess_{h}d" for h in PRICE_IMPACT_HORIZONS]
    sql(filled, "ALTER TABLE marts.news_price_impact "  # the article route reads the mart's whole contract
        + ", ".join(f"ADD COLUMN {c} double precision" for c in missing))
    with serving(settings_for(filled)) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            admin = bearer((await account(http, filled, admin=True)).token)
            user = bearer((await account(http, filled)).token)
            seen = {}
            for who, headers in (("admin", admin), ("user", user)):
                failed = await http.get("/api/predictions", params={"status": "failed"}, headers=headers)
                article = await http.get(f"/api/news/{ARTICLE_ID}", headers=headers)
                assert failed.status_code == 200 and article.status_code == 200, (failed.text, article.text)
                shown = [p["provenance"] for p in failed.json()["items"] + article.json()["predictions"]]
                assert {p["error_class"] for p in shown if p["status"] == "failed"} == {"credits"}
                seen[who] = (failed.json()["items"][0]["provenance"]["error_message"], article.text)
    assert upstream in seen["admin"][0]
    assert seen["user"][0] is None and upstream not in seen["user"][1]
    assert upstream not in seen["admin"][1]  # the article is one cached answer for everyone: classes only
