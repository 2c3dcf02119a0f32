"""Evaluation tables: imported external predictions, and the scores computed from outcomes.

The realised outcomes themselves are the dbt mart ``marts.prediction_outcomes``.
"""

from azak_pipelines.lib.warehouse import Column, TableSpec

EXTERNAL_PREDICTIONS = TableSpec(
    schema="computed", name="external_predictions",
    comment="Predictions of other systems imported with `azak import predictions`, evaluated like ours.",
    columns=(
        Column("prediction_id", "text", nullable=False,
               comment="sha256 of (model, code, made_at, horizon): a re-import collides"),
        Column("made_day", "date", nullable=False, comment="KST day of made_at (partition)"),
        Column("model_id", "bigint", nullable=False, comment="app.models.id (provider external)"),
        Column("model_name", "text", nullable=False),
        Column("stock_code", "text", nullable=False),
        Column("made_at", "timestamptz", nullable=False),
        Column("horizon_sessions", "integer", nullable=False),
        Column("direction", "text", nullable=False, comment="up | down | neutral"),
        Column("probability", "double precision"),
        Column("base_price", "double precision"),
        Column("target_price", "double precision"),
        Column("stop_price", "double precision"),
        Column("mode", "text", nullable=False,
               comment="live when imported before its anchor session closed, else simulated"),
        Column("source_file", "text", nullable=False, comment="file:line it came from"),
        Column("imported_at", "timestamptz", nullable=False),
    ),
    natural_key=("prediction_id", "made_day"),
    partition_column="made_day",
    # a re-import changes nothing: the first import of a prediction stays as it was
    keep_on_merge=("model_id", "model_name", "stock_code", "made_at", "horizon_sessions", "direction",
                   "probability", "base_price", "target_price", "stop_price", "mode", "source_file",
                   "imported_at"),
    indexes=(("model_name", "made_at"),),
)

PREDICTION_SCORES = TableSpec(
    schema="computed", name="prediction_scores",
    comment="Per prediction: the automatic scores of its outcome (final ones; partial rows carry "
            "what is known, with NULL realised scores).",
    columns=(
        Column("evaluation_id", "text", nullable=False),
        Column("made_day", "date", nullable=False, comment="KST day the prediction was made"),
        Column("source_kind", "text", nullable=False),
        Column("model_name", "text", nullable=False),
        Column("mode", "text", nullable=False),
        Column("stock_code", "text", nullable=False),
        Column("status", "text", nullable=False, comment="pending | partial | final"),
        Column("hit", "double precision", comment="1 when the direction was right, 0 when not"),
        Column("signed_return", "double precision", comment="return in the stated direction"),
        Column("signed_excess", "double precision", comment="excess over KOSPI in the stated direction"),
        Column("brier", "double precision", comment="(probability − hit)²"),
        Column("signed_score", "double precision", comment="sign(direction) · (2p − 1)"),
        Column("ambition_z", "double precision", comment="target distance / (σ₆₀ √h)"),
        Column("target_score", "double precision", comment="clip(z, ±3) if the target came first, else 0"),
        Column("legacy_accuracy", "double precision", comment="legacy 0–100 (direction-aware)"),
        Column("legacy_timing", "double precision", comment="legacy 0–100"),
        Column("legacy_risk", "double precision", comment="legacy 0–100 (direction-aware)"),
        Column("legacy_auto", "double precision", comment="legacy 0.4·accuracy + 0.3·timing + 0.3·risk"),
    ),
    natural_key=("evaluation_id",),
    indexes=(("model_name", "made_day"),),
)

MODEL_DAILY_PERFORMANCE = TableSpec(
    schema="computed", name="model_daily_performance",
    comment="Per model × mode × KST day the predictions were made: counts and scores (final only).",
    columns=(
        Column("model_name", "text", nullable=False),
        Column("mode", "text", nullable=False),
        Column("day", "date", nullable=False),
        Column("n", "integer", nullable=False, comment="predictions evaluated (status ok)"),
        Column("n_final", "integer", nullable=False),
        Column("n_failed", "integer", nullable=False, comment="failed or skipped attempts: counted, not scored"),
        Column("hit_rate", "double precision"),
        Column("mean_return", "double precision"),
        Column("mean_excess_return", "double precision"),
        Column("brier", "double precision"),
        Column("target_hit_rate", "double precision"),
        Column("stop_hit_rate", "double precision"),
        Column("target_score", "double precision"),
        Column("ic", "double precision"),
        Column("rank_ic", "double precision"),
        Column("legacy_auto", "double precision"),
    ),
    natural_key=("model_name", "mode", "day"),
)

MODEL_LEADERBOARD = TableSpec(
    schema="computed", name="model_leaderboard",
    comment="Per model × mode × window (days before as_of; 0 = all): scores with 95 % bootstrap CIs.",
    columns=(
        Column("model_name", "text", nullable=False),
        Column("mode", "text", nullable=False),
        Column("window_days", "integer", nullable=False, comment="0 = everything"),
        Column("as_of", "date", nullable=False, comment="the last priced session"),
        Column("n", "integer", nullable=False),
        Column("n_final", "integer", nullable=False),
        Column("n_failed", "integer", nullable=False),
        Column("scores", "jsonb", nullable=False, comment="point estimates"),
        Column("ci", "jsonb", nullable=False, comment="score → [low, high] (95 % bootstrap) or null"),
        Column("reliability", "jsonb", nullable=False, comment="10 bins: n, mean stated, observed"),
    ),
    natural_key=("model_name", "mode", "window_days"),
)

AB_COMPARISONS = TableSpec(
    schema="computed", name="ab_comparisons",
    comment="Per configured A/B pair (app.ab_tests) × mode × score: paired difference A − B.",
    columns=(
        Column("ab_test_id", "bigint", nullable=False),
        Column("model_a", "text", nullable=False),
        Column("model_b", "text", nullable=False),
        Column("mode", "text", nullable=False),
        Column("score", "text", nullable=False),
        Column("n", "integer", nullable=False, comment="items both models answered (final)"),
        Column("higher_is_better", "boolean", nullable=False),
        Column("mean_a", "double precision"),
        Column("mean_b", "double precision"),
        Column("mean_diff", "double precision"),
        Column("ci_low", "double precision"),
        Column("ci_high", "double precision"),
        Column("sign_test_p", "double precision"),
        Column("min_n", "integer", nullable=False),
        Column("verdict", "text", nullable=False),
    ),
    natural_key=("ab_test_id", "mode", "score"),
)
