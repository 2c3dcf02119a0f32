"""Jobs of the market domain: stable names for schedules, backfills, the CLI and the demo."""

import dagster as dg

from azak_pipelines.defs.market.ops import drop_expired_partitions

KIS = {"azak/source": "kis"}
# the scheduled KIS collections are retried once, every step again (dagster.yaml's run_retries):
# their slice writes are idempotent, and a database restart or a KIS outage fails the runs in flight
SCHEDULED_KIS = {**KIS, "dagster/max_retries": "1", "dagster/retry_strategy": "ALL_STEPS"}

daily_prices_job = dg.define_asset_job(
    "daily_prices_job", selection=dg.AssetSelection.assets(["raw", "daily_prices"]),
    description="Daily bars (KIS or files). Launch with a partition range for a backfill: one run.",
    tags=KIS,
)

minute_prices_job = dg.define_asset_job(
    "minute_prices_job", selection=dg.AssetSelection.assets(["raw", "minute_prices"]),
    tags=SCHEDULED_KIS,
)

quote_snapshots_job = dg.define_asset_job(
    "quote_snapshots_job", selection=dg.AssetSelection.assets(["raw", "quote_snapshots"]),
    tags=SCHEDULED_KIS,
)

investor_flows_job = dg.define_asset_job(
    "investor_flows_job", selection=dg.AssetSelection.assets(["raw", "investor_flows"]),
    tags=SCHEDULED_KIS,
)

index_overtime_job = dg.define_asset_job(
    "index_overtime_job",
    selection=dg.AssetSelection.assets(["raw", "index_daily"], ["raw", "overtime_prices"]),
    tags=SCHEDULED_KIS,
)

fundamentals_job = dg.define_asset_job(
    "fundamentals_job",
    selection=dg.AssetSelection.assets(["raw", "financial_ratios"], ["raw", "product_info"]),
    tags=SCHEDULED_KIS,
)

market_raw_job = dg.define_asset_job(
    "market_raw_job",
    selection=dg.AssetSelection.assets(
        ["raw", "daily_prices"], ["raw", "investor_flows"], ["raw", "index_daily"],
        ["raw", "overtime_prices"], ["raw", "market_rankings"]),
    description="The daily market series over a partition range (what the demo backfills).",
    tags=KIS,
)

intraday_job = dg.define_asset_job(
    "intraday_job",
    selection=dg.AssetSelection.assets(["raw", "minute_prices"], ["raw", "quote_snapshots"],
                                       ["raw", "index_snapshots"]),
    tags=SCHEDULED_KIS,
)

market_wide_job = dg.define_asset_job(
    "market_wide_job",
    selection=dg.AssetSelection.assets(["raw", "market_rankings"], ["raw", "index_snapshots"]),
    description="KIS's market-wide rankings and the index (sector) snapshots, as of now (real accounts).",
    tags=SCHEDULED_KIS,
)

market_marts_job = dg.define_asset_job(
    "market_marts_job",
    selection=dg.AssetSelection.groups("market") - dg.AssetSelection.key_prefixes(["raw"]),
    description="The dbt staging views and marts over the market tables.",
)


@dg.job(description="Drop intraday children (minute bars, quote snapshots) past their retention window.")
def retention_job() -> None:
    drop_expired_partitions()
