"""The job that evaluates every freshness rule (and nothing else)."""

import dagster as dg

from azak_pipelines.defs.freshness.checks import SPECS

freshness_checks_job = dg.define_asset_job(
    "freshness_checks_job",
    selection=dg.AssetSelection.checks(*(spec.key for spec in SPECS)),
    description="Evaluate every asset's freshness rule; a stale asset fails its `fresh` check.",
)
