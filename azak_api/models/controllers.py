"""The model registry (admin): list, register, change. The next prediction run reads it."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED, CurrentUser, admin_only
from azak_api.cache import INVALIDATES
from azak_api.db import MAX_ID
from azak_api.errors import Conflict, NotFound, Refused, error_responses
from azak_api.evaluations import queries as evaluation_queries
from azak_api.evaluations.schemas import DEFAULT_MIN_N
from azak_api.models import backfills, queries
from azak_api.models.schemas import Backfill, Model, ModelBackfillIn, ModelCreate, ModelUpdate
from azak_api.settings import Settings
from azak_core.baselines import baseline_model_problem

ModelId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="model id")]


def as_model(row: Any, backfill: Backfill | None = None) -> Model:
    return Model(id=row.id, name=row.name, provider=row.provider, model=row.model, base_url=row.base_url,
                 kind=row.kind, structured=row.structured, api_key_env=row.api_key_env, params=dict(row.params),
                 price_in_per_m=row.price_in_per_m, price_out_per_m=row.price_out_per_m, active=row.active,
                 created_at=row.created_at, updated_at=row.updated_at, backfill=backfill)


def check_egress(settings: Settings, provider: str, base_url: str | None, api_key_env: str | None) -> None:
    """Refuse (422) a key variable or a URL the operator's lists do not allow."""
    problem = settings.llm_egress.model_problem(provider, base_url, api_key_env)
    if problem:
        raise Refused(problem)


async def check_backfill(tx: AsyncConnection, backfill: ModelBackfillIn) -> None:
    backfills.check_window(backfill)
    if backfill.compare_with and not await evaluation_queries.models_exist(tx, [backfill.compare_with]):
        raise ValidationException(f"backfill.compare_with: no model with id {backfill.compare_with} (GET /api/models)")


async def backfill_model(tx: AsyncConnection, row: Any, backfill: ModelBackfillIn, user_id: int) -> Backfill:
    """The new model's backfill request; with ``compare_with``, the pair (it as A) made the active one first."""
    if backfill.compare_with is None:
        return await backfills.request(tx, [row.id], None, backfill, user_id)
    pair = await evaluation_queries.create_ab_test(tx, row.id, backfill.compare_with, DEFAULT_MIN_N,
                                                   f"onboarding of {row.name}", user_id)
    return await backfills.request(tx, [row.id, backfill.compare_with], pair, backfill, user_id)


class ModelController(Controller):
    path = "/api/models"
    tags = ["models"]
    security = SECURED
    guards = [admin_only]

    @get("/", operation_id="listModels", summary="Every registered model (admin)", responses=error_responses(401, 403))
    async def list_models(self, db: AsyncConnection) -> list[Model]:
        rows = await queries.all_models(db)
        shown = await backfills.latest(db, model_ids=[r.id for r in rows])
        return [as_model(r, shown.get(("model", r.id))) for r in rows]

    @post("/", operation_id="createModel", summary="Register a model (admin); the next run uses it",
          description="With `backfill`, the daemon also backfills its news predictions and reports over a "
                      "window of past days within a budget, then evaluates them; with `backfill.compare_with`, "
                      "the model and that one become the active A/B pair, compared when the run ends. "
                      "`backfill` in the answer links the run (docs/workflows.md).",
          responses=error_responses(401, 403, 409, 413, 422),
          opt={INVALIDATES: ("analysis", "evaluations", "page", "market")})
    async def create_model(self, tx: AsyncConnection, settings: Settings, request: Request[CurrentUser, Token, Any],
                           data: ModelCreate) -> Model:
        if data.provider == "openai-compatible" and not data.base_url:
            raise ValidationException("an openai-compatible model needs base_url (e.g. http://host:8000/v1)")
        problem = baseline_model_problem(data.provider, data.model)
        if problem:
            raise ValidationException(f"model: {problem}")
        check_egress(settings, data.provider, data.base_url, data.api_key_env)
        if data.backfill:
            if data.provider == "external":
                raise ValidationException("backfill: an external model's predictions are imported "
                                          "(`azak import predictions`), not made")
            await check_backfill(tx, data.backfill)
        values = msgspec.structs.asdict(data)
        values["params"] = msgspec.to_builtins(data.params)
        del values["backfill"]
        try:
            row = await queries.insert(tx, values)
        except IntegrityError:
            raise Conflict(f"a model named {data.name!r} exists; change it with PATCH /api/models/{{id}}") from None
        if not data.backfill:
            return as_model(row)
        return as_model(row, await backfill_model(tx, row, data.backfill, request.user.id))

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
