"""Evaluations, ratings, leaderboard, model performance and A/B tests over a warehouse the real
pipelines built and evaluated (stock reports written as the predictions branch will write them)."""

from dataclasses import replace
from datetime import date

import pytest
from litestar.testing import AsyncTestClient

from azak_api.admin import ensure_ab_test, run_migrations
from azak_api.app import create_app
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from tests.api.conftest import CODES, bearer, settings_for, sql


async def test_evaluations_list_and_filter(client, user, evaluated, api_warehouse):
    everything = (await client.get("/api/evaluations", params={"page_size": 100}, headers=bearer(user.token))).json()
    assert everything["total"] == evaluated["reports"]  # the failed attempt is counted, not evaluated
    finals = (await client.get("/api/evaluations", params={"model": "baseline", "stock": "005930",
                                                           "status": "final"}, headers=bearer(user.token))).json()
    [(expected,)] = sql(api_warehouse, "SELECT count(*) FROM marts.prediction_outcomes WHERE model_name = 'baseline' "
                                       "AND stock_code = '005930' AND status = 'final'")
    assert finals["total"] == expected > 10
    assert {(e["model"], e["stock_code"], e["status"]) for e in finals["items"]} == {("baseline", "005930", "final")}
    assert (await client.get("/api/evaluations")).status_code == 401
    assert (await client.get("/api/evaluations", params={"status": "done"},
                             headers=bearer(user.token))).status_code == 400


async def test_detail_shows_scores_legacy_apart_and_ratings_with_history(client, user, evaluated, api_warehouse):
    [(evaluation_id,)] = sql(api_warehouse, "SELECT evaluation_id FROM marts.prediction_outcomes "
                                            "WHERE status = 'final' AND model_name = 'baseline' LIMIT 1")
    url = f"/api/evaluations/{evaluation_id}"
    detail = (await client.get(url, headers=bearer(user.token))).json()
    assert detail["evaluation"]["status"] == "final" and detail["scores"]["hit"] in (0.0, 1.0)
    assert set(detail["legacy"]) == {"accuracy", "timing", "risk", "auto"}
    assert detail["human"] == {"n": 0, "quality": None, "usefulness": None, "overall": None}
    assert detail["my_rating"] is None

    first = await client.post(f"{url}/rating", json={"quality": 4, "usefulness": 3, "overall": 4, "reason": "ok"},
                              headers=bearer(user.token))
    assert first.status_code == 200, first.text
    second = (await client.post(f"{url}/rating", json={"quality": 2, "usefulness": 3, "overall": 2,
                                                        "reason": "the stop was too tight"},
                                headers=bearer(user.token))).json()
    assert [h["old"] for h in second["history"]] == [
        None, {"quality": 4, "usefulness": 3, "overall": 4, "reason": "ok"}]
    assert second["history"][1]["new"]["reason"] == "the stop was too tight"
    after = (await client.get(url, headers=bearer(user.token))).json()
    assert after["human"] == {"n": 1, "quality": 2.0, "usefulness": 3.0, "overall": 2.0}
    assert after["scores"] == detail["scores"]  # never blended into the automatic scores

    for body in ({"quality": 6, "usefulness": 3, "overall": 4}, {"quality": 4, "usefulness": 3},
                 {"quality": 4, "usefulness": 3, "overall": 4, "evaluator": "me"}):
        assert (await client.post(f"{url}/rating", json=body, headers=bearer(user.token))).status_code == 400
    missing = await client.post("/api/evaluations/report:nothing/rating",
                                json={"quality": 4, "usefulness": 3, "overall": 4}, headers=bearer(user.token))
    assert missing.status_code == 404
    assert (await client.get("/api/evaluations/<script>", headers=bearer(user.token))).status_code in (400, 404)


async def test_leaderboard_with_intervals_live_and_simulated_apart(client, user, evaluated, api_warehouse):
    board = (await client.get("/api/models/leaderboard", params={"days": 0, "mode": "simulated"},
                              headers=bearer(user.token))).json()
    rows = {r["model"]: r for r in board["models"]}
    assert set(rows) == {"baseline", "rival"} and all(r["mode"] == "simulated" for r in rows.values())
    [(hit_rate, finals)] = sql(api_warehouse, "SELECT avg(hit), count(*) FROM computed.prediction_scores "
                                              "WHERE model_name = 'baseline' AND status = 'final'")
    baseline = rows["baseline"]
    assert baseline["n_final"] == finals and baseline["scores"]["hit_rate"] == pytest.approx(hit_rate)
    low, high = baseline["ci"]["hit_rate"]
    assert low <= hit_rate <= high
    assert baseline["n_failed"] == 1 and baseline["model_id"] == evaluated["baseline_id"]
    assert len(baseline["reliability"]) == 10
    assert (await client.get("/api/models/leaderboard", params={"days": 5},
                             headers=bearer(user.token))).status_code == 400
    live = (await client.get("/api/models/leaderboard", params={"days": 0, "mode": "live"},
                             headers=bearer(user.token))).json()
    assert live["models"] == []


async def test_model_performance_per_window_day_and_stock(client, user, evaluated):
    perf = (await client.get(f"/api/models/{evaluated['baseline_id']}/performance",
                             headers=bearer(user.token))).json()
    assert perf["model"] == "baseline" and {w["window_days"] for w in perf["windows"]} == {7, 30, 90, 0}
    assert {s["stock_code"] for s in perf["by_stock"]} == set(CODES)
    assert perf["daily"] and all(d["mode"] == "simulated" for d in perf["daily"])
    assert (await client.get("/api/models/999999/performance", headers=bearer(user.token))).status_code == 404


async def test_ab_tests_admin_writes_history_and_paired_results(client, user, admin, evaluated):
    results = (await client.get(f"/api/ab-tests/{evaluated['ab_id']}/results", headers=bearer(user.token))).json()
    assert results["computed"]
    assert {(r["n"], r["verdict"]) for r in results["live"]} == {(0, "not enough data")}  # no live reports
    hit = {r["score"]: r for r in results["simulated"]}["hit"]
    days = len(krx_calendar().sessions_between(date(2025, 4, 1), date(2025, 5, 1)))
    assert hit["n"] == days * len(CODES) and hit["verdict"] != "not enough data"
    assert hit["ci_low"] <= hit["mean_diff"] <= hit["ci_high"] and 0 <= hit["sign_test_p"] <= 1

    pair = {"model_a_id": evaluated["baseline_id"], "model_b_id": evaluated["rival_id"], "min_n": 20}
    assert (await client.post("/api/ab-tests", json=pair, headers=bearer(user.token))).status_code == 403
    same = {**pair, "model_b_id": evaluated["baseline_id"]}
    assert (await client.post("/api/ab-tests", json=same, headers=bearer(admin.token))).status_code == 400
    unknown = {**pair, "model_b_id": 987654}
    response = await client.post("/api/ab-tests", json=unknown, headers=bearer(admin.token))
    assert response.status_code == 400 and "987654" in response.text
    first = (await client.post("/api/ab-tests", json=pair, headers=bearer(admin.token))).json()
    second = (await client.post("/api/ab-tests", json={**pair, "note": "again"}, headers=bearer(admin.token))).json()
    listed = {t["id"]: t for t in (await client.get("/api/ab-tests", headers=bearer(user.token))).json()}
    assert listed[second["id"]]["active"] and not listed[first["id"]]["active"]
    assert listed[first["id"]]["deactivated_at"] is not None and evaluated["ab_id"] in listed
    pending = (await client.get(f"/api/ab-tests/{second['id']}/results", headers=bearer(user.token))).json()
    assert not pending["computed"] and "not computed yet" in pending["detail"]
    assert (await client.get("/api/ab-tests/999999/results", headers=bearer(user.token))).status_code == 404


async def test_leaderboard_route_wins_over_the_registry_id_route(api_warehouse, evaluated):
    # the registry's own /api/models/{model_id:int} (PATCH) is mounted beside the leaderboard
    app = create_app(settings_for(api_warehouse))
    assert any(r.path == "/api/models/{model_id:int}" for r in app.routes)
    async with AsyncTestClient(app=app) as client:
        from tests.api.conftest import account

        me = await account(client, api_warehouse)
        board = await client.get("/api/models/leaderboard", params={"days": 0}, headers=bearer(me.token))
        assert board.status_code == 200 and "models" in board.json()
        perf = await client.get(f"/api/models/{evaluated['baseline_id']}/performance", headers=bearer(me.token))
        assert perf.status_code == 200




def test_the_demo_pair_is_made_once_and_never_replaces_an_active_pair(db_url):
    run_migrations(db_url)
    made = ensure_ab_test(db_url, "baseline", "momentum", "demo")
    assert made.created and (made.model_a, made.model_b) == ("baseline", "momentum")
    assert ensure_ab_test(db_url, "baseline", "momentum", "demo") == replace(made, created=False)
    # an admin's pair made since (it deactivated the demo's) is the one kept
    sql(db_url, "UPDATE app.ab_tests SET active = false, deactivated_at = now()")
    sql(db_url, "INSERT INTO app.ab_tests (model_a_id, model_b_id) SELECT b.id, a.id FROM app.models a, "
                "app.models b WHERE a.name = 'baseline' AND b.name = 'momentum'")
    kept = ensure_ab_test(db_url, "baseline", "momentum", "demo")
    assert not kept.created and (kept.model_a, kept.model_b) == ("momentum", "baseline")
    assert sql(db_url, "SELECT count(*) FROM app.ab_tests WHERE active") == [(1,)]
    sql(db_url, "UPDATE app.ab_tests SET active = false, deactivated_at = now()")
    with pytest.raises(LookupError, match="no model named gpt-x"):
        ensure_ab_test(db_url, "baseline", "gpt-x", "demo")
