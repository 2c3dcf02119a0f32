"""The model registry through the admin API."""

import httpx
import pytest
from litestar.testing import AsyncTestClient

from azak_api.admin import run_migrations
from azak_api.app import create_app
from azak_api.settings import Settings, SettingsError
from tests.api.conftest import SECRET, account, bearer, serving, settings_for, sql


@pytest.fixture
def migrated(db_url) -> str:
    run_migrations(db_url)
    return db_url


@pytest.fixture
async def api(migrated):
    async with AsyncTestClient(app=create_app(settings_for(migrated))) as client:
        yield client


async def test_admin_registers_lists_and_changes_models(api, db_url):
    admin = await account(api, db_url, admin=True)
    listed = await api.get("/api/models", headers=bearer(admin.token))
    assert listed.status_code == 200 and [(m["name"], m["model"]) for m in listed.json()] == [
        ("baseline", "azak-baseline-v1"), ("momentum", "azak-momentum-v1")]  # the offline models (migrations)
    created = await api.post("/api/models", headers=bearer(admin.token), json={
        "name": "vllm-qwen", "provider": "openai-compatible", "model": "Qwen/Qwen2.5-7B-Instruct",
        "base_url": "http://gpu:8000/v1", "params": {"temperature": 0.3, "max_tokens": 1000},
        "price_in_per_m": 0.1, "price_out_per_m": 0.2})
    assert created.status_code == 201, created.text
    model = created.json()
    assert model["params"] == {"temperature": 0.3, "max_tokens": 1000} and model["active"] is True
    duplicate = await api.post("/api/models", headers=bearer(admin.token), json={
        "name": "vllm-qwen", "provider": "openai", "model": "gpt-4o-mini"})
    assert duplicate.status_code == 409
    changed = await api.patch(f"/api/models/{model['id']}", headers=bearer(admin.token), json={"active": False})
    assert changed.status_code == 200 and changed.json()["active"] is False
    missing = await api.patch("/api/models/999999", headers=bearer(admin.token), json={"active": True})
    assert missing.status_code == 404


async def test_bad_registrations_are_400(api, db_url):
    admin = await account(api, db_url, admin=True)
    for body in ({"name": "x", "provider": "openai-compatible", "model": "m"},  # no base_url
                 {"name": "bad name!", "provider": "openai", "model": "m"},
                 {"name": "x", "provider": "openai", "model": "m", "api_key_env": "lower"},
                 {"name": "x", "provider": "openai", "model": "m", "params": {"temperature": 5}},
                 {"name": "x", "provider": "nope", "model": "m"},
                 {"name": "x", "provider": "baseline", "model": "azak-baseline-v2"}):  # no such offline model
        response = await api.post("/api/models", headers=bearer(admin.token), json=body)
        assert response.status_code == 400, (body, response.text)
    assert "azak-baseline-v1, azak-momentum-v1" in response.text  # the last one says what exists


async def test_models_are_admin_only(api, db_url):
    user = await account(api, db_url)
    assert (await api.get("/api/models", headers=bearer(user.token))).status_code == 403
    assert (await api.post("/api/models", headers=bearer(user.token),
                           json={"name": "x", "provider": "openai", "model": "m"})).status_code == 403
    assert (await api.get("/api/models")).status_code == 401


STEAL_JWT = {"name": "steal-jwt", "provider": "openai-compatible", "model": "m", "base_url": "http://127.0.0.1:9/v1",
             "api_key_env": "AZAK_JWT_SECRET"}
REFUSED = [  # (body, what the 422 names)
    (STEAL_JWT, "AZAK_OPENAI_API_KEY, AZAK_OPENROUTER_API_KEY"),
    ({"name": "steal-db", "provider": "openai", "model": "m", "api_key_env": "AZAK_DATABASE_URL"},
     "AZAK_LLM_KEY_VARIABLES"),
    ({"name": "redirect", "provider": "openai", "model": "gpt-4o-mini", "base_url": "https://collector.example/v1"},
     "AZAK_LLM_BASE_URL_HOSTS (api.openai.com, openrouter.ai)"),
    ({"name": "keyed-http", "provider": "openai-compatible", "model": "m", "base_url": "http://gpu:8000/v1",
      "api_key_env": "AZAK_OPENAI_API_KEY"}, "may not call gpu"),
    ({"name": "plain", "provider": "openrouter", "model": "m", "base_url": "http://openrouter.ai/api/v1"}, "https"),
    ({"name": "imds", "provider": "openai-compatible", "model": "m", "base_url": "http://169.254.169.254/v1"},
     "refused always"),
    ({"name": "imds6", "provider": "openai-compatible", "model": "m", "base_url": "http://[fd00:ec2::254]/v1"},
     "refused always"),
    ({"name": "gce", "provider": "openai-compatible", "model": "m", "base_url": "http://metadata.google.internal/v1"},
     "refused always"),
    ({"name": "lan", "provider": "openai-compatible", "model": "m", "base_url": "http://10.0.0.5:8000/v1"},
     "AZAK_LLM_PRIVATE_NETWORKS"),
    # the client appends its path after the base URL: a query would aim a keyless model (whose
    # errors admins read) at any endpoint of a loopback service
    ({"name": "aimed", "provider": "openai-compatible", "model": "m",
      "base_url": "http://127.0.0.1:19530/v2/vectordb/collections/list?"}, "query or a fragment"),
]


async def test_an_admin_cannot_point_a_key_at_a_host_of_their_choice(migrated):
    """The exfiltration over HTTP against the served API: another variable of the environment as a
    key, a keyed provider redirected, a metadata address — each a 422 naming what is allowed, and
    nothing stored."""
    with serving(settings_for(migrated)) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            admin = bearer((await account(http, migrated, admin=True)).token)
            for body, named in REFUSED:
                response = await http.post("/api/models", headers=admin, json=body)
                assert response.status_code == 422 and named in response.json()["detail"], (body, response.text)
            allowed = {}
            for body in ({"name": "gpt", "provider": "openai", "model": "gpt-4o-mini",
                          "base_url": "https://api.openai.com/v1"},
                         {"name": "local", "provider": "openai-compatible", "model": "m",
                          "base_url": "http://gpu:8000/v1"}):  # keyless: the name is checked when called
                created = await http.post("/api/models", headers=admin, json=body)
                assert created.status_code == 201, created.text
                allowed[body["name"]] = created.json()["id"]
            for name, change in (("gpt", {"api_key_env": "AZAK_JWT_SECRET"}),
                                 ("gpt", {"base_url": "https://collector.example/v1"}),
                                 ("local", {"base_url": "http://169.254.169.254/v1"}),
                                 ("local", {"api_key_env": "AZAK_OPENAI_API_KEY"})):  # keyed now: gpu not listed
                response = await http.patch(f"/api/models/{allowed[name]}", headers=admin, json=change)
                assert response.status_code == 422, (name, change, response.text)
            listed = {m["name"]: m for m in (await http.get("/api/models", headers=admin)).json()}
    assert set(listed) == {"baseline", "momentum", "gpt", "local"}
    assert (listed["gpt"]["base_url"], listed["gpt"]["api_key_env"]) == ("https://api.openai.com/v1", None)
    assert (listed["local"]["base_url"], listed["local"]["api_key_env"]) == ("http://gpu:8000/v1", None)


async def test_the_operator_sets_the_lists(migrated, monkeypatch):
    monkeypatch.setenv("AZAK_DATABASE_URL", migrated)
    monkeypatch.setenv("AZAK_JWT_SECRET", SECRET)
    monkeypatch.setenv("AZAK_LLM_KEY_VARIABLES", "AZAK_VLLM_KEY")
    monkeypatch.setenv("AZAK_LLM_BASE_URL_HOSTS", "llm.corp.example")
    monkeypatch.setenv("AZAK_LLM_PRIVATE_NETWORKS", "10.0.0.0/8")
    policy = Settings.from_env().llm_egress
    async with AsyncTestClient(app=create_app(settings_for(migrated, llm_egress=policy))) as api:
        admin = bearer((await account(api, migrated, admin=True)).token)
        for body, status in (
                ({"name": "corp", "provider": "openai-compatible", "model": "m", "api_key_env": "AZAK_VLLM_KEY",
                  "base_url": "https://llm.corp.example/v1"}, 201),
                ({"name": "lan", "provider": "openai-compatible", "model": "m", "base_url": "http://10.1.2.3/v1"}, 201),
                ({"name": "gpt", "provider": "openai", "model": "m"}, 422)):  # its key variable is not listed now
            response = await api.post("/api/models", headers=admin, json=body)
            assert response.status_code == status, (body, response.text)
    monkeypatch.setenv("AZAK_LLM_PRIVATE_NETWORKS", "169.254.0.0/16")
    with pytest.raises(SettingsError, match=r"AZAK_LLM_PRIVATE_NETWORKS: 169\.254\.0\.0/16 contains link-local"):
        Settings.from_env()


async def test_a_backfill_is_checked_before_the_model_is_added(api, db_url):
    admin = await account(api, db_url, admin=True)
    model = {"name": "m", "provider": "baseline", "model": "azak-momentum-v1"}
    for backfill, detail in (({"start": "2025-06-01", "end": "2025-05-01"}, "start must not be after its end"),
                             ({"start": "2000-01-01", "end": "2020-01-01"}, "at most 3660 days"),
                             ({"compare_with": 99999}, "no model with id 99999")):
        refused = await api.post("/api/models", headers=bearer(admin.token), json={**model, "backfill": backfill})
        assert refused.status_code == 400 and detail in refused.json()["detail"], refused.text
    external = await api.post("/api/models", headers=bearer(admin.token), json={
        "name": "ext", "provider": "external", "model": "ext", "backfill": {}})
    assert external.status_code == 400 and "imported" in external.json()["detail"]
    listed = await api.get("/api/models", headers=bearer(admin.token))
    assert [m["name"] for m in listed.json()] == ["baseline", "momentum"]  # nothing was added
    added = await api.post("/api/models", headers=bearer(admin.token), json={**model, "backfill": {}})
    assert added.status_code == 201
    backfill = added.json()["backfill"]
    assert backfill["status"] == "requested" and backfill["models"] == ["m"] and backfill["ab_test_id"] is None
    assert backfill["window_start"] is None and backfill["budget_usd"] is None  # the run's defaults
    shown = {m["name"]: m["backfill"] for m in (await api.get("/api/models", headers=bearer(admin.token))).json()}
    assert shown["m"]["id"] == backfill["id"] and shown["baseline"] is None


async def test_an_external_model_is_never_backfilled_and_a_user_sees_no_budget_or_error(api, db_url):
    """Every adding path ends in the run's first step, which refuses an external model (its predictions
    are imported) and marks the request failed; a user reading the pair sees its run and status, not
    its money or the run's error text; an ended request is not started again by a re-execution."""
    import dagster as dg

    from tests.pipelines.runs import definitions

    admin, user = await account(api, db_url, admin=True), await account(api, db_url)
    added = await api.post("/api/models", headers=bearer(admin.token),
                           json={"name": "ext", "provider": "external", "model": "ext"})
    assert added.status_code == 201, added.text
    ids = {m["name"]: m["id"] for m in (await api.get("/api/models", headers=bearer(admin.token))).json()}
    pair = await api.post("/api/ab-tests", headers=bearer(admin.token), json={
        "model_a_id": ids["ext"], "model_b_id": ids["baseline"], "backfill": {"budget_usd": 1.5}})
    assert pair.status_code == 201, pair.text
    config = {"ops": {"model_onboarding_started": {"config": {"request_id": pair.json()["backfill"]["id"]}}}}
    job = definitions().resolve_job_def("model_onboarding_job")
    assert not job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral(),
                                      raise_on_error=False).success
    shown = (await api.get("/api/ab-tests", headers=bearer(admin.token))).json()[0]["backfill"]
    assert shown["status"] == "failed" and "imported, not backfilled: ext" in shown["error"], shown
    assert shown["budget_usd"] == 1.5 and shown["run_id"]
    for route in ("/api/ab-tests", f"/api/ab-tests/{pair.json()['id']}/results"):
        body = (await api.get(route, headers=bearer(user.token))).json()
        seen = body[0]["backfill"] if isinstance(body, list) else body["ab_test"]["backfill"]
        assert (seen["status"], seen["run_id"]) == ("failed", shown["run_id"]), seen
        assert seen["error"] is None and seen["budget_usd"] is None and seen["spent_usd"] is None, seen
    sql(db_url, "UPDATE app.model_onboarding SET status = 'succeeded', error = NULL")
    assert not job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral(),
                                      raise_on_error=False).success
    assert sql(db_url, "SELECT status, error FROM app.model_onboarding") == [("succeeded", None)]
