"""Evaluations (list, detail, human rating), the model leaderboard and performance, A/B tests."""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED, CurrentUser, admin_only
from azak_api.cache import INVALIDATES
from azak_api.db import MAX_ID
from azak_api.errors import NotFound, error_responses
from azak_api.evaluations import queries
from azak_api.evaluations.schemas import (
    EVALUATION_ID_PATTERN,
    AbResults,
    AbScore,
    AbTest,
    AbTestIn,
    DailyPerformance,
    Evaluation,
    EvaluationDetail,
    EvaluationPage,
    EvaluationQueue,
    HumanRatings,
    Leaderboard,
    LeaderboardRow,
    LegacyScores,
    ModelPerformance,
    ModelProgress,
    RatingChange,
    RatingIn,
    RatingOut,
    RatingProgress,
    Scores,
    SourceText,
    StockPerformance,
)
from azak_api.models import backfills
from azak_api.models.schemas import Backfill
from azak_api.pages import paging
from azak_core.market import KST, STOCK_CODE_PATTERN

Status = Literal["pending", "partial", "final"]
Mode = Literal["live", "simulated"]
Window = Literal[7, 30, 90, 0]  # days before as_of; 0 = everything (the leaderboard's windows)
EvaluationId = Annotated[str, Parameter(pattern=EVALUATION_ID_PATTERN,
                                        description="kind:id, e.g. report:<sha256> (news | report | external)")]
Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def as_evaluation(r: Any, source: Any = None) -> Evaluation:
    return Evaluation(
        id=r.evaluation_id, model=r.model_name, model_id=r.model_id, mode=r.mode, source_kind=r.source_kind,
        stock_code=r.stock_code, news_id=None if r.news_id is None else str(r.news_id), made_at=r.made_at,
        horizon_sessions=r.horizon_sessions, direction=r.direction, probability=r.probability,
        base_price=r.base_price, target_price=r.target_price, stop_price=r.stop_price, anchor_date=r.anchor_date,
        window_end_date=r.window_end_date, status=r.status, sessions_observed=r.sessions_observed,
        missing_sessions=r.missing_sessions, realised_return=r.realised_return, excess_return=r.excess_return,
        direction_hit=r.direction_hit, outcome=r.outcome, outcome_days=r.outcome_days,
        outcome_date=r.outcome_date, ambiguous_session=r.ambiguous_session,
        source=None if source is None else SourceText(source.body, source.title))


async def with_sources(conn: AsyncConnection, rows: Sequence[Any]) -> list[Evaluation]:
    """Evaluations with what each model said beside the outcome."""
    texts = await queries.source_texts(conn, [r.evaluation_id for r in rows])
    return [as_evaluation(r, texts.get(r.evaluation_id)) for r in rows]


def as_human(r: Any) -> HumanRatings:
    return HumanRatings(n=int(r.n), quality=_float(r.quality), usefulness=_float(r.usefulness),
                        overall=_float(r.overall))


async def as_rating(conn: AsyncConnection, r: Any) -> RatingOut:
    history = await queries.rating_history(conn, r.id)
    return RatingOut(evaluation_id=r.evaluation_id, quality=r.quality, usefulness=r.usefulness, overall=r.overall,
                     reason=r.reason, created_at=r.created_at, updated_at=r.updated_at,
                     history=[RatingChange(h.changed_at, h.changed_by, h.old_values, h.new_values) for h in history])


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def as_board_rows(conn: AsyncConnection, rows: Any) -> list[LeaderboardRow]:
    out = []
    for r in rows:
        human = await queries.human(conn, model=r.model_name)
        out.append(LeaderboardRow(
            model=r.model_name, model_id=r.model_id, mode=r.mode, window_days=r.window_days, as_of=r.as_of, n=r.n,
            n_final=r.n_final, n_failed=r.n_failed, scores=_json(r.scores), ci=_json(r.ci),
            reliability=_json(r.reliability), human=as_human(human)))
    return out


class EvaluationController(Controller):
    path = "/api/evaluations"
    tags = ["evaluations"]
    security = SECURED

    @get("/", operation_id="listEvaluations", opt={"cache": "evaluations"}, cache=True,
         summary="Realised outcomes of predictions and reports, newest first", responses=error_responses(401))
    async def list_evaluations(
        self, db: AsyncConnection,
        model: Annotated[str | None, Parameter(min_length=1, max_length=64, description="model name")] = None,
        stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN)] = None,
        status: Status | None = None,
        mode: Mode | None = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> EvaluationPage:
        rows, total = await queries.page(db, model=model, stock=stock, status=status, mode=mode,
                                         offset=(page - 1) * page_size, limit=page_size)
        return EvaluationPage(await with_sources(db, rows), **paging(total, page, page_size))

    @get("/queue", operation_id="getRatingQueue", opt={"cache": "evaluations"}, cache=True,
         summary="The caller's unrated final evaluations, oldest first, with what the model said",
         description="Rate one with POST /api/evaluations/{id}/rating: it leaves the queue. Ratings "
                     "stay beside the automatic scores, never blended into them.",
         responses=error_responses(401))
    async def queue(
        self, db: AsyncConnection, current_user: CurrentUser,
        model: Annotated[str | None, Parameter(min_length=1, max_length=64, description="model name")] = None,
        stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN)] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> EvaluationQueue:
        rows, total = await queries.queue(db, user_id=current_user.id, model=model, stock=stock,
                                          offset=(page - 1) * page_size, limit=page_size)
        return EvaluationQueue(await with_sources(db, rows), **paging(total, page, page_size))

    @get("/progress", operation_id="getRatingProgress", opt={"cache": "evaluations"}, cache=True,
         summary="The caller's rating work: rated today (KST), left to rate, by model",
         responses=error_responses(401))
    async def progress(self, db: AsyncConnection, current_user: CurrentUser,
                       clock: Callable[[], datetime]) -> RatingProgress:
        today = clock().astimezone(KST).date()
        since = datetime(today.year, today.month, today.day, tzinfo=KST)
        rows = await queries.progress(db, current_user.id, since)
        models = [ModelProgress(r.model_name, r.rated, r.rated_today, r.left_to_rate) for r in rows]
        return RatingProgress(day=today, rated_today=sum(m.rated_today for m in models),
                              left=sum(m.left for m in models), by_model=models)

    @get("/{evaluation_id:str}", operation_id="getEvaluation",
         summary="One evaluation: outcome, automatic scores (legacy apart), people's ratings beside them",
         responses=error_responses(401, 404))
    async def get_evaluation(self, db: AsyncConnection, request: Request[CurrentUser, Token, Any],
                             evaluation_id: EvaluationId) -> EvaluationDetail:
        row = await queries.one(db, evaluation_id)
        if row is None:
            raise NotFound(f"no evaluation {evaluation_id}")
        s = await queries.scores(db, evaluation_id)
        mine = await queries.my_rating(db, evaluation_id, request.user.id)
        return EvaluationDetail(
            evaluation=(await with_sources(db, [row]))[0],
            scores=None if s is None else Scores(s.hit, s.signed_return, s.signed_excess, s.brier, s.signed_score,
                                                 s.ambition_z, s.target_score),
            legacy=None if s is None else LegacyScores(s.legacy_accuracy, s.legacy_timing, s.legacy_risk,
                                                       s.legacy_auto),
            human=as_human(await queries.human(db, [evaluation_id])),
            my_rating=None if mine is None else await as_rating(db, mine))

    @post("/{evaluation_id:str}/rating", operation_id="rateEvaluation", status_code=200,
          summary="Rate an evaluation 1–5 (quality, usefulness, overall) with a reason; changes are audited",
          responses=error_responses(401, 404, 413),
          opt={INVALIDATES: ("evaluations",)})
    async def rate(self, tx: AsyncConnection, request: Request[CurrentUser, Token, Any],
                   evaluation_id: EvaluationId, data: RatingIn) -> RatingOut:
        if await queries.one(tx, evaluation_id) is None:
            raise NotFound(f"no evaluation {evaluation_id}")
        values = {"quality": data.quality, "usefulness": data.usefulness, "overall": data.overall,
                  "reason": data.reason}
        row = await queries.save_rating(tx, evaluation_id, request.user.id, values)
        return await as_rating(tx, row)


class ModelEvaluationController(Controller):
    """``/api/models/leaderboard`` and ``/api/models/{id}/performance`` (the registry's CRUD lives in
    ``azak_api/models``; a static segment wins over ``{id:int}`` in Litestar's router)."""

    path = "/api/models"
    tags = ["evaluations"]
    security = SECURED

    @get("/leaderboard", operation_id="getLeaderboard", opt={"cache": "evaluations"}, cache=True,
         summary="Models ranked over a window, with 95 % bootstrap intervals; live and simulated apart",
         responses=error_responses(401))
    async def leaderboard(
        self, db: AsyncConnection,
        days: Annotated[Window, Parameter(description="7, 30, 90, or 0 for everything")] = 30,
        mode: Mode | None = None,
    ) -> Leaderboard:
        rows = await queries.leaderboard(db, days, mode)
        return Leaderboard(window_days=days, mode=mode, models=await as_board_rows(db, rows))

    @get("/{model_id:int}/performance", operation_id="getModelPerformance", opt={"cache": "evaluations"},
         cache=True, summary="A model's scores per window, per day and per stock", responses=error_responses(401, 404))
    async def performance(self, db: AsyncConnection, model_id: Id,
                          days: Annotated[int, Parameter(ge=1, le=3660, description="daily rows")] = 90
                          ) -> ModelPerformance:
        found = await queries.model(db, model_id)
        if found is None:
            raise NotFound(f"no model {model_id}")
        windows = await as_board_rows(db, await queries.leaderboard(db, -1, None, found.name))
        daily = [DailyPerformance(
            day=r.day, mode=r.mode, n=r.n, n_final=r.n_final, n_failed=r.n_failed, hit_rate=r.hit_rate,
            mean_return=r.mean_return, mean_excess_return=r.mean_excess_return, brier=r.brier,
            target_hit_rate=r.target_hit_rate, stop_hit_rate=r.stop_hit_rate, target_score=r.target_score,
            ic=r.ic, rank_ic=r.rank_ic, legacy_auto=r.legacy_auto) for r in await queries.daily(db, found.name, days)]
        stocks = [StockPerformance(r.stock_code, r.mode, r.n, r.n_final, _float(r.hit_rate), _float(r.mean_return),
                                   _float(r.brier)) for r in await queries.by_stock(db, found.name)]
        return ModelPerformance(model_id=found.id, model=found.name, windows=windows, daily=daily, by_stock=stocks)


def as_ab_test(r: Any, backfill: Backfill | None = None, admin: bool = True) -> AbTest:
    if backfill is not None and not admin:  # a user sees the run and its progress, not its money or errors
        backfill = msgspec.structs.replace(backfill, budget_usd=None, spent_usd=None, error=None)
    return AbTest(id=r.id, model_a_id=r.model_a_id, model_a=r.model_a, model_b_id=r.model_b_id, model_b=r.model_b,
                  min_n=r.min_n, note=r.note, active=r.active, created_at=r.created_at,
                  deactivated_at=r.deactivated_at, backfill=backfill)


async def with_backfill(conn: AsyncConnection, r: Any, admin: bool) -> AbTest:
    return as_ab_test(r, (await backfills.latest(conn, ab_test_ids=[r.id])).get(("pair", r.id)), admin)


def results_detail(computed: bool, backfill: Backfill | None) -> str:
    if computed:
        return "paired on the items both models answered; 'not enough data' below min_n"
    if backfill and backfill.status in ("requested", "running"):
        return f"the pair's backfill is {backfill.status}: the result appears when its run ends"
    return "not computed yet: the nightly evaluation (or `azak evaluate`) computes new pairs"


class AbTestController(Controller):
    path = "/api/ab-tests"
    tags = ["evaluations"]
    security = SECURED

    @get("/", operation_id="listAbTests", summary="Every A/B pair configured, newest first (the history)",
         responses=error_responses(401))
    async def list_ab_tests(self, db: AsyncConnection, request: Request[CurrentUser, Token, Any]) -> list[AbTest]:
        rows = await queries.ab_tests(db)
        shown = await backfills.latest(db, ab_test_ids=[r.id for r in rows])
        return [as_ab_test(r, shown.get(("pair", r.id)), request.user.is_admin) for r in rows]

    @post("/", operation_id="createAbTest", guards=[admin_only], status_code=201,
          summary="Compare two models (admin): the new pair becomes the active one, the old is kept",
          description="With `backfill`, the daemon backfills both models' news predictions and reports over a "
                      "window of past days within a budget, then computes the pair's result; `backfill` in the "
                      "answer links the run (docs/workflows.md).",
          responses=error_responses(401, 403, 413),
          opt={INVALIDATES: ("analysis", "page")})
    async def create(self, tx: AsyncConnection, request: Request[CurrentUser, Token, Any], data: AbTestIn) -> AbTest:
        if data.model_a_id == data.model_b_id:
            raise ValidationException("model_a_id and model_b_id must be two different models")
        unknown = {data.model_a_id, data.model_b_id} - await queries.models_exist(tx, [data.model_a_id,
                                                                                       data.model_b_id])
        if unknown:
            raise ValidationException(f"no model with id {', '.join(map(str, sorted(unknown)))} (see GET /api/models)")
        if data.backfill:
            backfills.check_window(data.backfill)
        new_id = await queries.create_ab_test(tx, data.model_a_id, data.model_b_id, data.min_n, data.note,
                                              request.user.id)
        backfill = await backfills.request(tx, [data.model_a_id, data.model_b_id], new_id, data.backfill,
                                           request.user.id) if data.backfill else None
        return as_ab_test(await queries.ab_test(tx, new_id), backfill)

    @get("/{ab_test_id:int}/results", operation_id="getAbTestResults",
         summary="Paired differences A − B per score with 95 % bootstrap CIs and sign-test p-values",
         responses=error_responses(401, 404))
    async def results(self, db: AsyncConnection, request: Request[CurrentUser, Token, Any],
                      ab_test_id: Id) -> AbResults:
        test = await queries.ab_test(db, ab_test_id)
        if test is None:
            raise NotFound(f"no A/B test {ab_test_id}")
        rows = await queries.ab_results(db, ab_test_id) or []
        scores = {mode: [AbScore(r.score, r.n, r.higher_is_better, r.mean_a, r.mean_b, r.mean_diff, r.ci_low,
                                 r.ci_high, r.sign_test_p, r.min_n, r.verdict) for r in rows if r.mode == mode]
                  for mode in ("live", "simulated")}
        pair = await with_backfill(db, test, request.user.is_admin)
        return AbResults(ab_test=pair, computed=bool(rows), detail=results_detail(bool(rows), pair.backfill),
                         live=scores["live"], simulated=scores["simulated"])
