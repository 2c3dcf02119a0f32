"""The dbt project's files: where the project and its manifest are, whether the manifest is current,
and the profile's connection variables. No Dagster and no dbt import here, so that a command can
start ``dbt parse`` before it imports them (``azak demo``: ``azak_cli/demo/steps.py``)."""

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# where dagster-dbt's DbtProject reads it (its default target path; tests/dbt/test_parse_state.py)
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# the profile variable naming the warehouse database (dbt reads it; runs and checks compare with it)
DBNAME = "AZAK_DBT_DBNAME"
PROFILE_DATABASE = "azak"  # profiles.yml's default for it: the database the project's manifest names


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


def manifest_is_current() -> bool:
    """Whether the manifest exists and no project file is newer than it."""
    return MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime()


def copy_atomically(source: Path, destination: Path, keep_times: bool = False) -> None:
    """Copy ``source`` beside ``destination``, then rename it into place: a reader (another
    process's dbt, the code location) never sees a half-written file. ``keep_times`` keeps the
    source's modification time (a manifest's says whether it is current)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=f".{destination.stem}.", delete=False) as copy:
        copy.write(source.read_bytes())
    if keep_times:
        shutil.copystat(source, copy.name)
    os.replace(copy.name, destination)
