"""Analyses (the latest report per active model), report history, news-impact predictions, and
on-demand refreshes launched as Dagster runs."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from azak_api.analysis import dagster, queries
from azak_api.analysis.schemas import (
    AbPair,
    Analysis,
    ImpactBreakdown,
    Prediction,
    PredictionPage,
    Provenance,
    Report,
    ReportPage,
    RunLaunched,
    RunStatus,
)
from azak_api.auth import SECURED, CurrentUser
from azak_api.cache import INVALIDATES
from azak_api.errors import NotFound, error_responses
from azak_api.pages import paging
from azak_api.quota import quota_slot
from azak_api.settings import Settings
from azak_core.market import KST, STOCK_CODE_PATTERN
from azak_core.patterns import MODEL_NAME_PATTERN, whole
from azak_core.runs import STOCK_REPORTS_JOB, STOCK_REPORTS_KEY, op_config

Code = Annotated[str, Parameter(pattern=STOCK_CODE_PATTERN, description="stock code")]
ModelName = Annotated[str | None, Parameter(pattern=MODEL_NAME_PATTERN)]
From = Annotated[date | None, Parameter(query="from", description="first KST day (YYYY-MM-DD)")]
To = Annotated[date | None, Parameter(query="to", description="last KST day (YYYY-MM-DD)")]


def _window(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    if start and end and start > end:
        raise ValidationException(f"'from' ({start}) is after 'to' ({end})")
    since = datetime.combine(start, time.min, KST) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, KST) if end and end < date.max else None
    return since, until


def provenance(row: Any, reveal_errors: bool) -> Provenance:
    """A row's provenance. The error message quotes the provider's answer (up to 300 characters of
    an upstream body, internal addresses included): only admins read it (``reveal_errors``);
    everyone else sees the error class."""
    return Provenance(model_name=row.model_name, made_at=row.made_at, mode=row.mode, status=row.status,
                      error_class=row.error_class, error_message=row.error_message if reveal_errors else None,
                      prompt_version=row.prompt_version, input_hash=row.input_hash, tokens_in=row.tokens_in,
                      tokens_out=row.tokens_out, cost_usd=row.cost_usd, latency_ms=row.latency_ms,
                      cached=row.cached)


def as_report(row: Any, reveal_errors: bool) -> Report:
    return Report(report_id=row.report_id, stock_code=row.stock_code, summary=row.summary,
                  scenarios=row.scenarios, recommendation=row.recommendation, direction=row.direction,
                  probability=row.probability, base_price=row.base_price, short_target=row.short_target,
                  short_stop=row.short_stop, short_horizon_sessions=row.short_horizon_sessions,
                  medium_target=row.medium_target, long_target=row.long_target, risks=list(row.risks or []),
                  opportunities=list(row.opportunities or []), limitations=row.limitations,
                  data_sources=list(row.data_sources or []), provenance=provenance(row, reveal_errors),
                  medium_support=row.medium_support, data_completeness=row.data_completeness)


def as_prediction(row: Any, reveal_errors: bool) -> Prediction:
    return Prediction(prediction_id=row.prediction_id, news_id=str(row.news_id), stock_code=row.stock_code,
                      direction=row.direction, probability=row.probability, impact=row.impact,
                      relevance=row.relevance, horizon_sessions=row.horizon_sessions, reasoning=row.reasoning,
                      provenance=provenance(row, reveal_errors), urgency=row.urgency,
                      impact_breakdown=(msgspec.convert(row.impact_breakdown, ImpactBreakdown)
                                        if row.impact_breakdown is not None else None))


async def stock_analysis(db: AsyncConnection, code: str, reveal: bool) -> Analysis:
    """Each active model's latest successful report, and the active A/B pair's side by side."""
    reports = [as_report(r, reveal) for r in await queries.latest_reports(db, code)]
    last = max((r.provenance.made_at for r in reports), default=None)
    pair = None
    if found := await queries.ab_pair_reports(db, code):
        test, by_model = found
        a, b = by_model.get(test.model_a_id), by_model.get(test.model_b_id)
        pair = AbPair(ab_test_id=test.id, model_a=test.model_a, model_b=test.model_b,
                      a=as_report(a, reveal) if a else None, b=as_report(b, reveal) if b else None)
    return Analysis(stock_code=code, reports=reports, last_updated=last, ab_pair=pair)


class AnalysisController(Controller):
    path = "/api"
    tags = ["analysis"]
    security = SECURED

    @get("/stocks/{code:str}/analysis", operation_id="getStockAnalysis", opt={"cache": "analysis"}, cache=True,
         summary="The latest successful report of every active model; the active A/B pair side by side",
         responses=error_responses(401))
    async def analysis(self, db: AsyncConnection, current_user: CurrentUser, code: Code) -> Analysis:
        # cached per caller (the route is not shared), so an admin's answer is never served to a user
        return await stock_analysis(db, code, current_user.is_admin)

    @get("/stocks/{code:str}/reports", operation_id="listStockReports",
         summary="History of successful reports (newest first)", responses=error_responses(401))
    async def reports(self, db: AsyncConnection, current_user: CurrentUser, code: Code, model: ModelName = None,
                      start: From = None, end: To = None, page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
                      page_size: Annotated[int, Parameter(ge=1, le=100)] = 20) -> ReportPage:
        since, until = _window(start, end)
        rows, total = await queries.report_history(db, code, model, since, until, (page - 1) * page_size, page_size)
        return ReportPage([as_report(r, current_user.is_admin) for r in rows], **paging(total, page, page_size))

    @get("/predictions", operation_id="listPredictions",
         summary="News-impact predictions, failures included (filter by status)", responses=error_responses(401))
    async def predictions(
        self, db: AsyncConnection, current_user: CurrentUser,
        stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN)] = None, model: ModelName = None,
        status: Literal["ok", "failed", "skipped"] | None = None, start: From = None, end: To = None,
        page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> PredictionPage:
        since, until = _window(start, end)
        rows, total = await queries.predictions(db, stock=stock, model=model, status=status, news_id=None,
                                                start=since, end=until, offset=(page - 1) * page_size,
                                                limit=page_size)
        return PredictionPage([as_prediction(r, current_user.is_admin) for r in rows],
                              **paging(total, page, page_size))

    @post("/stocks/{code:str}/analysis/refresh", operation_id="refreshStockAnalysis", status_code=202,
          summary="Launch a stock_reports run for this stock (admin, or a user within the daily quota)",
          description="The run queues behind the platform's own work (lower `dagster/priority`, at most "
                      "`azak/origin: api` runs at once per dagster.yaml).",
          responses=error_responses(401, 403, 413, 429),
          opt={INVALIDATES: ()})
    async def refresh(self, current_user: CurrentUser, engine: AsyncEngine, settings: Settings,
                      clock: Callable[[], datetime], code: Code) -> RunLaunched:
        now = clock()
        async with quota_slot(engine, current_user, settings.analysis_refreshes_per_day, now, "refresh") as left:
            run_id = await dagster.launch(
                settings.dagster_url, STOCK_REPORTS_JOB, str(now.astimezone(KST).date()),
                op_config(STOCK_REPORTS_KEY, {"stocks": [code]}), current_user.id)
        async with engine.begin() as conn:
            await queries.record_refresh(conn, current_user.id, code, run_id)
        return RunLaunched(run_id=run_id, status_url=f"/api/runs/{run_id}", refreshes_left_today=left)

    @get("/runs/{run_id:str}", operation_id="getRun",
         summary="A Dagster run's status: runs the caller launched (admins: any run)",
         responses=error_responses(401, 404))
    async def run(self, current_user: CurrentUser, settings: Settings,
                  run_id: Annotated[str, Parameter(pattern=whole("[0-9a-f-]{36}"), description="Dagster run id")]
                  ) -> RunStatus:
        found = await dagster.run_status(settings.dagster_url, run_id)
        tags = {t["key"]: t["value"] for t in found["tags"]} if found else {}
        # someone else's run is "not found" too, so run ids cannot be probed
        if found is None or not (current_user.is_admin or dagster.launched_by(tags, current_user.id)):
            raise NotFound(f"no run {run_id} that you launched")
        return RunStatus(run_id=found["runId"], status=found["status"], job=found["jobName"], tags=tags,
                         start_time=found.get("startTime"), end_time=found.get("endTime"))
