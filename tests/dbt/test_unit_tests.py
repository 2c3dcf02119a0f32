"""The dbt unit tests (``unit_tests:`` in the models' .yml): each model's SELECT on fixture rows,
``is_incremental`` overridden, run by dbt against a real PostgreSQL. dbt types a unit test's
fixtures from the relations they stand for, so the models are built first (empty, over empty raw
tables); every unit test declared must then run and pass, none silently skipped."""

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

from azak_pipelines.defs.dbt.tables import SOURCE_TABLES
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR, dbt_env
from azak_pipelines.lib.warehouse import ensure_table
from tests.conftest import BIN

# the models whose logic the unit tests pin (issue 22): a unit test of each must be declared
COVERED = {"daily_prices", "news_stock_matches", "news_price_impact", "prediction_outcomes"}


def declared_unit_tests() -> dict[str, str]:
    """Every unit test declared in the models' .yml files: name -> model."""
    declared = {}
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for test in yaml.safe_load(path.read_text()).get("unit_tests") or []:
            declared[test["name"]] = test["model"]
    return declared


def dbt(command: list[str], database_url: str, target: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **dbt_env(database_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(BIN / "dbt"), *command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(target)],
        capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_every_declared_dbt_unit_test_runs_and_passes(db_url, tmp_path):
    declared = declared_unit_tests()
    missing = COVERED - set(declared.values())
    assert not missing, f"no unit test for {missing}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        for spec in SOURCE_TABLES:
            ensure_table(conn, spec)
    seeded = dbt(["seed"], db_url, tmp_path)  # models read seeds (kis_sectors names the sector indices)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    built = dbt(["run"], db_url, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr

    tested = dbt(["test", "--select", "test_type:unit"], db_url, tmp_path)
    results = json.loads((tmp_path / "run_results.json").read_text())["results"]
    outcomes = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results
                if r["unique_id"].startswith("unit_test.")}
    assert outcomes == dict.fromkeys(declared, "pass"), tested.stdout
    assert tested.returncode == 0, tested.stdout + tested.stderr
