"""Reports and predictions as the API serves them: model text is data (JSON strings), never HTML."""

from datetime import datetime
from typing import Any, Literal

import msgspec

from azak_api.pages import Paged


class Provenance(msgspec.Struct):
    model_name: str
    made_at: datetime
    mode: str
    status: str
    error_class: str | None
    error_message: str | None  # the provider's answer, for admins only (others: null, see error_class)
    prompt_version: str
    input_hash: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: int
    cached: bool


class ImpactPart(msgspec.Struct):
    effect: Literal["positive", "negative", "neutral"]
    note: str


class ImpactBreakdown(msgspec.Struct):
    """The impact on the business, market sentiment, competition and regulation (schema v2)."""

    business: ImpactPart
    sentiment: ImpactPart
    competition: ImpactPart
    regulation: ImpactPart


class Report(msgspec.Struct):
    report_id: str
    stock_code: str
    summary: str | None
    scenarios: dict[str, Any] | None
    recommendation: str | None
    direction: str | None
    probability: float | None
    base_price: float | None
    short_target: float | None
    short_stop: float | None
    short_horizon_sessions: int | None
    medium_target: float | None
    long_target: float | None
    risks: list[str]
    opportunities: list[str]
    limitations: str | None
    data_sources: list[str]
    # schema v2 (prompt_version stock_report.v2): null on older reports
    medium_support: float | None
    data_completeness: float | None  # share of the context's sections that had data, 0–1 (computed)
    provenance: Provenance


class AbPair(msgspec.Struct):
    """The active A/B pair's latest successful reports on the stock, side by side (None: none yet)."""

    ab_test_id: int
    model_a: str
    model_b: str
    a: Report | None
    b: Report | None


class Analysis(msgspec.Struct):
    """The latest successful report of every active model, and the A/B pair when one is configured."""

    stock_code: str
    reports: list[Report]
    last_updated: datetime | None
    ab_pair: AbPair | None


class Prediction(msgspec.Struct):
    prediction_id: str
    news_id: str
    stock_code: str
    direction: str | None
    probability: float | None
    impact: str | None
    relevance: float | None
    horizon_sessions: int | None
    reasoning: str | None
    # schema v2 (prompt_version news_impact.v2): null on older predictions
    urgency: Literal["routine", "notable", "urgent", "breaking"] | None
    impact_breakdown: ImpactBreakdown | None
    provenance: Provenance


class ReportPage(Paged):
    items: list[Report]


class PredictionPage(Paged):
    items: list[Prediction]


class RunLaunched(msgspec.Struct):
    run_id: str
    status_url: str
    refreshes_left_today: int | None  # None: not limited (admin)


class RunStatus(msgspec.Struct):
    run_id: str
    status: str
    job: str
    tags: dict[str, str]
    start_time: float | None
    end_time: float | None
