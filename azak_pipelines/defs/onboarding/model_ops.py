"""The steps of a model's (or an A/B pair's) onboarding run: its news predictions and reports over a
window of past days within one budget, then the evaluation and the A/B comparisons."""

from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from azak_core.runs import MODEL_BACKFILL_MAX_DAYS
from azak_core.settings_registry import read_or
from azak_pipelines.defs import pools
from azak_pipelines.defs.common import Window, kst_today, watchlist_codes
from azak_pipelines.defs.evaluation import assets as evaluation
from azak_pipelines.defs.onboarding.ops import build_models
from azak_pipelines.defs.predictions.assets import (
    ReportsConfig,
    _models,
    report_times,
    write_news_predictions,
    write_reports,
)
from azak_pipelines.defs.predictions.resources import LlmResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import written_by
from azak_pipelines.lib import model_onboarding, onboarding
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.predictions.budget import Budget
from azak_pipelines.lib.predictions.context import articles_to_predict
from azak_pipelines.lib.predictions.runner import Attempt
from azak_pipelines.lib.warehouse import table_exists

TABLE = model_onboarding.TABLE
# the evaluation's dbt models over the predictions (their upstream marts are already built)
EVALUATION_MODELS = ("stg_predictions__items", "prediction_outcomes")


class ModelOnboardingConfig(dg.Config):
    models: list[str] = []  # registry names: one model, or a pair A B (Dagit's launchpad; requests name theirs)
    start: str = ""  # first day, YYYY-MM-DD; empty: AZAK_MODEL_BACKFILL_DAYS before the last priced session
    end: str = ""  # last day (inclusive), YYYY-MM-DD; empty: the last priced session
    budget_usd: float | None = None  # for the whole backfill; unset: AZAK_LLM_BUDGET_USD (empty: no cap)
    request_id: int = 0  # its row in app.model_onboarding (the sensor's runs); 0: one is made


@dataclass(frozen=True)
class Backfill:
    request_id: int
    models: list[str]
    window: Window
    budget_usd: float | None
    stopped: str | None = None  # why the predictions stopped early (the budget); None: the whole window


def _day(text: str, name: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise dg.Failure(f"{name} must be a day YYYY-MM-DD, got {text!r}") from None


def _launchpad_request(conn: Any, config: ModelOnboardingConfig) -> int:
    """A run launched from Dagit records its own request."""
    if not 1 <= len(config.models) <= 2:
        raise dg.Failure("give one model, or the two of a pair, in config `models` (registry names)")
    ids = dict(conn.execute("SELECT name, id FROM app.models WHERE name = ANY(%s)", (config.models,)).fetchall())
    unknown = [name for name in config.models if name not in ids]
    if unknown:
        raise dg.Failure(f"no such model(s) in app.models: {unknown} (see `azak models list`)")
    return model_onboarding.request(conn, [ids[name] for name in config.models], "dagit",
                                    start=_day(config.start, "start"), end=_day(config.end, "end"),
                                    budget_usd=config.budget_usd)


def default_window(conn: Any) -> Window:
    """The last ``AZAK_MODEL_BACKFILL_DAYS`` (30) days up to the last priced session (today when
    nothing is priced): on the demo, the sample's last month."""
    days = int(read_or("AZAK_MODEL_BACKFILL_DAYS", "30"))
    if not 1 <= days <= MODEL_BACKFILL_MAX_DAYS:
        raise dg.Failure(f"AZAK_MODEL_BACKFILL_DAYS must be 1 … {MODEL_BACKFILL_MAX_DAYS}, got {days}")
    last = conn.execute("SELECT max(trade_date) FROM marts.daily_prices").fetchone()[0] \
        if table_exists(conn, "marts.daily_prices") else None
    end = (last or kst_today()) + timedelta(days=1)
    return Window(end - timedelta(days=days), end)


def _window(conn: Any, start: date | None, end: date | None) -> Window:
    default = default_window(conn)
    chosen = Window(start or default.start, end + timedelta(days=1) if end else default.end)
    if not 1 <= (chosen.end - chosen.start).days <= MODEL_BACKFILL_MAX_DAYS:
        raise dg.Failure(f"the window {chosen} must hold 1 … {MODEL_BACKFILL_MAX_DAYS} days")
    return chosen


@dg.op
def model_onboarding_started(context: dg.OpExecutionContext, config: ModelOnboardingConfig,
                             warehouse: Warehouse) -> Backfill:
    """Mark the request running in this run and settle its window (the default one resolved)."""
    with warehouse.connect() as conn:
        request_id = config.request_id or _launchpad_request(conn, config)
        try:
            asked = model_onboarding.started(conn, request_id, context.run_id, utc_now())
        except LookupError as error:
            conn.rollback()
            model_onboarding.refused(conn, request_id, context.run_id, utc_now(), str(error))
            conn.commit()
            raise dg.Failure(str(error)) from None
        if not asked.models:
            raise dg.Failure(f"model onboarding request {request_id} names no registered model")
        window = _window(conn, asked.start, asked.end)
        model_onboarding.window(conn, request_id, window.start, window.last)
    context.log.info("backfilling %s over %s (budget %s)", asked.models, window,
                     "AZAK_LLM_BUDGET_USD" if asked.budget_usd is None else f"${asked.budget_usd}")
    return Backfill(request_id, asked.models, window, asked.budget_usd)


def _predict_day(conn: Any, context: dg.OpExecutionContext, llm: LlmResource, plan: Backfill,
                 day: date, budget: Budget) -> list[Attempt]:
    """The models' news predictions and report (as of the report slot) of one day."""
    models = _models(conn, ReportsConfig(models=plan.models))
    codes, window, now = watchlist_codes(conn), Window(day, day + timedelta(days=1)), utc_now()
    articles = articles_to_predict(conn, window.start, window.end, codes)
    news = write_news_predictions(conn, context, llm, models, articles, window, budget)
    times = report_times([day], time.fromisoformat(ReportsConfig().slot), kst_today(), now)
    reports = write_reports(conn, context, llm, models, codes, times, window, now, budget) if times else None
    for key, written in ((["computed", "news_predictions"], news), (["computed", "stock_reports"], reports)):
        if written and written[0]:
            context.log_event(dg.AssetMaterialization(key, partition=day.isoformat(), metadata={
                "model_onboarding": plan.request_id, "dagster/row_count": written[3].new_rows,
                "ok": sum(a.status == "ok" for a in written[0]), "cached": sum(a.cached for a in written[0])},
                tags=written_by(context.run_id)))
    return news[0] + (reports[0] if reports else [])


@dg.op(out=dg.Out(Backfill), pool=pools.LLM)
def model_onboarding_predictions(context: dg.OpExecutionContext, plan: Backfill, warehouse: Warehouse,
                                 llm: LlmResource) -> Backfill:
    """Day by day, oldest first: every model's predictions for the salient links and its reports on
    the watch-list (simulated, as of each article and the 16:00 slot), within one budget for the
    whole backfill. Answers seen before come from the response cache at no cost; links a model
    already answered are not asked again. The first day on which a call would cross the budget
    is the last: the run stops there and says so."""
    budget = llm.budget() if plan.budget_usd is None else Budget(plan.budget_usd)
    days = plan.window.days()
    stopped = None
    with warehouse.connect() as conn:
        for number, day in enumerate(days, 1):
            onboarding.step(conn, plan.request_id, f"predictions {day} ({number}/{len(days)})", table=TABLE)
            attempts = _predict_day(conn, context, llm, plan, day, budget)
            model_onboarding.spent(conn, plan.request_id, budget.spent_usd)
            if any(a.error_class == "budget" for a in attempts):
                stopped = (f"stopped on {day} (day {number} of {len(days)}): the backfill's budget of "
                           f"${budget.limit_usd or 0:.4f} reached (${budget.spent_usd:.4f} spent); the days "
                           "before are complete. Ask again with a larger budget: answers already made come from "
                           "the cache at no cost")
                context.log.warning(stopped)
                break
    return replace(plan, stopped=stopped)


@dg.op(out=dg.Out(Backfill))
def model_onboarding_evaluation(context: dg.OpExecutionContext, plan: Backfill, warehouse: Warehouse,
                                dbt: DbtCliResource) -> Backfill:
    """The outcomes of the predictions (dbt), their scores, the daily performance, the leaderboard
    and every A/B pair's comparison, as the nightly evaluation computes them."""
    with warehouse.connect() as conn:
        onboarding.step(conn, plan.request_id, "evaluation", table=TABLE)
    build_models(context, dbt, warehouse, EVALUATION_MODELS, {"model_onboarding": plan.request_id})
    # the evaluation group's Python assets, in their order (a module-level list would be loaded twice)
    for asset in (evaluation.prediction_scores, evaluation.model_daily_performance, evaluation.model_leaderboard,
                  evaluation.ab_comparisons):
        result = asset(warehouse=warehouse)
        assert isinstance(result, dg.MaterializeResult)  # what each of them returns
        context.log_event(dg.AssetMaterialization(asset.key, metadata=result.metadata,
                                                  tags=written_by(context.run_id)))
    return plan


@dg.op
def model_onboarding_done(context: dg.OpExecutionContext, plan: Backfill, warehouse: Warehouse) -> None:
    """The request succeeded, or stopped at the budget: the API shows it with the A/B result."""
    with warehouse.connect() as conn:
        if plan.stopped:
            model_onboarding.stopped(conn, context.run_id, utc_now(), plan.stopped)
        else:
            onboarding.finished(conn, context.run_id, utc_now(), table=TABLE)


@dg.failure_hook(required_resource_keys={"warehouse"})
def model_onboarding_failed(context: dg.HookContext) -> None:
    """A failed step fails the request, with the reason (the run's log has the rest)."""
    reason = f"{context.op.name}: {context.op_exception}" if context.op_exception else context.op.name
    with context.resources.warehouse.connect() as conn:
        onboarding.finished(conn, context.run_id, utc_now(), error=reason[:500], table=TABLE)
