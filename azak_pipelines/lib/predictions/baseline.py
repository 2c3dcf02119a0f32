"""The offline baseline models: deterministic, no key, the same output schemas as the LLMs.

Direction and probability come from a signal in units of the stock's realised volatility, the sum
of the components the variant uses:

* ``similar``: similar-news outcomes (earlier similar articles about the stock, mean 5-session
  return, shrunk towards zero by their count),
* ``history``: the stock's own news-impact history (mean 5-session return after its salient news,
  shrunk),
* ``momentum`` (5- and 20-session returns) and ``reversion`` (RSI away from 50).

The registry's model identifier picks the variant: ``azak-baseline-v1`` uses all four;
``azak-momentum-v1`` only the price components, so an A/B of the two asks whether the news context
adds anything over price momentum alone.

``probability`` = 0.5 + 0.4·tanh(|z|) for a directional call, where z is the signal over the
volatility of the horizon; |z| < 0.25 is a neutral call with probability 0.5. Targets and stops
are the base price moved by multiples of realised volatility over each horizon. Without a closed
session before as-of there is no price to anchor on: that is a failure, not a guess.

The fields of version 2 are filled by rule: urgency follows the impact ladder (low → routine …
critical → breaking); of the four-part impact, ``business`` is the sign of the news components
and ``sentiment`` the sign of the price components (each neutral inside the same band as the
call), while ``competition`` and ``regulation`` are neutral with a note saying a rule cannot judge
them; the medium-term support is the lower of the base and the medium target, moved down by half
the 20-session volatility.
"""

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from azak_core.baselines import BASELINE_MODELS
from azak_pipelines.lib.predictions.context import Context
from azak_pipelines.lib.predictions.schemas import (
    URGENCY,
    ImpactBreakdown,
    ImpactPart,
    NewsImpact,
    Scenario,
    Scenarios,
    StockReport,
    Urgency,
)

NEUTRAL_BAND = 0.25
DEFAULT_DAILY_VOL = 0.02  # used only when fewer than 5 daily returns exist (said in limitations)


class BaselineUnavailable(ValueError):
    """The data needed for a baseline answer is missing (the message says which)."""


def _shrunk(mean: float | None, n: int, k: float = 5.0) -> float:
    return 0.0 if mean is None or n <= 0 else mean * n / (n + k)


def daily_volatility(ctx: Context) -> tuple[float, bool]:
    returns = [b["return_1d"] for b in ctx.rows("bars")[:20] if b["return_1d"] is not None]
    if len(returns) < 5:
        return DEFAULT_DAILY_VOL, False
    return max(statistics.pstdev(returns), 0.001), True


def _momentum(ctx: Context, sessions: int) -> float:
    bars = ctx.rows("bars")
    if len(bars) <= sessions:
        return 0.0
    return float(bars[0]["close"]) / float(bars[sessions]["close"]) - 1


def _history(ctx: Context, horizon: int) -> tuple[float | None, int]:
    for row in ctx.rows("impact_history"):
        if row["horizon"] == horizon:
            return row["mean_return"], row["n"]
    return None, 0


def _similar(ctx: Context, horizon: int) -> tuple[float | None, int]:
    for row in ctx.rows("similar_outcomes"):
        if row["horizon_days"] == horizon:
            return row["mean_return"], row["n"]
    return None, 0


def _reversion(ctx: Context, vol: float) -> float:
    rsi = ctx.rows("bars")[0]["rsi_14"] if ctx.rows("bars") else None
    return 0.0 if rsi is None else (50.0 - rsi) / 50.0 * vol


# Each component: an expected 5-session return from (context, daily volatility).
COMPONENTS: dict[str, Callable[[Context, float], float]] = {
    "similar": lambda ctx, _: _shrunk(*_similar(ctx, 5)),
    "history": lambda ctx, _: _shrunk(*_history(ctx, 5)),
    "momentum": lambda ctx, _: 0.15 * _momentum(ctx, 5) + 0.05 * _momentum(ctx, 20),
    "reversion": _reversion,
}
NEWS_COMPONENTS = ("similar", "history")
NEWS_SECTIONS = ("similar_outcomes", "impact_history", "dart")  # context a price-only variant never reads
COMPONENT_NAMES = {"similar": "유사 항목 이후 수익률", "history": "이 종목의 과거 항목 이후 수익률",
                   "momentum": "모멘텀", "reversion": "RSI 평균회귀"}


@dataclass(frozen=True)
class Variant:
    """One baseline model: the registry identifier (recorded as the rows' version) and its components."""

    version: str
    components: tuple[str, ...]
    label: str  # how its reasoning and reports introduce it

    @property
    def uses_news(self) -> bool:
        return any(c in NEWS_COMPONENTS for c in self.components)


FULL = Variant("azak-baseline-v1", ("similar", "history", "momentum", "reversion"),
               "기준 모델(데이터 기반, LLM 아님)")
MOMENTUM = Variant("azak-momentum-v1", ("momentum", "reversion"),
                   "가격 기준 모델(모멘텀·RSI만, 뉴스 신호 미사용, LLM 아님)")
VARIANTS = {v.version: v for v in (FULL, MOMENTUM)}


class UnknownVariant(LookupError):
    """The registry names a baseline model this code does not compute."""


def variant_for(identifier: str) -> Variant:
    """The variant a registry row's ``model`` names; an unknown one is an error, never the full baseline."""
    try:
        return VARIANTS[identifier]
    except KeyError:
        raise UnknownVariant(f"there is no offline baseline model {identifier!r} (provider baseline offers "
                             f"{', '.join(BASELINE_MODELS)}): register the model again with one of them, "
                             "or `azak models set NAME --inactive`") from None


def signal(ctx: Context, horizon: int = 5, variant: Variant = FULL) -> dict[str, float]:
    """The variant's components (each an expected return over 5 sessions), their sum and the z-score."""
    vol, _ = daily_volatility(ctx)
    parts = {name: COMPONENTS[name](ctx, vol) for name in variant.components}
    expected = sum(parts.values())
    parts["expected"] = expected
    parts["z"] = expected / (vol * math.sqrt(horizon))
    return parts


Direction = Literal["up", "down", "neutral"]


def call(z: float) -> tuple[Direction, float]:
    if abs(z) < NEUTRAL_BAND:
        return "neutral", 0.5
    return ("up" if z > 0 else "down"), round(0.5 + 0.4 * math.tanh(abs(z)), 4)


IMPACT = ("low", "medium", "high", "critical")
NOT_JUDGED = "규칙 기반 모델은 판단하지 않음"


def _impact(z: float) -> Literal["low", "medium", "high", "critical"]:
    size = abs(z)
    return "low" if size < 0.5 else "medium" if size < 1.0 else "high" if size < 2.0 else "critical"


def _urgency(z: float) -> Urgency:
    """The urgency of the same rung as the impact (low → routine … critical → breaking)."""
    return URGENCY[IMPACT.index(_impact(z))]


def _part(expected: float, scale: float, what: str) -> ImpactPart:
    """The sign of an expected return, neutral inside the call's band (``scale``: the horizon's volatility)."""
    if abs(expected) < NEUTRAL_BAND * scale:
        return ImpactPart(effect="neutral", note=f"{what} 신호 약함 ({expected * 100:+.2f}%)")
    return ImpactPart(effect="positive" if expected > 0 else "negative", note=f"{what} {expected * 100:+.2f}%")


def breakdown(ctx: Context, parts: dict[str, float], variant: Variant) -> ImpactBreakdown:
    """The four-part impact by rule: business from the news components, sentiment from the price ones."""
    vol, _ = daily_volatility(ctx)
    scale = vol * math.sqrt(5)
    business = (_part(sum(parts[c] for c in NEWS_COMPONENTS), scale, "유사 항목·과거 항목 이후 수익률")
                if variant.uses_news else ImpactPart(effect="neutral", note="뉴스 신호 미사용 (가격 기준 모델)"))
    sentiment = _part(parts["momentum"] + parts["reversion"], scale, "모멘텀·RSI")
    unjudged = ImpactPart(effect="neutral", note=NOT_JUDGED)
    return ImpactBreakdown(business=business, sentiment=sentiment, competition=unjudged, regulation=unjudged)


def _explain(parts: dict[str, float]) -> str:
    terms = ", ".join(f"{name} {parts[k] * 100:+.2f}%p" for k, name in COMPONENT_NAMES.items() if k in parts)
    return f"기대 수익률 {parts['expected'] * 100:+.2f}% (변동성 대비 z={parts['z']:+.2f}); 구성: {terms}."


def predict_news(ctx: Context, variant: Variant = FULL) -> NewsImpact:
    """The variant's judgement of one (article, stock) link."""
    if ctx.article is None:
        raise ValueError("a news prediction needs its article in the context")
    parts = signal(ctx, variant=variant)
    direction, probability = call(parts["z"])
    return NewsImpact(direction=direction, probability=probability, impact=_impact(parts["z"]),
                      relevance=round(min(max(ctx.article.score, 0.0), 1.0), 3), horizon_sessions=5,
                      reasoning=f"{variant.label}. " + _explain(parts), urgency=_urgency(parts["z"]),
                      impact_breakdown=breakdown(ctx, parts, variant))


def _level(base: float, move: float) -> float:
    return round(base * max(1 + move, 0.05), 2)


def _factors(ctx: Context, parts: dict[str, float], variant: Variant) -> tuple[list[str], list[str]]:
    risks, opportunities = [], []
    bar: dict[str, Any] = ctx.rows("bars")[0]
    rsi = bar["rsi_14"]
    if rsi is not None and rsi >= 70:
        risks.append(f"RSI {rsi:.0f}: 과매수 구간")
    if rsi is not None and rsi <= 30:
        opportunities.append(f"RSI {rsi:.0f}: 과매도 구간")
    flows = ctx.rows("flows")
    if flows:
        foreign = sum(f["foreign_net_qty"] or 0 for f in flows)
        if foreign > 0:
            opportunities.append(f"외국인 {len(flows)}일 순매수 {foreign:,}주")
        elif foreign < 0:
            risks.append(f"외국인 {len(flows)}일 순매도 {-foreign:,}주")
    if parts["momentum"] < 0:
        risks.append(f"단기 모멘텀 약세 ({_momentum(ctx, 5) * 100:+.1f}%, 5거래일)")
    elif parts["momentum"] > 0:
        opportunities.append(f"단기 모멘텀 강세 ({_momentum(ctx, 5) * 100:+.1f}%, 5거래일)")
    if variant.uses_news and ctx.rows("dart"):
        risks.append(f"최근 7일 공시 {len(ctx.rows('dart'))}건: 내용 확인 필요")
    return risks[:3], opportunities[:3]


def report(ctx: Context, variant: Variant = FULL) -> StockReport:
    """The variant's report on one stock."""
    if not ctx.rows("bars"):
        raise BaselineUnavailable(f"no closed session of {ctx.stock_code} before {ctx.as_of.isoformat()}: "
                                  "materialize daily prices and the market marts")
    base = float(ctx.rows("bars")[0]["close"])
    vol, measured = daily_volatility(ctx)
    parts = signal(ctx, variant=variant)
    direction, probability = call(parts["z"])
    sign = {"up": 1, "down": -1, "neutral": 0}[direction]
    short_move = vol * math.sqrt(5)
    if sign:
        short_target, short_stop = _level(base, sign * short_move), _level(base, -sign * 0.7 * short_move)
    else:
        short_target, short_stop = base, _level(base, -1.5 * short_move)
    medium = _level(base, sign * 0.5 * vol * math.sqrt(20))
    medium_support = _level(min(base, medium), -0.5 * vol * math.sqrt(20))
    long = _level(base, sign * 0.5 * vol * math.sqrt(120))
    recommendation: Literal["buy", "hold", "sell"] = "buy" if direction == "up" and probability >= 0.55 else (
        "sell" if direction == "down" and probability >= 0.55 else "hold")
    risks, opportunities = _factors(ctx, parts, variant)
    missing = [s for s in ("flows", "ratios", "dart", "impact_history", "recent_predictions")
               if not ctx.rows(s) and (variant.uses_news or s not in NEWS_SECTIONS)]
    limitations = ("기준 모델: 가격·지표·과거 수익률만으로 계산한 결과이며 정성 판단은 없습니다." if variant.uses_news
                   else "가격 기준 모델: 가격과 지표만으로 계산한 결과이며 뉴스 신호와 정성 판단은 없습니다.")
    if not measured:
        limitations += f" 일간 수익률이 5개 미만이라 변동성을 {DEFAULT_DAILY_VOL:.0%}로 가정했습니다."
    if missing:
        limitations += f" 없는 자료: {', '.join(missing)}."
    outlook = {"up": "상승", "down": "하락", "neutral": "보합"}[direction]
    return StockReport(
        summary=f"{ctx.stock_name}({ctx.stock_code}) 종가 {base:,.0f}원 기준 단기 {outlook} 전망 "
                f"(확률 {probability:.0%}). " + _explain(parts),
        scenarios=Scenarios(
            short=Scenario(outlook=direction, rationale=f"5거래일 목표 {short_target:,.0f}원, 손절 {short_stop:,.0f}원 "
                                                        f"(일간 변동성 {vol:.2%})."),
            medium=Scenario(outlook=direction, rationale=f"20거래일 목표 {medium:,.0f}원, "
                                                         f"지지 {medium_support:,.0f}원."),
            long=Scenario(outlook=direction, rationale=f"120거래일 목표 {long:,.0f}원.")),
        recommendation=recommendation, direction=direction, probability=probability, base_price=base,
        short_target=short_target, short_stop=short_stop, short_horizon_sessions=5,
        medium_target=medium, medium_support=medium_support, long_target=long, risks=risks, opportunities=opportunities,
        limitations=limitations)
