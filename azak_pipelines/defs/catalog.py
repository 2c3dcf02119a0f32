"""What Dagit shows an analyst about each asset: its columns, owner, tags and code.

Python assets get their columns from the table specs (``defs/*/tables.py``), the one place a table is
declared; dbt assets get theirs from the models' ``.yml`` through dagster-dbt. ``describe`` is applied
once to the whole code location (``definitions.py``).
"""

from pathlib import Path

import dagster as dg

from azak_core import settings_registry
from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.freshness.rules import dagster_policy, no_rule_reason, rule_for
from azak_pipelines.defs.tables import TABLES
from azak_pipelines.lib.warehouse import TableSpec

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# every table a Python asset writes, from the one registry (each domain's tables.py)
TABLES_BY_KEY: dict[dg.AssetKey, TableSpec] = {asset_key(spec): spec for spec in TABLES.values()}

# assets that are not a table declared by a spec, and where their columns are documented instead
NO_TABLE_SPEC: dict[dg.AssetKey, str] = {
    dg.AssetKey(["milvus", "news_embeddings"]): (
        "a Milvus collection, not a table: one vector per article (news_id, model, vector); "
        "see azak_core/vectorstore.py"),
    dg.AssetKey(["app", "stock_watchlist"]): (
        "owned by the API (migrations in azak_api); code, name, market, active, updated_at"),
    dg.AssetKey(["app", "telegram_notifications"]): (
        "the outbox table is declared in azak_pipelines/lib/notify/notifications.sql"),
}

# who answers for a domain (a Dagster group): an analyst's first contact about its data
OWNERS: dict[str, str] = {
    "reference": "team:market-data",
    "market": "team:market-data",
    "news": "team:news",
    "matching": "team:news",
    "embeddings": "team:ml",
    "predictions": "team:ml",
    "evaluation": "team:ml",
    "notify": "team:operations",
}

# the ``layer`` tag: what a schema holds (``app`` tables are inputs from the API or outputs)
LAYERS = {"raw": "raw", "computed": "computed", "milvus": "computed", "app": "computed",
          "staging": "staging", "marts": "marts"}

# where a raw table's rows come from (the ``source`` tag); derived assets are ``azak``
SOURCES: dict[str, str] = {
    "stocks": "krx", "trading_calendar": "krx", "stock_watchlist": "admins",
    "daily_prices": "kis", "minute_prices": "kis", "quote_snapshots": "kis", "investor_flows": "kis",
    "index_daily": "kis", "overtime_prices": "kis", "financial_ratios": "kis", "product_info": "kis",
    "naver_finance_news": "naver", "hankyung_news": "hankyung", "maeil_news": "maeil",
    "dart_disclosures": "dart", "reddit_posts": "reddit", "imported_news": "files",
}
STAGING_SOURCES = {"kis": "kis", "krx": "krx", "news": "news", "predictions": "azak"}


def column_schema(spec: TableSpec) -> dg.TableSchema:
    """A table spec as Dagit's column schema: names, SQL types, nullability and the comments."""
    return dg.TableSchema(columns=[
        dg.TableColumn(column.name, column.type, description=column.comment or None,
                       constraints=dg.TableColumnConstraints(
                           nullable=column.nullable, unique=spec.natural_key == (column.name,)))
        for column in spec.columns
    ])


def table_metadata(key: dg.AssetKey) -> dict[str, object]:
    """``dagster/column_schema`` and ``dagster/table_name`` for a Python asset, or why it has none."""
    spec = TABLES_BY_KEY.get(key)
    if spec is not None:
        return {"dagster/column_schema": column_schema(spec), "dagster/table_name": spec.key}
    if key in NO_TABLE_SPEC:
        return {"azak/columns": NO_TABLE_SPEC[key]}
    return {}


def source_of(key: dg.AssetKey) -> str:
    schema, name = key.path[0], key.path[-1]
    if schema == "staging" and name.startswith("stg_"):
        return STAGING_SOURCES.get(name.removeprefix("stg_").split("__")[0], "azak")
    return SOURCES.get(name, "azak") if schema in {"raw", "app"} else "azak"


def annotate(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Owner, tags and (for Python assets) columns of one asset."""
    group = spec.group_name or "default"
    source = source_of(spec.key)
    schema = spec.key.path[0]
    layer = "raw" if schema in {"raw", "app"} and source != "azak" else LAYERS.get(schema, "computed")
    tags = {"domain": group, "layer": layer, "source": source}
    metadata = {**({} if "dbt" in spec.kinds else table_metadata(spec.key)), **freshness_metadata(spec.key)}
    if not spec.owners and group not in OWNERS:
        raise ValueError(f"{spec.key.to_user_string()}: group {group!r} has no owner in defs/catalog.py OWNERS")
    owners = [] if spec.owners else [OWNERS[group]]
    annotated = spec.merge_attributes(owners=owners, tags=tags, metadata=metadata)
    rule = rule_for(spec.key)
    policy = dagster_policy(rule) if rule is not None else None
    return annotated if policy is None else annotated.replace_attributes(freshness_policy=policy)


def freshness_metadata(key: dg.AssetKey) -> dict[str, str]:
    """The asset's freshness rule in words (``azak/freshness``), or why it has none."""
    rule = rule_for(key)
    if rule is not None:
        return {"azak/freshness": str(rule)}
    reason = no_rule_reason(key)
    return {"azak/freshness": f"no rule: {reason}"} if reason else {}


def with_code_links(assets: list[object]) -> list[object]:
    """Local file references; links into the repository when ``AZAK_GIT_URL`` names one."""
    linked = dg.with_source_code_references(assets)  # type: ignore[arg-type]
    git_url = settings_registry.read("AZAK_GIT_URL")
    if not git_url:
        return list(linked)
    return list(dg.link_code_references_to_git(
        linked, git_url=git_url, git_branch=settings_registry.read_or("AZAK_GIT_BRANCH", "main"),
        file_path_mapping=dg.AnchorBasedFilePathMapping(
            local_file_anchor=PROJECT_ROOT, file_anchor_path_in_repository="")))


def describe(definitions: dg.Definitions) -> dg.Definitions:
    """The code location with every asset annotated for analysts."""
    d = definitions.map_resolved_asset_specs(func=annotate)
    return dg.Definitions(
        assets=with_code_links(list(d.assets or [])),  # type: ignore[arg-type]
        asset_checks=d.asset_checks, schedules=d.schedules, sensors=d.sensors, jobs=d.jobs,
        resources=d.resources, executor=d.executor, loggers=d.loggers, metadata=d.metadata,
        component_tree=d.component_tree,
    )
