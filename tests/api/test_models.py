"""The model registry through the admin API."""

import pytest
from litestar.testing import AsyncTestClient

from azak_api.admin import run_migrations
from azak_api.app import create_app
from tests.api.conftest import account, bearer, settings_for


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
