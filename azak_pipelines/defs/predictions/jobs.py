"""Jobs for the prediction assets (schedules, the CLI and the API's refresh launch these)."""

import dagster as dg

from azak_core.runs import STOCK_REPORTS_JOB
from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS, STOCK_REPORTS

news_predictions_job = dg.define_asset_job(
    "news_predictions_job", selection=dg.AssetSelection.assets(asset_key(NEWS_PREDICTIONS)),
    description="News-impact predictions of every active model for a day (or a range: one run).",
    # one at a time (dagster.yaml's limit per azak/source): overlapping runs over the same window
    # would each buy the predictions the other is buying
    tags={"azak/source": "news_predictions"},
)
stock_reports_job = dg.define_asset_job(
    STOCK_REPORTS_JOB, selection=dg.AssetSelection.assets(asset_key(STOCK_REPORTS)),
    description="Investment reports of every active model; config `stocks`/`models` narrow it.",
)
predictions_marts_job = dg.define_asset_job(
    "predictions_marts_job", selection=dg.AssetSelection.assets(["marts", "model_daily_costs"]),
    description="The dbt marts over the model outputs (cost per model and day).",
)
