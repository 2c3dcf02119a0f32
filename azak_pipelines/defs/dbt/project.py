"""The dbt project: where it is, how it connects, and keeping its manifest current.

``DbtProject`` describes the project to dagster-dbt (the CLI resource, code references to the
models' SQL files). Its own preparation (``prepare_if_dev``) runs ``dbt parse`` only under
``dg dev``/``dagster dev``; ``ensure_manifest`` re-parses whenever a project file is newer than the
manifest, wherever the code location loads: ``azak demo``, ``azak serve``, the daemon, the tests.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST = DBT_PROJECT.manifest_path
_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


# the profile variable naming the warehouse database (dbt reads it; runs and checks compare with it)
DBNAME = "AZAK_DBT_DBNAME"


def dbt_env(database_url: str) -> dict[str, str]:
    """The profile's connection variables derived from a PostgreSQL URL."""
    parts = urlsplit(database_url)
    return {
        "AZAK_DBT_HOST": parts.hostname or "127.0.0.1",
        "AZAK_DBT_PORT": str(parts.port or 5432),
        "AZAK_DBT_USER": unquote(parts.username or "postgres"),
        "AZAK_DBT_PASSWORD": unquote(parts.password or ""),
        DBNAME: unquote(parts.path.lstrip("/")),
    }


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            newest = max(newest, file.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project's files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
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


def keep_partial_parse(target_path: Path, project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Put a finished invocation's parse state where the next one starts from.

    dagster-dbt runs each invocation in a target folder of its own, seeded with the project's
    ``target/partial_parse.msgpack``. dbt refuses a state parsed for another profile, and the one
    ``ensure_manifest`` writes carries the default connection, not the warehouse's: without this,
    every build parsed the whole project again ("profile has changed"). The copy is atomic; a
    state that does not fit the next invocation only costs that invocation a full parse.
    """
    state = Path(target_path) / PARTIAL_PARSE
    if not state.exists():
        return
    destination = project_dir / "target" / PARTIAL_PARSE
    with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=".partial_parse.", delete=False) as copy:
        copy.write(state.read_bytes())
    os.replace(copy.name, destination)


def manifest_database() -> str:
    """The database the manifest's relation names carry (``AZAK_DBT_DBNAME`` when it was parsed;
    ``azak`` by default, as in the demo)."""
    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    return str(next(node["database"] for node in nodes if node["resource_type"] == "model"))
