"""Every dbt model and seed in one run (`azak marts`); run config `full_refresh` rebuilds the
incremental marts from scratch."""

import dagster as dg

marts_job = dg.define_asset_job(
    "marts_job",
    selection=dg.AssetSelection.key_prefixes(["staging"], ["marts"]),
    description="All dbt staging views, seeds and marts. Incremental marts resume where their inputs "
                "changed; set `full_refresh: true` on dbt_models to rebuild them from scratch.",
)
