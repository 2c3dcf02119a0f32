"""Scores of one prediction, from its realised outcome (``marts.prediction_outcomes``).

Every formula here is stated in the evaluation table of docs/models.md. A score that cannot be computed
(no probability, no target, no σ) is ``None`` — never zero, so it never drags a mean.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

AMBITION_CAP = 3.0  # |z| above this earns no more: a lottery target cannot dominate a mean
SIGN = {"up": 1, "down": -1}


@dataclass(frozen=True)
class Outcome:
    """One row of ``marts.prediction_outcomes`` (the fields scoring needs)."""

    evaluation_id: str
    model_name: str
    mode: str
    source_kind: str
    stock_code: str
    made_at: datetime
    made_day: date
    anchor_date: date | None
    horizon_sessions: int
    direction: str
    probability: float | None
    base_price: float | None
    target_price: float | None
    stop_price: float | None
    status: str
    realised_return: float | None
    excess_return: float | None
    direction_hit: bool | None
    target_first_days: int | None
    stop_first_days: int | None
    outcome: str | None
    outcome_days: int | None
    window_high: float | None
    window_low: float | None
    sigma_60: float | None
    news_id: int | None = None
    model_id: int | None = None


@dataclass(frozen=True)
class Score:
    """The scores of one prediction (``computed.prediction_scores``)."""

    hit: float | None
    signed_return: float | None
    signed_excess: float | None
    brier: float | None
    signed_score: float | None
    ambition_z: float | None
    target_score: float | None
    legacy_accuracy: float | None
    legacy_timing: float | None
    legacy_risk: float | None
    legacy_auto: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def signed_score(direction: str, probability: float | None) -> float | None:
    """The call as one number in [−1, 1]: sign(direction) · (2p − 1); neutral is 0.

    "up with p = 0.4" leans down as much as "down with p = 0.6": both give −0.2.
    """
    if probability is None:
        return None
    if direction == "neutral":
        return 0.0
    return SIGN[direction] * (2 * probability - 1)


def ambition_z(o: Outcome) -> float | None:
    """Target distance in the stated direction, in units of σ₆₀·√h (negative: wrong side)."""
    if (o.direction not in SIGN or o.target_price is None or not o.base_price or o.sigma_60 is None
            or o.sigma_60 <= 0):
        return None
    distance = SIGN[o.direction] * (o.target_price / o.base_price - 1)
    return distance / (o.sigma_60 * math.sqrt(o.horizon_sessions))


def target_score(o: Outcome, z: float | None) -> float | None:
    """Ambition-adjusted target score: clip(z, −3, 3) when the target came first, else 0.

    A timid target (z ≈ 0.1) that always hits earns 0.1; hitting a 1.5σ target a third of the
    time earns 0.5. Without a target or σ it is None.
    """
    if z is None or o.outcome is None:
        return None
    return max(-AMBITION_CAP, min(AMBITION_CAP, z)) if o.outcome == "target" else 0.0


def legacy_scores(o: Outcome) -> tuple[float, float, float, float] | None:
    """The legacy 0–100 accuracy, timing, risk and auto scores (spec §6.4), made direction-aware.

    Differences from the legacy code (its defects): the favourable/adverse extremes are the
    window's, not day 5's or day 1's; a `down` call is mirrored (low ≤ target, high ≥ stop).
    Only for calls with a base, a target and a stop.
    """
    if (o.direction not in SIGN or o.base_price is None or o.target_price is None
            or o.stop_price is None):
        return None
    base, target, stop = o.base_price, o.target_price, o.stop_price
    sign = SIGN[o.direction]
    favourable, adverse = (o.window_high, o.window_low) if sign > 0 else (o.window_low, o.window_high)

    def gain(price: float) -> float:
        return sign * (price - base)

    if o.target_first_days is not None:
        accuracy = 100.0
    elif favourable is not None and gain(favourable) > 0 and gain(target) > 0:
        accuracy = min(100.0, max(0.0, gain(favourable) / gain(target) * 100))
    else:
        accuracy = 0.0
    timing = max(60.0, 110.0 - 10 * o.target_first_days) if o.target_first_days is not None else 0.0
    if o.stop_first_days is None:
        risk = 100.0
    elif stop > 0 and adverse is not None:
        risk = max(0.0, 100 - abs(adverse - stop) / stop * 100)
    else:
        risk = 0.0
    return accuracy, timing, risk, 0.4 * accuracy + 0.3 * timing + 0.3 * risk


def score(o: Outcome) -> Score:
    """Every per-prediction score; realised ones only when the outcome is final."""
    final = o.status == "final"
    hit = float(o.direction_hit) if final and o.direction_hit is not None else None
    sign = SIGN.get(o.direction)
    signed_return = sign * o.realised_return if final and sign and o.realised_return is not None else None
    signed_excess = sign * o.excess_return if final and sign and o.excess_return is not None else None
    brier = (o.probability - hit) ** 2 if hit is not None and o.probability is not None else None
    z = ambition_z(o)
    legacy = legacy_scores(o) if final else None
    return Score(
        hit=hit, signed_return=signed_return, signed_excess=signed_excess, brier=brier,
        signed_score=signed_score(o.direction, o.probability), ambition_z=z,
        target_score=target_score(o, z) if final else None,
        legacy_accuracy=legacy[0] if legacy else None, legacy_timing=legacy[1] if legacy else None,
        legacy_risk=legacy[2] if legacy else None, legacy_auto=legacy[3] if legacy else None,
    )
