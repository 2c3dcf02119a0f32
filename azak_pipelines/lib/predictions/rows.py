"""Attempts as rows of ``computed.news_predictions`` / ``computed.stock_reports`` (column order of
their TableSpecs). A successful attempt's id is a hash of what was asked and when, so re-running a
past day adds nothing new; a failed or skipped attempt also carries its run, so a retry that
succeeds is a new row beside the failure, never instead of it."""

import hashlib
from datetime import datetime
from typing import Any

import msgspec

from azak_pipelines.lib.calendar.krx_calendar import kst_day
from azak_pipelines.lib.predictions.runner import Attempt
from azak_pipelines.lib.predictions.schemas import NewsImpact, StockReport


def _id(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _provenance(a: Attempt, made_at: datetime, mode: str, created_at: datetime) -> tuple[Any, ...]:
    return (a.model.id, a.model.name, made_at, mode, a.status, a.error_class, a.error_message,
            a.prompt_version, a.input_hash, a.tokens_in, a.tokens_out, round(a.cost_usd, 6), a.latency_ms,
            a.cached, created_at)


def attempt_id(a: Attempt, run_id: str, *subject: Any) -> str:
    extra = () if a.status == "ok" else (run_id,)
    return _id(a.model.name, *subject, a.input_hash, a.context.as_of.isoformat(), *extra)


def news_row(a: Attempt, mode: str, run_id: str, created_at: datetime) -> tuple[Any, ...]:
    article = a.context.article
    assert article is not None
    v = a.output if isinstance(a.output, NewsImpact) else None
    return (attempt_id(a, run_id, article.news_id, article.stock_code), article.published_day,
            article.news_id, article.stock_code,
            v and v.direction, v and v.probability, v and v.impact, v and v.relevance,
            v and v.horizon_sessions, v and v.reasoning,
            *_provenance(a, a.context.as_of, mode, created_at),
            v and v.urgency, msgspec.json.encode(v.impact_breakdown).decode() if v else None)


def report_row(a: Attempt, mode: str, run_id: str, created_at: datetime) -> tuple[Any, ...]:
    ctx = a.context
    v = a.output if isinstance(a.output, StockReport) else None
    scenarios = msgspec.json.encode(v.scenarios).decode() if v else None
    return (attempt_id(a, run_id, ctx.stock_code), kst_day(ctx.as_of), ctx.stock_code,
            v and v.summary, scenarios, v and v.recommendation, v and v.direction, v and v.probability,
            v and v.base_price, v and v.short_target, v and v.short_stop, v and v.short_horizon_sessions,
            v and v.medium_target, v and v.long_target, v and v.risks, v and v.opportunities,
            v and v.limitations, ctx.present(),
            *_provenance(a, ctx.as_of, mode, created_at),
            v and v.medium_support, ctx.completeness())
