"""The dbt domain's tables. Its models are dbt's own (``dbt_project/models``); what it needs from
the other domains are the tables its sources read, looked up in the registry (``defs/tables.py``)."""

import json
from pathlib import Path

from azak_pipelines.defs.dbt.project import ensure_manifest
from azak_pipelines.defs.tables import table
from azak_pipelines.lib.warehouse import TableSpec


def source_tables(manifest: Path) -> tuple[TableSpec, ...]:
    """Every table a dbt source reads, from the table registry. dbt needs its sources to exist: a
    raw asset that was never materialized yet is an empty table, so the models over it build
    (empty) instead of failing."""
    sources = json.loads(manifest.read_text())["sources"].values()
    return tuple(sorted({table(s["schema"], s["name"]) for s in sources}, key=lambda spec: spec.key))


SOURCE_TABLES = source_tables(ensure_manifest())
