"""`azak stocks add` through the real console script: the watch-list flag and an onboarding request
that the daemon's sensor turns into a run once the universe lists the stock as watched."""

import os

import dagster as dg
import psycopg
import pytest

from azak_pipelines.defs.resources import Warehouse
from tests.conftest import run_azak
from tests.pipelines.runs import definitions, run

pytestmark = pytest.mark.slow


def tick(url: str, instance: dg.DagsterInstance | None = None) -> dg.SensorResult | dg.SkipReason:
    sensor = definitions().resolve_sensor_def("stock_onboarding_sensor")
    with dg.build_sensor_context(instance=instance or dg.DagsterInstance.ephemeral(),
                                 resources={"warehouse": Warehouse(database_url=url)}) as context:
        return sensor(context)


def test_stocks_add_requests_an_onboarding_the_sensor_runs(warehouse_with_stocks, tmp_path):
    url = warehouse_with_stocks
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
    env.update({"AZAK_DATABASE_URL": url, "AZAK_HOME": str(tmp_path / "home")})
    with psycopg.connect(url) as conn:
        code = conn.execute("SELECT code FROM raw.stocks WHERE NOT is_watchlist ORDER BY code LIMIT 1").fetchone()[0]
    watched = run_azak("stocks", "add", "005930", env=env)  # on the bundled watch-list
    assert watched.returncode == 0 and "already" in watched.stdout
    added = run_azak("stocks", "add", code, env=env)
    assert added.returncode == 0, added.stderr
    assert "onboarding request 1" in added.stdout
    assert run_azak("stocks", "add", code, env=env).stdout.endswith("nothing to onboard\n")  # no second request
    unknown = run_azak("stocks", "add", "0000Z9", env=env)
    assert unknown.returncode == 2 and "--name" in unknown.stderr
    assert run_azak("stocks", "add", "12345", env=env).returncode == 2
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT stock_code, origin, status, run_id FROM app.stock_onboarding").fetchall() == [
            (code, "cli", "requested", None)]
        with pytest.raises(psycopg.errors.UniqueViolation):  # one open request per stock, whoever races
            conn.execute("INSERT INTO app.stock_onboarding (stock_code, origin) VALUES (%s, 'api')", (code,))
    waiting = tick(url)
    assert isinstance(waiting, dg.SkipReason) and code in (waiting.skip_message or "")
    run("reference_job", assets=["raw/stocks"])  # what watchlist_sensor requests after the change
    [request] = tick(url).run_requests
    assert request.run_key == "onboarding:1" and request.tags["azak/origin"] == "cli"
    assert "dagster/priority" not in request.tags  # only API requests queue behind the platform's runs
    assert request.run_config["ops"]["onboarding_started"]["config"] == {"code": code, "request_id": 1}
    # its run canceled before a step ran (no failure hook): the next tick closes the request, so
    # the stock can be added again instead of waiting for good behind an open request
    instance = dg.DagsterInstance.ephemeral()
    instance.add_run(dg.DagsterRun("stock_onboarding_job", tags=request.tags, status=dg.DagsterRunStatus.CANCELED))
    tick(url, instance)
    with psycopg.connect(url) as conn:
        status, error = conn.execute("SELECT status, error FROM app.stock_onboarding WHERE id = 1").fetchone()
        still_open = conn.execute("SELECT count(*) FROM app.stock_onboarding WHERE stock_code = %s "
                                  "AND status IN ('requested', 'running')", (code,)).fetchone()[0]
    assert (status, error, still_open) == ("failed", "the run ended canceled before it finished", 0)
