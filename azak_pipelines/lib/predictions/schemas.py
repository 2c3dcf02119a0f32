"""The two outputs every model produces, as one typed schema each (version 2: ``news_impact.v2``,
``stock_report.v2``; rows of version 1 keep their nulls in the fields added since).

The same ``msgspec`` types give the JSON Schema sent to providers (``json_schema`` strict mode),
the schema shown in prompt mode, and the validation of every answer whatever the mode. A value out
of range is a schema violation, never clamped. The report's data completeness is not asked of the
model: it is computed from the context (``context.completeness``).
"""

from typing import Annotated, Any, Literal

import msgspec

Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Price = Annotated[float, msgspec.Meta(gt=0.0)]
Sessions = Annotated[int, msgspec.Meta(ge=1, le=260)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=400)]
Long = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


Effect = Literal["positive", "negative", "neutral"]
Urgency = Literal["routine", "notable", "urgent", "breaking"]
URGENCY: tuple[Urgency, ...] = ("routine", "notable", "urgent", "breaking")  # the legacy levels, rising


class ImpactPart(msgspec.Struct, forbid_unknown_fields=True):
    """One side of the impact: its sign for the stock and why."""

    effect: Effect
    note: Short


class ImpactBreakdown(msgspec.Struct, forbid_unknown_fields=True):
    """The impact on the business, market sentiment, competition and regulation."""

    business: ImpactPart
    sentiment: ImpactPart
    competition: ImpactPart
    regulation: ImpactPart


class NewsImpact(msgspec.Struct, forbid_unknown_fields=True):
    """The impact of one article on one stock's price."""

    direction: Literal["up", "down", "neutral"]
    probability: Annotated[Probability, msgspec.Meta(description="probability that the direction is right")]
    impact: Literal["low", "medium", "high", "critical"]
    relevance: Annotated[Probability, msgspec.Meta(description="how central the item is to the business")]
    horizon_sessions: Sessions
    reasoning: Long
    urgency: Annotated[Urgency, msgspec.Meta(description="how soon the market must react: routine < notable "
                                                         "< urgent < breaking")]
    impact_breakdown: ImpactBreakdown


class Scenario(msgspec.Struct, forbid_unknown_fields=True):
    outlook: Literal["up", "down", "neutral"]
    rationale: Long


class Scenarios(msgspec.Struct, forbid_unknown_fields=True):
    short: Scenario
    medium: Scenario
    long: Scenario


class StockReport(msgspec.Struct, forbid_unknown_fields=True):
    """An investment report for one stock."""

    summary: Long
    scenarios: Scenarios
    recommendation: Literal["buy", "hold", "sell"]
    direction: Annotated[Literal["up", "down", "neutral"], msgspec.Meta(description="the short-term call")]
    probability: Annotated[Probability, msgspec.Meta(description="probability that the short-term call is right")]
    base_price: Price
    short_target: Price
    short_stop: Price
    short_horizon_sessions: Sessions
    medium_target: Price
    medium_support: Annotated[Price, msgspec.Meta(description="medium-term support price, at or below base_price")]
    long_target: Price
    risks: Annotated[list[Short], msgspec.Meta(max_length=3)]
    opportunities: Annotated[list[Short], msgspec.Meta(max_length=3)]
    limitations: Long


OUTPUTS: dict[str, type[msgspec.Struct]] = {"news_impact": NewsImpact, "stock_report": StockReport}


class SchemaViolation(ValueError):
    """An answer parsed as JSON but does not fit the output schema."""


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve msgspec's ``$ref``s and require every property (strict structured outputs)."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            out = {k: walk(v) for k, v in node.items() if k not in {"$defs", "title"}}
            if out.get("type") == "object":
                out["required"] = list(out.get("properties", {}))
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    strict: dict[str, Any] = walk(schema)
    return strict


def json_schema(output: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of an output, self-contained, every field required, no extra fields."""
    return _inline(msgspec.json.schema(output))


def validate(output: type[msgspec.Struct], value: Any) -> msgspec.Struct:
    """The typed answer, or :class:`SchemaViolation` naming the field that does not fit."""
    try:
        return msgspec.convert(value, output, strict=True)
    except msgspec.ValidationError as exc:
        raise SchemaViolation(str(exc)) from None


def report_consistency(report: StockReport) -> str | None:
    """A report whose levels contradict its call is invalid (never silently fixed)."""
    if report.direction == "up" and not report.short_stop < report.base_price < report.short_target:
        return "an 'up' call needs short_stop < base_price < short_target"
    if report.direction == "down" and not report.short_target < report.base_price < report.short_stop:
        return "a 'down' call needs short_target < base_price < short_stop"
    if report.medium_support > report.base_price:
        return "medium_support is a floor: it must not exceed base_price"
    return None
