"""Jobs for the prediction assets (schedules, the CLI and the API's refresh launch these)."""

import dagster as dg

news_predictions_job = dg.define_asset_job(
    "news_predictions_job", selection=dg.AssetSelection.assets(["computed", "news_predictions"]),
    description="News-impact predictions of every active model for a day (or a range: one run).",
)
stock_reports_job = dg.define_asset_job(
    "stock_reports_job", selection=dg.AssetSelection.assets(["computed", "stock_reports"]),
    description="Investment reports of every active model; config `stocks`/`models` narrow it.",
)
predictions_marts_job = dg.define_asset_job(
    "predictions_marts_job", selection=dg.AssetSelection.assets(["marts", "model_daily_costs"]),
    description="The dbt marts over the model outputs (cost per model and day).",
)
