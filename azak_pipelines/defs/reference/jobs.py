"""Jobs of the reference domain: the universe and the trading calendar."""

import dagster as dg

reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.groups("reference"),
    description="The KRX universe and trading calendar, and the dbt models over them.",
)

universe_job = dg.define_asset_job(
    "universe_job", selection=dg.AssetSelection.assets(["raw", "stocks"]),
    description="Only the KRX universe (what linking news needs first).",
)
