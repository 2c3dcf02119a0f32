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

from azak_pipelines.definitions import defs
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
