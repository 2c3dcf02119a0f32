"""The model registry as the admin API shows and changes it (API keys are never here: only the
name of the environment variable that holds one)."""

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from azak_core.patterns import MODEL_NAME_PATTERN, whole

Name = Annotated[str, msgspec.Meta(pattern=MODEL_NAME_PATTERN)]
Url = Annotated[str, msgspec.Meta(pattern=whole(r"https?://[^\s\x00-\x1f\x7f]+"), max_length=500)]
EnvName = Annotated[str, msgspec.Meta(pattern=whole("[A-Z_][A-Z0-9_]*"), max_length=100)]
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


class ModelUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    active: bool | None = None
    base_url: Url | None = None
    kind: Kind | None = None
    structured: Structured | None = None
    api_key_env: EnvName | None = None
    params: Params | None = None
    price_in_per_m: Price | None = None
    price_out_per_m: Price | None = None
