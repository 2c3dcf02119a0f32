"""The model registry (``app.models``), read at the start of every run."""

import json
from dataclasses import dataclass, field
from typing import Any

import psycopg

from azak_core.egress import key_variable
from azak_pipelines.lib.warehouse import table_exists

PROVIDERS = ("openai", "openrouter", "openai-compatible", "baseline", "external")
DEFAULT_STRUCTURED = {"openai": "json_schema", "openai-compatible": "json_schema", "openrouter": "prompt"}
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
OPENAI_BASE_URL = "https://api.openai.com/v1"  # the openai client's own default


@dataclass(frozen=True)
class ModelSpec:
    """One registry row."""

    id: int
    name: str
    provider: str
    model: str
    base_url: str | None = None
    kind: str = "chat"
    structured: str | None = None
    api_key_env: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    price_in_per_m: float = 0.0
    price_out_per_m: float = 0.0
    active: bool = True

    @property
    def calls_a_provider(self) -> bool:
        return self.provider in {"openai", "openrouter", "openai-compatible"}

    @property
    def structured_mode(self) -> str:
        return self.structured or DEFAULT_STRUCTURED.get(self.provider, "prompt")

    @property
    def key_env(self) -> str | None:
        return key_variable(self.provider, self.api_key_env)

    @property
    def endpoint(self) -> str | None:
        if self.base_url:
            return self.base_url
        return OPENROUTER_BASE_URL if self.provider == "openrouter" else None

    @property
    def pool(self) -> str:
        """Calls are bounded per provider endpoint (one semaphore per pool)."""
        return f"{self.provider}:{self.endpoint or 'default'}"

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.price_in_per_m + tokens_out * self.price_out_per_m) / 1_000_000

    def identity(self) -> str:
        """What makes two answers interchangeable: the cache key's model part."""
        return json.dumps({"provider": self.provider, "model": self.model, "base_url": self.endpoint,
                           "kind": self.kind, "structured": self.structured_mode, "params": self.params},
                          sort_keys=True)


COLUMNS = ("id, name, provider, model, base_url, kind, structured, api_key_env, params, "
           "price_in_per_m::float8, price_out_per_m::float8, active")


def _spec(row: tuple[Any, ...]) -> ModelSpec:
    return ModelSpec(id=row[0], name=row[1], provider=row[2], model=row[3], base_url=row[4], kind=row[5],
                     structured=row[6], api_key_env=row[7], params=row[8] or {}, price_in_per_m=row[9],
                     price_out_per_m=row[10], active=row[11])


def load_models(conn: psycopg.Connection[Any], active_only: bool = True,
                names: list[str] | None = None) -> list[ModelSpec]:
    """The registry as it is now. Missing table: the API has not migrated it yet — say so."""
    if not table_exists(conn, "app.models"):
        raise LookupError("app.models does not exist: run `azak db migrate` (or start the API once)")
    where, params = [], []
    if active_only:
        where.append("active")
    if names:
        where.append("name = ANY(%s)")
        params.append(names)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(f"SELECT {COLUMNS} FROM app.models{clause} ORDER BY id", params).fetchall()
    return [_spec(r) for r in rows]
