"""`azak models add|list|set` and `azak predict` through the real console script."""

import json
import os

import psycopg
import pytest

from tests.conftest import run_azak
from tests.pipelines.predictions.conftest import CODE, build_warehouse, openai_server  # noqa: F401 (fixture)


@pytest.fixture
def cli_env(db_url, dagster_database, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
    with psycopg.connect(dagster_database.render(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    build_warehouse(db_url)
    env.update({"AZAK_DATABASE_URL": db_url, "AZAK_DAGSTER_DATABASE_URL": dagster_database.render(),
                "AZAK_HOME": str(tmp_path / "home")})
    return env


def test_models_add_list_set(cli_env, openai_server):
    added = run_azak("models", "add", "--name", "local", "--provider", "openai-compatible", "--model", "local/ok",
                     "--base-url", openai_server.base_url, "--max-tokens", "500", "--price-in", "0.5", env=cli_env)
    assert added.returncode == 0, added.stderr
    listed = run_azak("models", "list", env=cli_env)
    assert "azak-baseline-v1" in listed.stdout and "azak-momentum-v1" in listed.stdout
    assert "local/ok" in listed.stdout and '"max_tokens": 500' in listed.stdout
    as_json = {m["name"]: m for m in json.loads(run_azak("models", "list", "--json", env=cli_env).stdout)}
    assert as_json["local"]["params"]["max_tokens"] == 500 and as_json["local"]["price_in_per_m"] == 0.5
    assert as_json["baseline"]["model"] == "azak-baseline-v1" and as_json["local"]["active"] is True
    assert run_azak("models", "set", "local", "--inactive", env=cli_env).returncode == 0
    with psycopg.connect(cli_env["AZAK_DATABASE_URL"]) as conn:
        assert conn.execute("SELECT active FROM app.models WHERE name = 'local'").fetchone() == (False,)
    duplicate = run_azak("models", "add", "--name", "local", "--provider", "openai", "--model", "x", env=cli_env)
    assert duplicate.returncode == 2 and "exists" in duplicate.stderr
    missing = run_azak("models", "add", "--name", "y", "--provider", "openai-compatible", "--model", "x", env=cli_env)
    steal = run_azak("models", "add", "--name", "z", "--provider", "openai-compatible", "--model", "x", "--base-url",
                     openai_server.base_url, "--api-key-env", "AZAK_JWT_SECRET", env=cli_env)
    assert steal.returncode == 2 and "AZAK_LLM_KEY_VARIABLES" in steal.stderr
    assert missing.returncode == 2 and "--base-url" in missing.stderr
    typo = run_azak("models", "add", "--name", "b2", "--provider", "baseline", "--model", "azak-baseline-v2",
                    env=cli_env)
    assert typo.returncode == 2 and "'azak-baseline-v2'" in typo.stderr and "azak-momentum-v1" in typo.stderr
    variant = run_azak("models", "add", "--name", "momentum-off", "--provider", "baseline", "--model",
                       "azak-momentum-v1", "--inactive", env=cli_env)
    assert variant.returncode == 0, variant.stderr
    with psycopg.connect(cli_env["AZAK_DATABASE_URL"]) as conn:
        assert conn.execute("SELECT name FROM app.models WHERE provider = 'baseline' ORDER BY id").fetchall() == [
            ("baseline",), ("momentum",), ("momentum-off",)]  # the typo was not registered


def test_predict_prints_reports_and_fails_when_a_model_failed(cli_env, openai_server):
    ok = run_azak("predict", "--stock", CODE, "--model", "baseline", env=cli_env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    reports = json.loads(ok.stdout[ok.stdout.index("["):ok.stdout.rindex("]") + 1])
    assert len(reports) == 1 and reports[0]["status"] == "ok" and reports[0]["mode"] == "live"
    assert reports[0]["stock_code"] == CODE and reports[0]["recommendation"] in {"buy", "hold", "sell"}
    run_azak("models", "add", "--name", "broke", "--provider", "openai-compatible", "--model", "local/credits",
             "--base-url", openai_server.base_url, env=cli_env)
    failed = run_azak("predict", "--stock", CODE, "--model", "broke", env=cli_env)
    assert failed.returncode == 1
    assert '"error_class": "credits"' in failed.stdout and "broke failed: credits" in failed.stdout
