"""SQL over ``computed.stock_reports`` / ``computed.news_predictions`` (append-only model outputs)
and ``app.analysis_requests``. Before the first prediction run the tables do not exist: empty."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, paged, table_exists
from azak_api.evaluations.queries import active_ab_test

PROVENANCE = ("model_name, made_at, mode, status, error_class, error_message, prompt_version, input_hash, "
              "tokens_in, tokens_out, cost_usd::float8 AS cost_usd, latency_ms, cached")
REPORT = ("report_id, stock_code, summary, scenarios, recommendation, direction, probability, "
          "base_price::float8 AS base_price, short_target::float8 AS short_target, "
          "short_stop::float8 AS short_stop, short_horizon_sessions, medium_target::float8 AS medium_target, "
          "long_target::float8 AS long_target, risks, opportunities, limitations, data_sources, "
          "medium_support::float8 AS medium_support, data_completeness, " + PROVENANCE)
PREDICTION = ("prediction_id, news_id, stock_code, direction, probability, impact, relevance, horizon_sessions, "
              "reasoning, urgency, impact_breakdown, " + PROVENANCE)


def _filters(filters: tuple[tuple[str, str, Any], ...]) -> tuple[list[str], dict[str, Any]]:
    """``column op :param`` for every filter given (columns and operators are ours, values bound)."""
    conditions, params = ["TRUE"], {}
    for column, op, value in filters:
        if value is not None:
            name = f"{column}_{'until' if op == '<' else 'from' if op == '>=' else 'eq'}"
            conditions.append(f"{column} {op} :{name}")
            params[name] = value
    return conditions, params


async def latest_reports(conn: AsyncConnection, code: str) -> Sequence[Any]:
    """The newest successful report of each active model."""
    if not await table_exists(conn, "computed.stock_reports"):
        return []
    return (await conn.execute(text(
        f"SELECT DISTINCT ON (r.model_id) {REPORT} FROM computed.stock_reports AS r "
        "JOIN app.models AS m ON m.id = r.model_id AND m.active "
        "WHERE r.stock_code = :code AND r.status = 'ok' ORDER BY r.model_id, r.made_at DESC, r.created_at DESC"),
        {"code": code})).all()


async def ab_pair_reports(conn: AsyncConnection, code: str) -> tuple[Any, dict[int, Any]] | None:
    """The active A/B test (with its models' names) and the newest successful report of each of
    its two models on ``code``, by model id — whether or not the models are still active."""
    if not await table_exists(conn, "app.ab_tests"):
        return None
    test = await active_ab_test(conn)
    if test is None:
        return None
    if not await table_exists(conn, "computed.stock_reports"):
        return test, {}
    rows = (await conn.execute(text(
        f"SELECT DISTINCT ON (r.model_id) r.model_id, {REPORT} FROM computed.stock_reports AS r "
        "WHERE r.stock_code = :code AND r.status = 'ok' AND r.model_id IN (:a, :b) "
        "ORDER BY r.model_id, r.made_at DESC, r.created_at DESC"),
        {"code": code, "a": test.model_a_id, "b": test.model_b_id})).all()
    return test, {row.model_id: row for row in rows}


async def report_history(conn: AsyncConnection, code: str, model: str | None, start: datetime | None,
                         end: datetime | None, offset: int, limit: int) -> tuple[Sequence[Any], Total]:
    if not await table_exists(conn, "computed.stock_reports"):
        return [], Total(0, is_estimate=False)
    conditions, params = _filters((("stock_code", "=", code), ("model_name", "=", model),
                                   ("made_at", ">=", start), ("made_at", "<", end)))
    conditions.append("status = 'ok'")
    return await paged(conn, REPORT, "computed.stock_reports", " AND ".join(conditions),
                       "made_at DESC, model_name, report_id", params, offset, limit)


async def predictions(conn: AsyncConnection, *, stock: str | None, model: str | None, status: str | None,
                      news_id: int | None, start: datetime | None, end: datetime | None, offset: int,
                      limit: int) -> tuple[Sequence[Any], Total]:
    if not await table_exists(conn, "computed.news_predictions"):
        return [], Total(0, is_estimate=False)
    conditions, params = _filters((("stock_code", "=", stock), ("model_name", "=", model), ("status", "=", status),
                                   ("news_id", "=", news_id), ("made_at", ">=", start), ("made_at", "<", end)))
    return await paged(conn, PREDICTION, "computed.news_predictions", " AND ".join(conditions),
                       "made_at DESC, prediction_id", params, offset, limit)


async def record_refresh(conn: AsyncConnection, user_id: int, code: str, run_id: str) -> None:
    await conn.execute(text(
        "INSERT INTO app.analysis_requests (user_id, stock_code, run_id) VALUES (:u, :c, :r)"),
        {"u": user_id, "c": code, "r": run_id})
