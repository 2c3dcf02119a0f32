"""What the models said: news-impact predictions and stock reports, append-only.

Every attempt is a row, failures included (``status`` says which); nothing is ever overwritten, so
evaluation can score exactly what was said at ``made_at``.
"""

from azak_pipelines.lib.warehouse import Column, TableSpec

# Provenance every model output carries (DESIGN §4: model, prompt version, input hash, tokens).
OUTPUT_COLUMNS = (
    Column("model_id", "bigint", nullable=False, comment="app.models.id"),
    Column("model_name", "text", nullable=False, comment="app.models.name"),
    Column("made_at", "timestamptz", nullable=False, comment="the as-of time: no input is newer"),
    Column("mode", "text", nullable=False, comment="live | simulated (a backfill of a past day)"),
    Column("status", "text", nullable=False, comment="ok | failed | skipped"),
    Column("error_class", "text", comment="timeout | credits | rate_limit | server | refusal | "
                                          "invalid_json | schema | budget | ..."),
    Column("error_message", "text", comment="what went wrong, when status is not ok"),
    Column("prompt_version", "text", nullable=False, comment="version of the prompt template"),
    Column("input_hash", "text", nullable=False, comment="sha256 of the rendered input"),
    Column("tokens_in", "integer", nullable=False, comment="prompt tokens billed"),
    Column("tokens_out", "integer", nullable=False, comment="completion tokens billed"),
    Column("cost_usd", "numeric(12,6)", nullable=False, comment="cost of the call, USD"),
    Column("latency_ms", "integer", nullable=False, comment="call duration, ms"),
    Column("cached", "boolean", nullable=False, comment="answered from the response cache"),
    Column("created_at", "timestamptz", nullable=False, comment="when the row was written"),
)

NEWS_PREDICTIONS = TableSpec(
    schema="computed", name="news_predictions",
    comment="Per salient (article, stock) link × active model: the direction of the price impact.",
    columns=(
        Column("prediction_id", "text", nullable=False,
               comment="sha256 of (model, news_id, stock_code, input_hash, made_at)"),
        Column("published_day", "date", nullable=False, comment="KST day of the article (partition)"),
        Column("news_id", "bigint", nullable=False, comment="the article (computed.news_articles.news_id)"),
        Column("stock_code", "text", nullable=False, comment="the company the prediction is about"),
        Column("direction", "text", comment="up | down | neutral (null when not ok)"),
        Column("probability", "double precision", comment="probability that the direction is right, 0–1"),
        Column("impact", "text", comment="low | medium | high | critical"),
        Column("relevance", "double precision", comment="0–1"),
        Column("horizon_sessions", "integer", comment="KRX sessions the call is for"),
        Column("reasoning", "text", comment="model text: data, never markup"),
        *OUTPUT_COLUMNS,
        # schema version 2 (news_impact.v2): null on older rows
        Column("urgency", "text", comment="routine | notable | urgent | breaking (v2; null before)"),
        Column("impact_breakdown", "jsonb",
               comment="{business, sentiment, competition, regulation}: each {effect, note} (v2; null before)"),
    ),
    natural_key=("prediction_id", "published_day"),
    partition_column="published_day",
    append_only=True,
    indexes=(("stock_code", "made_at"), ("news_id",), ("model_name", "made_at")),
)

STOCK_REPORTS = TableSpec(
    schema="computed", name="stock_reports",
    comment="Per watch-list stock × active model: an investment report with scenarios and targets.",
    columns=(
        Column("report_id", "text", nullable=False,
               comment="sha256 of (model, stock_code, input_hash, made_at)"),
        Column("report_day", "date", nullable=False, comment="KST day of made_at (partition)"),
        Column("stock_code", "text", nullable=False, comment="the company the report is about"),
        Column("summary", "text", comment="the model's summary"),
        Column("scenarios", "jsonb", comment="{short, medium, long}: each {outlook, rationale}"),
        Column("recommendation", "text", comment="buy | hold | sell"),
        Column("direction", "text", comment="up | down | neutral: the short-term call"),
        Column("probability", "double precision", comment="probability that the short-term call is right"),
        Column("base_price", "numeric(14,2)", comment="close the targets are relative to, KRW"),
        Column("short_target", "numeric(14,2)", comment="short-term target price, KRW"),
        Column("short_stop", "numeric(14,2)", comment="short-term stop price, KRW"),
        Column("short_horizon_sessions", "integer", comment="KRX sessions of the short-term call"),
        Column("medium_target", "numeric(14,2)", comment="medium-term target price, KRW"),
        Column("long_target", "numeric(14,2)", comment="long-term target price, KRW"),
        Column("risks", "text[]", comment="risks the model named"),
        Column("opportunities", "text[]", comment="opportunities the model named"),
        Column("limitations", "text", comment="what the model said it could not judge"),
        Column("data_sources", "text[]", comment="which context sections had data"),
        *OUTPUT_COLUMNS,
        # schema version 2 (stock_report.v2): null on older rows
        Column("medium_support", "numeric(14,2)", comment="medium-term support price, KRW (v2; null before)"),
        Column("data_completeness", "double precision",
               comment="share of the context's sections that had data, 0–1, computed, not asked (v2; null before)"),
    ),
    natural_key=("report_id", "report_day"),
    partition_column="report_day",
    append_only=True,
    indexes=(("stock_code", "made_at"), ("model_name", "made_at")),
)
