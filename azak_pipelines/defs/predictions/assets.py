"""``news_predictions`` and ``stock_reports``: what every active model says, append-only.

The registry (``app.models``) is read when a run starts. A past day is *simulated*: each output is
made as of the time it would have been made (the article's publication; the report slot of that
day) from point-in-time context. Today's work is *live*: as of now. Failures are rows with their
error class, and the asset check beside each asset fails when a model failed in the run.
"""

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

import dagster as dg

from azak_core.market import KST
from azak_pipelines.defs import pools
from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.common import (
    AssetOptions,
    AssetResult,
    closed_days_note,
    kst_today,
    preview,
    watchlist_codes,
    window_of,
)
from azak_pipelines.defs.predictions.resources import LlmResource
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS, STOCK_REPORTS
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import slice_version
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar, utc_now
from azak_pipelines.lib.predictions.budget import Budget
from azak_pipelines.lib.predictions.context import Article, articles_to_predict, build_context, existing_tables
from azak_pipelines.lib.predictions.models import ModelSpec, load_models
from azak_pipelines.lib.predictions.rows import news_row, report_row
from azak_pipelines.lib.predictions.runner import Attempt, Job, Runner
from azak_pipelines.lib.warehouse import append_rows, ensure_table, table_exists

MARTS = [dg.AssetKey(["marts", name]) for name in ("daily_prices", "index_daily", "trading_days", "stocks",
                                                    "news_articles", "news_stock_matches", "news_price_impact")]
STAGING = [dg.AssetKey(["staging", f"stg_kis__{name}"]) for name in ("investor_flows", "financial_ratios",
                                                                    "product_info")]
SIMILAR = [dg.AssetKey(["computed", "similar_news"]), dg.AssetKey(["marts", "similar_news_outcomes"])]
COMMON: AssetOptions = {"group_name": "predictions", "kinds": {"postgres"}, "partitions_def": news_days,
          "backfill_policy": dg.BackfillPolicy.single_run(), "pool": pools.LLM}


class PredictionsConfig(dg.Config):
    models: list[str] = []  # registry names; empty: every active model
    stocks: list[str] = []  # stock codes; empty: the watch-list


class NewsPredictionsConfig(PredictionsConfig):
    news_ids: list[int] = []  # articles (an on-demand prediction of one); empty: every salient link


class ReportsConfig(PredictionsConfig):
    slot: str = "16:00"  # KST time a simulated (past-day) report is made as of


def _models(conn: Any, config: PredictionsConfig) -> list[ModelSpec]:
    try:
        models = load_models(conn, active_only=not config.models, names=config.models or None)
    except LookupError as exc:
        raise dg.Failure(str(exc)) from None
    unknown = set(config.models) - {m.name for m in models}
    if unknown:
        raise dg.Failure(f"no such model(s) in app.models: {sorted(unknown)} (see `azak models list`)")
    models = [m for m in models if m.provider != "external"]  # external outputs are imported, not made
    if not models:
        raise dg.Failure("no active model in app.models: `azak models set baseline --active`")
    return models


def _codes(conn: Any, config: PredictionsConfig) -> list[str]:
    return config.stocks or watchlist_codes(conn)


def _summary(attempts: list[Attempt], runner: Runner, result: Any) -> dict[str, Any]:
    by_model: dict[str, Counter[str]] = {}
    for a in attempts:
        by_model.setdefault(a.model.name, Counter())[a.status] += 1
    failures = Counter(f"{a.model.name}: {a.error_class}" for a in attempts if a.status != "ok")
    return {
        **result.metadata(), "dagster/row_count": result.new_rows, "attempts": len(attempts),
        "ok": sum(a.status == "ok" for a in attempts), "failed": sum(a.status == "failed" for a in attempts),
        "skipped": sum(a.status == "skipped" for a in attempts), "cached": sum(a.cached for a in attempts),
        "provider_requests": runner.requests, "cost_usd": round(sum(a.cost_usd for a in attempts), 6),
        "tokens_in": sum(a.tokens_in for a in attempts), "tokens_out": sum(a.tokens_out for a in attempts),
        "by_model": {name: dict(counts) for name, counts in by_model.items()},
        "failures": dict(failures),
    }


def _check(attempts: list[Attempt], asset: str) -> dg.AssetCheckResult:
    failed = [a for a in attempts if a.status != "ok"]
    examples = [f"{a.model.name} {a.context.stock_code}: {a.status} {a.error_class}: {(a.error_message or '')[:160]}"
                for a in failed[:10]]
    return dg.AssetCheckResult(
        check_name="every_model_answered", passed=not failed, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failed_or_skipped": len(failed), "examples": examples},
        description=f"every attempt of this run succeeded ({len(attempts)})" if not failed else
        f"{len(failed)} of {len(attempts)} attempts failed or were skipped; they are stored as such in {asset}")


def _answered(conn: Any, window: Any) -> set[tuple[int, str, int]]:
    """(news, stock, model) answered successfully already: not asked again."""
    return set(conn.execute(
        f"SELECT news_id, stock_code, model_id FROM {NEWS_PREDICTIONS.key} "
        "WHERE published_day >= %s AND published_day < %s AND status = 'ok'", (window.start, window.end)))


def _runner(conn: Any, llm: LlmResource, models: list[ModelSpec],
            context: dg.OpExecutionContext | dg.AssetExecutionContext, budget: Budget | None = None) -> Runner:
    """``budget``: one shared by several writes (a model's onboarding backfill); else this run's."""
    return Runner(conn, llm.api_keys(models), llm.provider_settings(), budget or llm.budget(),
                  llm.concurrency_per_provider, log=context.log.warning)


def is_live(article: Article, today: date, now: datetime) -> bool:
    """A prediction is live when made as the article is news: today's articles, and yesterday's
    while their anchor session has not closed (an article of 23:58 predicted at 00:05, which the
    around-the-clock schedule does). Anything later is simulated as of the article's publication."""
    if article.published_day >= today:
        return True
    calendar = krx_calendar()
    return article.published_day == today - timedelta(days=1) and \
        now <= calendar.session(calendar.anchor_session(article.available_at)).close


def available_by(articles: list[Article], now: datetime) -> tuple[list[Article], list[Article]]:
    """The links whose article could be known by ``now``, and those it could not: an article stamped
    later than now (a source's clock, a date-only item counted from its day's end) is predicted by the
    first run after its time, never as of a moment before it existed (the context would refuse it)."""
    return [a for a in articles if a.available_at <= now], [a for a in articles if a.available_at > now]


def _unanswered(conn: Any, models: list[ModelSpec], articles: list[Article], window: Any,
                now: datetime) -> tuple[list[tuple[Article, list[ModelSpec]]], list[Article]]:
    """Each link available by ``now`` with the models that have not answered it successfully yet
    (links no model needs left out), and the links available only later."""
    done = _answered(conn, window) if table_exists(conn, NEWS_PREDICTIONS) else set()
    available, later = available_by(articles, now)
    todo = [(a, asked) for a in available
            if (asked := [m for m in models if (a.news_id, a.stock_code, m.id) not in done])]
    return todo, later


def nothing_to_predict(conn: Any, window: Any, now: datetime) -> str | None:
    """Why a ``news_predictions`` run of ``window`` would ask no model anything at ``now``, or None
    when it would ask (or fail and say why: no active model, no watch-list — a run then tells)."""
    try:
        models = _models(conn, PredictionsConfig())
        codes = watchlist_codes(conn)
    except dg.Failure:
        return None
    articles = articles_to_predict(conn, window.start, window.end, codes)
    todo, later = _unanswered(conn, models, articles, window, now)
    if todo:
        return None
    waiting = f"; {len(later)} published after now" if later else ""
    if not articles:
        return f"no salient link of a watch-list stock on {window.start}…{window.last} yet"
    return (f"every salient link of {window.start}…{window.last} ({len(articles)}) answered by each of the "
            f"{len(models)} active model(s){waiting}")


def write_news_predictions(conn: Any, context: dg.OpExecutionContext | dg.AssetExecutionContext,
                           llm: LlmResource, models: list[ModelSpec], articles: list[Article], window: Any,
                           budget: Budget | None = None) -> tuple[list[Attempt], Runner, list[tuple[Any, ...]], Any]:
    """Each model's prediction for each linked article it has not answered yet, appended to
    computed.news_predictions inside ``window``: the attempts, the runner, the rows and the write.
    The asset and a model's onboarding backfill (``defs/onboarding``) both predict through it."""
    ensure_table(conn, NEWS_PREDICTIONS)
    today, now = kst_today(), utc_now()
    tables = existing_tables(conn)
    todo, later = _unanswered(conn, models, articles, window, now)
    if later:
        context.log.info("%s link(s) of articles available only after now (%s, the first at %s): left to a "
                         "later run", len(later), now.isoformat(), min(a.available_at for a in later).isoformat())
    jobs = []
    for article, asked in todo:
        as_of = now if is_live(article, today, now) else article.available_at
        ctx = build_context(conn, article.stock_code, as_of, article, tables)
        jobs += [Job(model, "news_impact", ctx) for model in asked]
    context.log.info("%s: %s links × %s models, %s already answered", window, len(articles),
                     len(models), len(articles) * len(models) - len(jobs))
    runner = _runner(conn, llm, models, context, budget)
    attempts = runner.run(jobs)
    rows = []
    for a in attempts:
        linked = a.context.article
        assert linked is not None  # news_impact jobs are built from an article (above)
        rows.append(news_row(a, "live" if is_live(linked, today, now) else "simulated", context.run_id, now))
    return attempts, runner, rows, append_rows(conn, NEWS_PREDICTIONS, rows, window.start, window.end)


@dg.asset(key=["computed", "news_predictions"], deps=[*MARTS, *STAGING, *SIMILAR],
          check_specs=[dg.AssetCheckSpec("every_model_answered", asset=["computed", "news_predictions"])],
          **COMMON)
def news_predictions(context: dg.AssetExecutionContext, config: NewsPredictionsConfig, warehouse: Warehouse,
                     llm: LlmResource) -> AssetResult:
    """Per salient (article, watch-list stock) link of the window × every active model: direction
    (up/down/neutral), the probability it is right, impact, relevance, horizon, reasoning, urgency
    and the four-part impact (business, sentiment, competition, regulation), from a point-in-time
    context (prices of sessions closed before the article, indicators, index and sector moves, DART
    filings of the last 7 days, the three most similar earlier cases with what the price did next,
    similar-news outcomes, the stock's news-impact history). Past
    days are simulated as of each article's publication; today is live (as of now). Append-only:
    a re-run adds only what is new (failed attempts are retried, successes never repeated). Config
    ``news_ids`` narrows the run to those articles (``POST /api/news/{id}/predict``)."""
    window = window_of(context)
    with warehouse.connect() as conn:
        ensure_table(conn, NEWS_PREDICTIONS)
        models = _models(conn, config)
        articles = [a for a in articles_to_predict(conn, window.start, window.end, _codes(conn, config))
                    if not config.news_ids or a.news_id in config.news_ids]
        attempts, runner, rows, result = write_news_predictions(conn, context, llm, models, articles, window)
        version = slice_version(conn, NEWS_PREDICTIONS, window.start, window.end)
    shown = [(r[2], r[3], r[11], r[4], r[5], r[14]) for r in rows]
    return dg.MaterializeResult(
        metadata={"window": str(window), "links": len(articles),
                  "already_answered": len(articles) * len(models) - len(attempts), "models": [m.name for m in models],
                  **_summary(attempts, runner, result),
                  "preview": preview(shown, ["news_id", "stock", "model", "direction", "probability", "status"])},
        check_results=[_check(attempts, NEWS_PREDICTIONS.key)], data_version=version)


def report_times(window_days: list[Any], slot: time, today: Any, now: datetime) -> list[tuple[datetime, str]]:
    """(as-of, mode) per day: past trading days at the slot (simulated); today now (live)."""
    calendar = krx_calendar()
    times = []
    for day in window_days:
        if day >= today:
            times.append((now, "live"))
        elif calendar.is_trading_day(day):
            times.append((datetime.combine(day, slot, KST), "simulated"))
    return times


def write_reports(conn: Any, context: dg.OpExecutionContext | dg.AssetExecutionContext, llm: LlmResource,
                  models: list[ModelSpec], codes: list[str], times: list[tuple[datetime, str]],
                  window: Any, now: datetime,
                  budget: Budget | None = None) -> tuple[list[Attempt], Runner, list[tuple[Any, ...]], Any]:
    """Each model's report on each stock at each (as-of, mode), appended to computed.stock_reports
    inside ``window`` (``now``: when the run made them): the attempts, the runner (its request
    count), the rows and the write. The asset and a stock's onboarding run (``defs/onboarding``)
    both write reports through it."""
    ensure_table(conn, STOCK_REPORTS)
    tables = existing_tables(conn)
    jobs, modes = [], {}
    for as_of, mode in times:
        for code in codes:
            ctx = build_context(conn, code, as_of, None, tables)
            modes[id(ctx)] = mode
            jobs += [Job(model, "stock_report", ctx) for model in models]
    runner = _runner(conn, llm, models, context, budget)
    attempts = runner.run(jobs)
    rows = [report_row(a, modes[id(a.context)], context.run_id, now) for a in attempts]
    return attempts, runner, rows, append_rows(conn, STOCK_REPORTS, rows, window.start, window.end)


@dg.asset(key=["computed", "stock_reports"],
          deps=[*MARTS, *STAGING, dg.AssetKey(["computed", "news_predictions"])],
          check_specs=[dg.AssetCheckSpec("every_model_answered", asset=["computed", "stock_reports"])],
          **COMMON)
def stock_reports(context: dg.AssetExecutionContext, config: ReportsConfig, warehouse: Warehouse,
                  llm: LlmResource) -> AssetResult:
    """Per watch-list stock × every active model: an investment report — summary, short/medium/long
    scenarios, buy/hold/sell, base price, short-term target and stop with their horizon, medium and
    long targets, the medium-term support, the probability of the short-term call, up to 3 risks
    and opportunities, limitations, which data sources were present and the data completeness
    computed from them (the share of the nine context sections with data). Today's partition is live (as of now; the
    schedules run it at 08:30, 13:05 and 16:00 KST on trading days); a past trading day is simulated
    as of its ``slot`` (16:00 KST by default). Append-only history: every report is kept."""
    window = window_of(context)
    try:
        slot = time.fromisoformat(config.slot)
    except ValueError:
        raise dg.Failure(f"slot must be HH:MM (KST), got {config.slot!r}") from None
    today, now = kst_today(), utc_now()
    with warehouse.connect() as conn:
        models = _models(conn, config)
        codes = _codes(conn, config)
        times = report_times(window.days(), slot, today, now)
        context.log.info("%s: %s stocks × %s times × %s models", window, len(codes), len(times), len(models))
        attempts, runner, rows, result = write_reports(conn, context, llm, models, codes, times, window, now)
    shown = [(r[2], r[19], r[1], r[5], r[6], r[7], r[22]) for r in rows]
    return dg.MaterializeResult(
        metadata={"window": str(window), **closed_days_note(window), "stocks": len(codes),
                  "models": [m.name for m in models], **_summary(attempts, runner, result),
                  "report_ids": [r[0] for r in rows] if len(rows) <= 200 else [],
                  "preview": preview(shown, ["stock", "model", "day", "recommendation", "direction",
                                             "probability", "status"])},
        check_results=[_check(attempts, STOCK_REPORTS.key)])
