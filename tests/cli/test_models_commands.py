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


def test_models_add_and_pair_with_a_backfill_record_requests_the_daemon_runs(cli_env):
    import dagster as dg

    from azak_pipelines.defs.resources import Warehouse
    from tests.pipelines.runs import definitions

    alone = run_azak("models", "add", "--name", "m2", "--provider", "baseline", "--model", "azak-momentum-v1",
                     "--from", "2025-02-03", env=cli_env)
    assert alone.returncode == 2 and "--from go with --backfill" in alone.stderr
    reversed_window = run_azak("models", "pair", "baseline", "momentum", "--backfill", "--from", "2025-02-07",
                               "--to", "2025-02-03", env=cli_env)
    assert reversed_window.returncode == 2 and "start must not be after its end" in reversed_window.stderr
    unknown = run_azak("models", "add", "--name", "m2", "--provider", "baseline", "--model", "azak-momentum-v1",
                       "--backfill", "--compare-with", "nobody", env=cli_env)
    assert unknown.returncode == 2 and "no model named 'nobody'" in unknown.stderr, unknown.stderr
    added = run_azak("models", "add", "--name", "m2", "--provider", "baseline", "--model", "azak-momentum-v1",
                     "--backfill", "--from", "2025-02-03", "--to", "2025-02-07", "--budget", "1.5",
                     "--compare-with", "baseline", env=cli_env)
    assert added.returncode == 0, added.stderr
    assert "A/B test" in added.stdout and "m2 vs baseline: the daemon's model_onboarding_sensor" in added.stdout
    paired = run_azak("models", "pair", "baseline", "momentum", "--backfill", env=cli_env)
    assert paired.returncode == 0, paired.stderr
    url = cli_env["AZAK_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        requests = conn.execute(
            "SELECT array(SELECT name FROM app.models m, unnest(o.model_ids) WITH ORDINALITY u(id, n) "
            "WHERE m.id = u.id ORDER BY u.n), t.active, window_start::text, window_end::text, budget_usd::float8, "
            "origin, status FROM app.model_onboarding o JOIN app.ab_tests t ON t.id = o.ab_test_id "
            "ORDER BY o.id").fetchall()
    assert requests == [(["m2", "baseline"], False, "2025-02-03", "2025-02-07", 1.5, "cli", "requested"),
                        (["baseline", "momentum"], True, None, None, None, "cli", "requested")]
    sensor = definitions().resolve_sensor_def("model_onboarding_sensor")
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                 resources={"warehouse": Warehouse(database_url=url)}) as context:
        asked = sensor(context).run_requests
    assert [r.tags["azak/origin"] for r in asked] == ["cli", "cli"]
    assert [r.run_config["ops"]["model_onboarding_started"]["config"] for r in asked] == [
        {"request_id": int(r.tags["azak/model_onboarding"])} for r in asked]
