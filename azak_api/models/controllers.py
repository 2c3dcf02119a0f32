"""The model registry (admin): list, register, change. The next prediction run reads it."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, patch, post
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED, admin_only
from azak_api.cache import INVALIDATES
from azak_api.db import MAX_ID
from azak_api.errors import Conflict, NotFound, Refused, error_responses
from azak_api.models import queries
from azak_api.models.schemas import Model, ModelCreate, ModelUpdate
from azak_api.settings import Settings
from azak_core.baselines import baseline_model_problem

ModelId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="model id")]


def as_model(row: Any) -> Model:
    return Model(id=row.id, name=row.name, provider=row.provider, model=row.model, base_url=row.base_url,
                 kind=row.kind, structured=row.structured, api_key_env=row.api_key_env, params=dict(row.params),
                 price_in_per_m=row.price_in_per_m, price_out_per_m=row.price_out_per_m, active=row.active,
                 created_at=row.created_at, updated_at=row.updated_at)


def check_egress(settings: Settings, provider: str, base_url: str | None, api_key_env: str | None) -> None:
    """Refuse (422) a key variable or a URL the operator's lists do not allow."""
    problem = settings.llm_egress.model_problem(provider, base_url, api_key_env)
    if problem:
        raise Refused(problem)


class ModelController(Controller):
    path = "/api/models"
    tags = ["models"]
    security = SECURED
    guards = [admin_only]

    @get("/", operation_id="listModels", summary="Every registered model (admin)", responses=error_responses(401, 403))
    async def list_models(self, db: AsyncConnection) -> list[Model]:
        return [as_model(r) for r in await queries.all_models(db)]

    @post("/", operation_id="createModel", summary="Register a model (admin); the next run uses it",
          responses=error_responses(401, 403, 409, 413, 422),
          opt={INVALIDATES: ("analysis", "evaluations", "page", "market")})
    async def create_model(self, tx: AsyncConnection, settings: Settings, data: ModelCreate) -> Model:
        if data.provider == "openai-compatible" and not data.base_url:
            raise ValidationException("an openai-compatible model needs base_url (e.g. http://host:8000/v1)")
        problem = baseline_model_problem(data.provider, data.model)
        if problem:
            raise ValidationException(f"model: {problem}")
        check_egress(settings, data.provider, data.base_url, data.api_key_env)
        values = msgspec.structs.asdict(data)
        values["params"] = msgspec.to_builtins(data.params)
        try:
            row = await queries.insert(tx, values)
        except IntegrityError:
            raise Conflict(f"a model named {data.name!r} exists; change it with PATCH /api/models/{{id}}") from None
        return as_model(row)

    @patch("/{model_id:int}", operation_id="updateModel", summary="Change a model (admin): activate, prices, …",
           responses=error_responses(401, 403, 404, 413, 422),
           opt={INVALIDATES: ("analysis", "evaluations", "page", "market")})
    async def update_model(self, tx: AsyncConnection, settings: Settings, model_id: ModelId,
                           data: ModelUpdate) -> Model:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        if "params" in changes:
            changes["params"] = msgspec.to_builtins(data.params)
        if not changes:
            raise ValidationException("nothing to change: give at least one field")
        current = await queries.locked_by_id(tx, model_id)
        if current is None:
            raise NotFound(f"no model {model_id}")
        check_egress(settings, current.provider, changes.get("base_url", current.base_url),
                     changes.get("api_key_env", current.api_key_env))
        return as_model(await queries.update(tx, model_id, changes))
