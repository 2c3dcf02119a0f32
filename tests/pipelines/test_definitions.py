"""The code location loads, and its asset graph matches the reviewed snapshot.

When the graph changes on purpose, regenerate the snapshot with
``AZAK_UPDATE_SNAPSHOTS=1 make test PYTEST_ARGS=tests/pipelines/test_definitions.py``
and review the diff like code.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from azak_core.runs import STOCK_REPORTS_JOB, STOCK_REPORTS_KEY, op_config, op_name
from azak_pipelines.definitions import daily_prices_defs, defs
from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.predictions.tables import STOCK_REPORTS
from azak_pipelines.defs.tables import TABLES, table
from tests.conftest import BIN, PROJECT_ROOT

SNAPSHOT = Path(__file__).with_name("snapshots") / "asset_graph.json"


def _partitions(definition: dg.PartitionsDefinition | None) -> str | None:
    if definition is None:
        return None
    if isinstance(definition, dg.TimeWindowPartitionsDefinition):
        return f"{definition.cron_schedule} from {definition.start:%Y-%m-%d} {definition.timezone}"
    return type(definition).__name__


def graph_snapshot(definitions: dg.Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(node.backfill_policy.policy_type.value) if node.backfill_policy else None,
            "checks": sorted(check.name for check in node.check_keys),
            "kinds": sorted(node.kinds),
            "pools": sorted(node.pools or ()),
            "automation": node.automation_condition.get_label() or "custom" if node.automation_condition else None,
        }
    schedules = {
        s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name}
        for s in definitions.schedules or []
    }
    sensors = sorted(s.name for s in definitions.sensors or [])
    jobs = sorted({j.name for j in definitions.jobs or [] if not j.name.startswith("__")})
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_definitions_validate_with_the_dagster_cli(dagster_home):
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300, env=dict(os.environ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_asset_graph_matches_snapshot():
    current = graph_snapshot(defs())
    if os.environ.get("AZAK_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: generate it with AZAK_UPDATE_SNAPSHOTS=1 and review it"
    expected = json.loads(SNAPSHOT.read_text())
    assert current == expected, (
        "the asset graph changed; if intended, regenerate with AZAK_UPDATE_SNAPSHOTS=1"
    )


def test_a_missing_snapshot_fails_instead_of_being_written(tmp_path, monkeypatch):
    missing = tmp_path / "asset_graph.json"
    monkeypatch.setattr(sys.modules[__name__], "SNAPSHOT", missing)
    monkeypatch.delenv("AZAK_UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(AssertionError, match="is missing"):
        test_asset_graph_matches_snapshot()
    assert not missing.exists()


def test_asset_keys_are_schema_and_table():
    for key in defs().resolve_asset_graph().get_all_asset_keys():
        assert len(key.path) == 2, key
        assert key.path[0] in {"raw", "computed", "staging", "marts", "ops", "app", "milvus"}, key


def test_every_asset_written_through_a_table_spec_is_in_the_registry():
    """defs/tables.py lists every domain's tables.py: an asset whose key matches no spec is one
    that writes outside the registry (dbt models, Milvus and the app's outbox are not specs)."""
    keys = {key.to_user_string() for key in defs().resolve_asset_graph().get_all_asset_keys()}
    # written beside another asset's output: the quarantine by every asset, the kept vectors by
    # milvus/news_embeddings (the API reads an article's vector from there), the days' write and
    # search times by both embedding assets (the API serves stored neighbours while current)
    beside = {"ops/quarantine", "computed/news_vectors", "computed/similar_news_days"}
    specs = {asset_key(spec).to_user_string() for spec in TABLES.values()} - beside
    assert specs <= keys, specs - keys
    with pytest.raises(KeyError, match=r"raw\.nothing is not declared"):
        table("raw", "nothing")


def test_the_names_the_api_launches_stock_reports_by_are_the_pipelines_names():
    """The API cannot import the pipelines: azak_core.runs holds the job and op names it launches."""
    job = defs().resolve_job_def(STOCK_REPORTS_JOB)
    assert asset_key(STOCK_REPORTS) == dg.AssetKey(list(STOCK_REPORTS_KEY))
    assert op_name(STOCK_REPORTS_KEY) == asset_key(STOCK_REPORTS).to_python_identifier()
    assert op_name(STOCK_REPORTS_KEY) in {node.name for node in job.graph.nodes}
    # the config the API sends is valid for that job
    config = op_config(STOCK_REPORTS_KEY, {"stocks": ["005930"]})
    assert dg.validate_run_config(job, config)


def test_the_price_import_runs_the_code_locations_daily_prices_job():
    # `azak import prices` loads daily_prices_defs() instead of the whole code location: the same
    # job, node for node, over the same asset annotated the same way, with the resources it uses
    light, full = daily_prices_defs(), defs()
    job, same = light.resolve_job_def("daily_prices_job"), full.resolve_job_def("daily_prices_job")
    mine, theirs = job.get_job_snapshot(), same.get_job_snapshot()
    assert mine.dep_structure_snapshot == theirs.dep_structure_snapshot
    assert mine.node_defs_snapshot == theirs.node_defs_snapshot
    assert (mine.tags, mine.description, job.executor_def.name) == (
        theirs.tags, theirs.description, same.executor_def.name)
    used = {name for node in job.nodes for name in node.definition.required_resource_keys}
    assert used and {r.name: r for r in mine.mode_def_snaps[0].resource_def_snaps if r.name in used} == {
        r.name: r for r in theirs.mode_def_snaps[0].resource_def_snaps if r.name in used}
    key = asset_key(table("raw", "daily_prices"))
    [spec] = [s for s in light.resolve_all_asset_specs() if s.key == key]
    assert spec == next(s for s in full.resolve_all_asset_specs() if s.key == key)
    assert light.resolve_asset_graph().get(key).check_keys == full.resolve_asset_graph().get(key).check_keys
