"""dbt models as assets: staging views and marts tables, with lineage from the raw assets."""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from azak_pipelines.defs.automation import EAGER
from azak_pipelines.defs.dbt.project import (
    DBT_PROJECT,
    ensure_manifest,
    invocation_target,
    keep_partial_parse,
    manifest_database,
)
from azak_pipelines.defs.dbt.resources import AzakDbtCliResource
from azak_pipelines.defs.dbt.tables import SOURCE_TABLES
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.dbt_files import DBNAME, dbt_env
from azak_pipelines.lib.warehouse import ensure_table

# dbt models follow their inputs: whenever an upstream table is updated (an import, a backfill, a
# schedule, a run from Dagit) the daemon's automation sensor rebuilds the models downstream of it.
# It is ``eager`` with its "no dependency missing" guard narrowed to the dbt models themselves: a raw
# table partitioned by day always has missing days (which would hold every mart back forever), and
# the dbt asset creates missing raw tables empty; a mart that reads another mart waits for it. An
# upstream table counts as updated when its data version changed (``automation.DEPS_CHANGED``).
MODEL_AUTOMATION = EAGER.replace(
    "any_deps_missing",
    dg.AutomationCondition.any_deps_missing().allow(dg.AssetSelection.key_prefixes(["staging"], ["marts"])),
)


class AzakDbtTranslator(DagsterDbtTranslator):
    """Asset keys are ``[schema, table]``, like every other asset; sources name their raw asset.
    Models are kept fresh by declarative automation; seeds change with the code and are built by
    the jobs that include them."""

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition[Any] | None:
        return MODEL_AUTOMATION if dbt_resource_props["resource_type"] == "model" else None

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        meta = dbt_resource_props.get("meta") or {}
        explicit = (meta.get("dagster") or {}).get("asset_key")
        if explicit:
            return dg.AssetKey(explicit)
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])


class DbtBuildConfig(dg.Config):
    """Incremental models (marts.daily_prices) resume where their inputs changed; a full refresh
    rebuilds them from scratch, with the same result."""

    full_refresh: bool = False
    # each model's row count, and column lineage, on its materialization (Dagit's asset page): off by
    # default, they made the marts run 1.73x and 1.75x as long on the demo warehouse
    # (benchmarks/dbt_metadata.py), far above the 5 % the daily run may grow
    row_counts: bool = False
    column_lineage: bool = False


TRANSLATOR = AzakDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=True))


@dbt_assets(manifest=ensure_manifest(), project=DBT_PROJECT, dagster_dbt_translator=TRANSLATOR)
def dbt_models(context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: AzakDbtCliResource,
               warehouse: Warehouse) -> Iterator[Any]:
    """Build (run + test) the selected dbt models against the warehouse."""
    with warehouse.connect() as conn:
        for spec in SOURCE_TABLES:
            ensure_table(conn, spec)
    env = dbt_env(warehouse.database_url)
    os.environ.update(env)
    metadata = (config.row_counts or config.column_lineage) and _metadata_possible(context, env[DBNAME])
    # unit tests check the models' SQL on fixtures: the suite runs them (tests/dbt), a build does not
    args = ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if config.full_refresh else [])]
    target = invocation_target(f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}", env)
    invocation = dbt.cli(args, context=context, metadata=metadata, target_path=target)
    events = invocation.stream()
    if metadata and config.row_counts:
        events = events.fetch_row_counts()
    if metadata and config.column_lineage:
        events = events.fetch_column_metadata()
    yield from events
    keep_partial_parse(invocation.target_path, env=env)


def _metadata_possible(context: dg.AssetExecutionContext, database: str) -> bool:
    """dagster-dbt queries the relations by the manifest's fully qualified names, which PostgreSQL
    refuses across databases: a warehouse of another name gets no row counts or column lineage."""
    parsed_for = manifest_database()
    if parsed_for != database:
        context.log.info(f"no row counts or column lineage: the manifest names database {parsed_for!r}, "
                         f"the warehouse is {database!r} (parse with {DBNAME} set to it)")
    return parsed_for == database
