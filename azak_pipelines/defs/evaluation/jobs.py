"""Evaluation jobs: the nightly evaluation, and loading external predictions."""

import dagster as dg

from azak_pipelines.defs.evaluation.tables import EXTERNAL_PREDICTIONS

EXTERNAL = dg.AssetKey([EXTERNAL_PREDICTIONS.schema, EXTERNAL_PREDICTIONS.name])

evaluation_job = dg.define_asset_job(
    "evaluation_job",
    selection=dg.AssetSelection.groups("evaluation") - dg.AssetSelection.assets(EXTERNAL),
    description="Outcomes of every prediction (dbt), their scores, daily performance, the leaderboard "
                "and the A/B comparisons.",
)

external_predictions_job = dg.define_asset_job(
    "external_predictions_job", selection=dg.AssetSelection.assets(EXTERNAL),
    description="Predictions of other systems from JSON Lines files (azak import predictions).",
)
