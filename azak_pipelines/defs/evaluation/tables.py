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
        Column("model_name", "text", nullable=False, comment="the other system's model name"),
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("made_at", "timestamptz", nullable=False, comment="when the prediction was made"),
        Column("horizon_sessions", "integer", nullable=False, comment="KRX sessions the call is for"),
        Column("direction", "text", nullable=False, comment="up | down | neutral"),
        Column("probability", "double precision", comment="stated probability that the direction is right, 0–1"),
        Column("base_price", "double precision", comment="reference price, KRW"),
        Column("target_price", "double precision", comment="target price, KRW"),
        Column("stop_price", "double precision", comment="stop price, KRW"),
        Column("mode", "text", nullable=False,
               comment="live when imported before its anchor session closed, else simulated"),
        Column("source_file", "text", nullable=False, comment="file:line it came from"),
        Column("imported_at", "timestamptz", nullable=False, comment="when the file was imported"),
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
        Column("evaluation_id", "text", nullable=False, comment="marts.prediction_outcomes.evaluation_id"),
        Column("made_day", "date", nullable=False, comment="KST day the prediction was made"),
        Column("source_kind", "text", nullable=False, comment="news_prediction | stock_report | external"),
        Column("model_name", "text", nullable=False, comment="the model that made the prediction"),
        Column("mode", "text", nullable=False, comment="live | simulated"),
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
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
        Column("model_name", "text", nullable=False, comment="the model"),
        Column("mode", "text", nullable=False, comment="live | simulated"),
        Column("day", "date", nullable=False, comment="KST day the predictions were made"),
        Column("n", "integer", nullable=False, comment="predictions evaluated (status ok)"),
        Column("n_final", "integer", nullable=False, comment="predictions whose window has closed"),
        Column("n_failed", "integer", nullable=False, comment="failed or skipped attempts: counted, not scored"),
        Column("hit_rate", "double precision", comment="share of final predictions with the right direction"),
        Column("mean_return", "double precision", comment="mean return in the stated direction"),
        Column("mean_excess_return", "double precision", comment="mean excess over KOSPI in the stated direction"),
        Column("brier", "double precision", comment="mean Brier score (lower is better)"),
        Column("target_hit_rate", "double precision", comment="share that reached the target first"),
        Column("stop_hit_rate", "double precision", comment="share that reached the stop first"),
        Column("target_score", "double precision", comment="mean target score"),
        Column("ic", "double precision",
               comment="Pearson correlation of signed score and return across stocks that day"),
        Column("rank_ic", "double precision", comment="Spearman rank correlation of the same"),
        Column("legacy_auto", "double precision", comment="mean legacy auto score, 0–100"),
    ),
    natural_key=("model_name", "mode", "day"),
)

MODEL_LEADERBOARD = TableSpec(
    schema="computed", name="model_leaderboard",
    comment="Per model × mode × window (days before as_of; 0 = all): scores with 95 % bootstrap CIs.",
    columns=(
        Column("model_name", "text", nullable=False, comment="the model"),
        Column("mode", "text", nullable=False, comment="live | simulated"),
        Column("window_days", "integer", nullable=False, comment="0 = everything"),
        Column("as_of", "date", nullable=False, comment="the last priced session"),
        Column("n", "integer", nullable=False, comment="predictions evaluated"),
        Column("n_final", "integer", nullable=False, comment="predictions whose window has closed"),
        Column("n_failed", "integer", nullable=False, comment="failed or skipped attempts"),
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
        Column("ab_test_id", "bigint", nullable=False, comment="app.ab_tests.id"),
        Column("model_a", "text", nullable=False, comment="model A"),
        Column("model_b", "text", nullable=False, comment="model B"),
        Column("mode", "text", nullable=False, comment="live | simulated"),
        Column("score", "text", nullable=False, comment="the compared score (hit, brier, signed_return, …)"),
        Column("n", "integer", nullable=False, comment="items both models answered (final)"),
        Column("higher_is_better", "boolean", nullable=False, comment="whether a larger score is better"),
        Column("mean_a", "double precision", comment="mean score of A on the common items"),
        Column("mean_b", "double precision", comment="mean score of B on the common items"),
        Column("mean_diff", "double precision", comment="mean A − B"),
        Column("ci_low", "double precision", comment="lower end of the 95 % paired bootstrap CI of A − B"),
        Column("ci_high", "double precision", comment="upper end of that CI"),
        Column("sign_test_p", "double precision", comment="two-sided sign-test p-value"),
        Column("min_n", "integer", nullable=False, comment="items required before a verdict"),
        Column("verdict", "text", nullable=False,
               comment="A better | B better | no significant difference | not enough data"),
    ),
    natural_key=("ab_test_id", "mode", "score"),
)
