"""Evaluations, ratings, the leaderboard, model performance and A/B tests: response types.

Automatic scores and human ratings travel side by side, never blended; live and simulated
predictions are always reported apart (``mode``)."""

from datetime import date, datetime
from typing import Annotated

import msgspec

from azak_api.models.schemas import Backfill, BackfillIn
from azak_api.pages import Paged
from azak_core.patterns import whole

EVALUATION_ID_PATTERN = whole("(news|report|external):[A-Za-z0-9_-]{1,128}")
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]


class SourceText(msgspec.Struct):
    """The text a rater judges, beside the outcome: a report's summary, or a news prediction's
    reasoning with the article's title."""

    text: str | None
    title: str | None = None  # the article's (news predictions)


class Evaluation(msgspec.Struct):
    id: str
    model: str
    model_id: int | None
    mode: str
    source_kind: str
    stock_code: str
    news_id: str | None
    made_at: datetime
    horizon_sessions: int
    direction: str
    probability: float | None
    base_price: float | None
    target_price: float | None
    stop_price: float | None
    anchor_date: date | None
    window_end_date: date | None
    status: str
    sessions_observed: int
    missing_sessions: int
    realised_return: float | None
    excess_return: float | None
    direction_hit: bool | None
    outcome: str | None
    outcome_days: int | None
    outcome_date: date | None
    ambiguous_session: bool
    source: SourceText | None = None  # what the model said: the report or the prediction's text


class EvaluationPage(Paged):
    items: list[Evaluation]


class Scores(msgspec.Struct):
    hit: float | None
    signed_return: float | None
    signed_excess: float | None
    brier: float | None
    signed_score: float | None
    ambition_z: float | None
    target_score: float | None


class LegacyScores(msgspec.Struct):
    """The legacy system's 0–100 scores, direction-aware, kept for continuity only."""

    accuracy: float | None
    timing: float | None
    risk: float | None
    auto: float | None


class HumanRatings(msgspec.Struct):
    """Means of the people's ratings (1–5); shown beside the automatic scores, never blended."""

    n: int
    quality: float | None
    usefulness: float | None
    overall: float | None


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    quality: Rating
    usefulness: Rating
    overall: Rating
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class RatingChange(msgspec.Struct):
    changed_at: datetime
    changed_by: int | None
    old: dict[str, object] | None
    new: dict[str, object]


class RatingOut(msgspec.Struct):
    evaluation_id: str
    quality: int
    usefulness: int
    overall: int
    reason: str | None
    created_at: datetime
    updated_at: datetime
    history: list[RatingChange]


class EvaluationDetail(msgspec.Struct):
    evaluation: Evaluation
    scores: Scores | None
    legacy: LegacyScores | None
    human: HumanRatings
    my_rating: RatingOut | None


class LeaderboardRow(msgspec.Struct):
    model: str
    model_id: int | None
    mode: str
    window_days: int
    as_of: date
    n: int
    n_final: int
    n_failed: int
    scores: dict[str, float | int | None]
    ci: dict[str, list[float] | None]
    reliability: list[dict[str, float | int | None]]
    human: HumanRatings


class Leaderboard(msgspec.Struct):
    window_days: int
    mode: str | None
    models: list[LeaderboardRow]


class DailyPerformance(msgspec.Struct):
    day: date
    mode: str
    n: int
    n_final: int
    n_failed: int
    hit_rate: float | None
    mean_return: float | None
    mean_excess_return: float | None
    brier: float | None
    target_hit_rate: float | None
    stop_hit_rate: float | None
    target_score: float | None
    ic: float | None
    rank_ic: float | None
    legacy_auto: float | None


class StockPerformance(msgspec.Struct):
    stock_code: str
    mode: str
    n: int
    n_final: int
    hit_rate: float | None
    mean_return: float | None
    brier: float | None


class ModelPerformance(msgspec.Struct):
    model_id: int
    model: str
    windows: list[LeaderboardRow]
    daily: list[DailyPerformance]
    by_stock: list[StockPerformance]


DEFAULT_MIN_N = 30  # common items a pair needs before it gets a verdict


class AbTestIn(msgspec.Struct, forbid_unknown_fields=True):
    model_a_id: Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
    model_b_id: Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]
    min_n: Annotated[int, msgspec.Meta(ge=2, le=100_000)] = DEFAULT_MIN_N
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    backfill: Annotated[BackfillIn | None, msgspec.Meta(
        description="also backfill both models' predictions and reports over past days, then compare them")] = None


class AbTest(msgspec.Struct):
    id: int
    model_a_id: int
    model_a: str
    model_b_id: int
    model_b: str
    min_n: int
    note: str | None
    active: bool
    created_at: datetime
    deactivated_at: datetime | None
    backfill: Annotated[Backfill | None, msgspec.Meta(
        description="the pair's latest onboarding backfill and its run; null when none")] = None


class AbScore(msgspec.Struct):
    score: str
    n: int
    higher_is_better: bool
    mean_a: float | None
    mean_b: float | None
    mean_diff: float | None
    ci_low: float | None
    ci_high: float | None
    sign_test_p: float | None
    min_n: int
    verdict: str


class AbResults(msgspec.Struct):
    ab_test: AbTest
    computed: bool
    detail: str
    live: list[AbScore]
    simulated: list[AbScore]


class EvaluationQueue(Paged):
    """The caller's unrated final evaluations, oldest first."""

    items: list[Evaluation]


class ModelProgress(msgspec.Struct):
    model: str
    rated: int  # by the caller, ever
    rated_today: int  # by the caller, this KST day
    left: int  # final evaluations the caller has not rated


class RatingProgress(msgspec.Struct):
    """The caller's rating work: done today, left, by model."""

    day: date  # the KST day of rated_today
    rated_today: int
    left: int
    by_model: list[ModelProgress]
