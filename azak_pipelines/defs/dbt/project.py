"""The dbt project: where it is, how it connects, and keeping its manifest current.

``DbtProject`` describes the project to dagster-dbt (the CLI resource, code references to the
models' SQL files). Its own preparation (``prepare_if_dev``) runs ``dbt parse`` only under
``dg dev``/``dagster dev``; ``ensure_manifest`` re-parses whenever a project file is newer than the
manifest, wherever the code location loads: ``azak demo``, ``azak serve``, the daemon, the tests.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path

from dagster_dbt import DbtProject

from azak_pipelines.lib.dbt_files import DBNAME, DBT_PROJECT_DIR, MANIFEST, copy_atomically, manifest_is_current

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project's files."""
    if manifest_is_current():
        return MANIFEST
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        capture_output=True, text=True, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return MANIFEST


PARTIAL_PARSE = "partial_parse.msgpack"
# one parse state per connection (dbt's profile hash covers host, port, user and database)
PARSE_STATES = "parse_states"


def parse_state(env: Mapping[str, str], project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where the parse state for the connection ``env`` (``dbt_env``) is kept."""
    connection = "|".join(env[name] for name in ("AZAK_DBT_HOST", "AZAK_DBT_PORT", "AZAK_DBT_USER", DBNAME))
    return project_dir / "target" / PARSE_STATES / f"{hashlib.sha256(connection.encode()).hexdigest()[:16]}.msgpack"


def invocation_target(name: str, env: Mapping[str, str], project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """A target folder of its own for one dbt invocation (dagster-dbt's ``target_path``), seeded
    with the parse state kept for its connection. Without one, dagster-dbt seeds it with the
    project's ``target/partial_parse.msgpack``, the last state kept for any connection: a suite
    that alternates warehouses, or a simulation beside the demo, parsed the whole project again
    at every switch ("profile has changed")."""
    folder = project_dir / "target" / f"{name}-{uuid.uuid4().hex[:7]}"
    state = parse_state(env, project_dir)
    if state.exists():
        folder.mkdir(parents=True)
        shutil.copyfile(state, folder / PARTIAL_PARSE)
    return folder


def keep_partial_parse(target_path: Path, project_dir: Path = DBT_PROJECT_DIR,
                       env: Mapping[str, str] | None = None) -> None:
    """Put a finished invocation's parse state where the next one starts from: the project's
    ``target/partial_parse.msgpack`` and, given the invocation's connection (``env``), the state
    kept for that connection (``invocation_target``).

    dagster-dbt runs each invocation in a target folder of its own, seeded with the project's
    ``target/partial_parse.msgpack``. dbt refuses a state parsed for another profile, and the one
    ``ensure_manifest`` writes carries the default connection, not the warehouse's: without this,
    every build parsed the whole project again ("profile has changed"). The copies are atomic; a
    state that does not fit the next invocation only costs that invocation a full parse.
    """
    state = Path(target_path) / PARTIAL_PARSE
    if not state.exists():
        return
    for destination in [project_dir / "target" / PARTIAL_PARSE] + ([parse_state(env, project_dir)] if env else []):
        copy_atomically(state, destination)


def manifest_database() -> str:
    """The database the manifest's relation names carry (``AZAK_DBT_DBNAME`` when it was parsed;
    ``azak`` by default, as in the demo)."""
    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    return str(next(node["database"] for node in nodes if node["resource_type"] == "model"))
