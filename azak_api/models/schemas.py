"""The model registry as the admin API shows and changes it (API keys are never here: only the
name of the environment variable that holds one)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from azak_core.patterns import BASE_URL_PATTERN, ENV_NAME_PATTERN, MODEL_NAME_PATTERN

Name = Annotated[str, msgspec.Meta(pattern=MODEL_NAME_PATTERN)]
Url = Annotated[str, msgspec.Meta(pattern=BASE_URL_PATTERN, max_length=500)]
EnvName = Annotated[str, msgspec.Meta(pattern=ENV_NAME_PATTERN, max_length=100)]
Price = Annotated[float, msgspec.Meta(ge=0, le=100_000)]
Provider = Literal["openai", "openrouter", "openai-compatible", "baseline", "external"]
Kind = Literal["chat", "reasoning"]
Structured = Literal["json_schema", "json_object", "prompt"]


class Params(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Sampling parameters sent with every call."""

    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=200_000)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    seed: int | None = None


BackfillStatus = Literal["requested", "running", "succeeded", "stopped", "failed"]  # the table's CHECK


class BackfillIn(msgspec.Struct, forbid_unknown_fields=True):
    """A backfill of the model's (or the pair's) news predictions and reports over past days, then
    their evaluation and A/B comparison (docs/workflows.md). Every field may be left out."""

    start: Annotated[date | None, msgspec.Meta(
        description="first day (KST); default: AZAK_MODEL_BACKFILL_DAYS (30) days before the last "
                    "priced session — on the demo, the sample's last month")] = None
    end: Annotated[date | None, msgspec.Meta(
        description="last day, inclusive; default: the last priced session")] = None
    budget_usd: Annotated[float, msgspec.Meta(
        ge=0, le=100_000, description="US dollars for the whole backfill; default: AZAK_LLM_BUDGET_USD")] | None = None


class ModelBackfillIn(BackfillIn, forbid_unknown_fields=True):
    compare_with: Annotated[int, msgspec.Meta(
        ge=1, le=2**53 - 1, description="a registered model's id: the new model (A) and it (B) become the "
                                        "active A/B pair, compared when the backfill ends")] | None = None


class Backfill(msgspec.Struct):
    """A model's or a pair's onboarding backfill: the request and the Dagster run that carries it out."""

    id: int
    status: BackfillStatus
    run_id: Annotated[str | None, msgspec.Meta(description="the Dagster run; null until the daemon starts it")]
    status_url: Annotated[str | None, msgspec.Meta(description="GET it for the run's status (null before the run)")]
    step: Annotated[str | None, msgspec.Meta(description="what the run is doing: predictions <day> (i/n), evaluation")]
    models: list[str]
    ab_test_id: int | None
    window_start: Annotated[date | None, msgspec.Meta(description="null: the default, settled when the run starts")]
    window_end: date | None
    budget_usd: float | None
    spent_usd: float | None
    requested_at: datetime
    finished_at: datetime | None
    error: Annotated[str | None, msgspec.Meta(description="failed: why; stopped: where the budget ran out")]


class Model(msgspec.Struct):
    id: int
    name: str
    provider: str
    model: str
    base_url: str | None
    kind: str
    structured: str | None
    api_key_env: str | None
    params: dict[str, Any]
    price_in_per_m: float
    price_out_per_m: float
    active: bool
    created_at: datetime
    updated_at: datetime
    backfill: Annotated[Backfill | None, msgspec.Meta(
        description="the latest onboarding backfill naming this model; null when none")] = None


class ModelCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    provider: Provider
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    base_url: Url | None = None
    kind: Kind = "chat"
    structured: Structured | None = None
    api_key_env: EnvName | None = None
    params: Params = msgspec.field(default_factory=Params)
    price_in_per_m: Price = 0.0
    price_out_per_m: Price = 0.0
    active: bool = True
    backfill: Annotated[ModelBackfillIn | None, msgspec.Meta(
        description="also backfill its predictions and reports (and compare it with `compare_with`)")] = None


class ModelUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    active: bool | None = None
    base_url: Url | None = None
    kind: Kind | None = None
    structured: Structured | None = None
    api_key_env: EnvName | None = None
    params: Params | None = None
    price_in_per_m: Price | None = None
    price_out_per_m: Price | None = None

