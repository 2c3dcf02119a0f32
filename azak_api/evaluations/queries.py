"""SQL over ``marts.prediction_outcomes``, ``computed.prediction_scores``, the performance tables,
and the ``app`` tables for ratings and A/B tests."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, paged, table_exists

EVALUATION = ("o.evaluation_id, o.model_name, o.model_id, o.mode, o.source_kind, o.stock_code, o.news_id, "
              "o.made_at, o.horizon_sessions, o.direction, o.probability, o.base_price, o.target_price, "
              "o.stop_price, o.anchor_date, o.window_end_date, o.status, o.sessions_observed, o.missing_sessions, "
              "o.realised_return, o.excess_return, o.direction_hit, o.outcome, o.outcome_days, o.outcome_date, "
              "o.ambiguous_session")
RATING = "id, evaluation_id, quality, usefulness, overall, reason, created_at, updated_at"
AB_TEST = ("t.id, t.model_a_id, a.name AS model_a, t.model_b_id, b.name AS model_b, t.min_n, t.note, t.active, "
           "t.created_at, t.deactivated_at")
AB_TESTS = "app.ab_tests t JOIN app.models a ON a.id = t.model_a_id JOIN app.models b ON b.id = t.model_b_id"


async def page(conn: AsyncConnection, *, model: str | None, stock: str | None, status: str | None,
               mode: str | None, offset: int, limit: int) -> tuple[Sequence[Any], Total]:
    conditions = ["TRUE"]
    params: dict[str, Any] = {}
    for column, value in (("model_name", model), ("stock_code", stock), ("status", status), ("mode", mode)):
        if value is not None:
            conditions.append(f"o.{column} = :{column}")
            params[column] = value
    return await paged(conn, EVALUATION, "marts.prediction_outcomes o", " AND ".join(conditions),
                       "o.made_at DESC, o.evaluation_id", params, offset, limit)


UNRATED = ("marts.prediction_outcomes o LEFT JOIN app.evaluation_ratings r "
           "ON r.evaluation_id = o.evaluation_id AND r.user_id = :user")


async def queue(conn: AsyncConnection, *, user_id: int, model: str | None, stock: str | None, offset: int,
                limit: int) -> tuple[Sequence[Any], Total]:
    """The final evaluations ``user_id`` has not rated, oldest first."""
    conditions = ["o.status = 'final'", "r.id IS NULL"]
    params: dict[str, Any] = {"user": user_id}
    for column, value in (("model_name", model), ("stock_code", stock)):
        if value is not None:
            conditions.append(f"o.{column} = :{column}")
            params[column] = value
    return await paged(conn, EVALUATION, UNRATED, " AND ".join(conditions), "o.made_at, o.evaluation_id", params,
                       offset, limit)


async def progress(conn: AsyncConnection, user_id: int, day_start: datetime) -> Sequence[Any]:
    """Per model: what ``user_id`` rated (ever, and since ``day_start``) and the final evaluations left."""
    return (await conn.execute(text(
        "SELECT o.model_name, count(r.id) AS rated, count(r.id) FILTER (WHERE r.created_at >= :since) "
        "AS rated_today, count(*) FILTER (WHERE r.id IS NULL AND o.status = 'final') AS left_to_rate "
        f"FROM {UNRATED} GROUP BY o.model_name ORDER BY o.model_name"),
        {"user": user_id, "since": day_start})).all()


async def source_texts(conn: AsyncConnection, evaluation_ids: Sequence[str]) -> dict[str, Any]:
    """What each evaluated item said (by evaluation id): a report's summary, a news prediction's
    reasoning and its article's title; items of a table not built yet have none."""
    found: dict[str, Any] = {}
    ids = {kind: [e.split(":", 1)[1] for e in evaluation_ids if e.startswith(kind + ":")]
           for kind in ("report", "news")}
    if ids["report"] and await table_exists(conn, "computed.stock_reports"):
        for row in await conn.execute(text(
                "SELECT 'report:' || report_id AS id, summary AS body, NULL::text AS title "
                "FROM computed.stock_reports WHERE report_id = ANY(:ids)"), {"ids": ids["report"]}):
            found[row.id] = row
    if ids["news"] and await table_exists(conn, "computed.news_predictions"):
        titles = "a.title" if await table_exists(conn, "marts.news_articles") else "NULL::text"
        joined = ("LEFT JOIN marts.news_articles a ON a.news_id = p.news_id"
                  if titles != "NULL::text" else "")
        for row in await conn.execute(text(
                f"SELECT 'news:' || p.prediction_id AS id, p.reasoning AS body, {titles} AS title "
                f"FROM computed.news_predictions p {joined} WHERE p.prediction_id = ANY(:ids)"),
                {"ids": ids["news"]}):
            found[row.id] = row
    return found


async def one(conn: AsyncConnection, evaluation_id: str) -> Any:
    return (await conn.execute(text(f"SELECT {EVALUATION} FROM marts.prediction_outcomes o "
                                    "WHERE o.evaluation_id = :id"), {"id": evaluation_id})).first()


async def scores(conn: AsyncConnection, evaluation_id: str) -> Any:
    if not await table_exists(conn, "computed.prediction_scores"):
        return None
    return (await conn.execute(text("SELECT * FROM computed.prediction_scores WHERE evaluation_id = :id"),
                               {"id": evaluation_id})).first()


async def human(conn: AsyncConnection, evaluation_ids: Sequence[str] | None = None,
                model: str | None = None) -> Any:
    """Mean ratings of some evaluations (or of every evaluation of a model)."""
    params: dict[str, Any]
    if model is not None:
        where, params = ("r.evaluation_id IN (SELECT evaluation_id FROM marts.prediction_outcomes "
                         "WHERE model_name = :model)"), {"model": model}
    else:
        where, params = "r.evaluation_id = ANY(:ids)", {"ids": list(evaluation_ids or [])}
    return (await conn.execute(text(
        "SELECT count(*) AS n, avg(quality)::float AS quality, avg(usefulness)::float AS usefulness, "
        f"avg(overall)::float AS overall FROM app.evaluation_ratings r WHERE {where}"), params)).one()


async def my_rating(conn: AsyncConnection, evaluation_id: str, user_id: int) -> Any:
    return (await conn.execute(text(f"SELECT {RATING} FROM app.evaluation_ratings "
                                    "WHERE evaluation_id = :e AND user_id = :u"),
                               {"e": evaluation_id, "u": user_id})).first()


async def rating_history(conn: AsyncConnection, rating_id: int) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT changed_at, changed_by, old_values, new_values FROM app.evaluation_rating_history "
        "WHERE rating_id = :r ORDER BY changed_at, id"), {"r": rating_id})).all()


async def save_rating(tx: AsyncConnection, evaluation_id: str, user_id: int, values: dict[str, Any]) -> Any:
    """Insert or change the user's rating, recording the change (old and new values) in the history."""
    before = (await tx.execute(text(
        f"SELECT {RATING} FROM app.evaluation_ratings WHERE evaluation_id = :e AND user_id = :u FOR UPDATE"),
        {"e": evaluation_id, "u": user_id})).first()
    row = (await tx.execute(text(
        "INSERT INTO app.evaluation_ratings (evaluation_id, user_id, quality, usefulness, overall, reason) "
        "VALUES (:e, :u, :quality, :usefulness, :overall, :reason) "
        "ON CONFLICT (evaluation_id, user_id) DO UPDATE SET quality = EXCLUDED.quality, "
        "usefulness = EXCLUDED.usefulness, overall = EXCLUDED.overall, reason = EXCLUDED.reason, "
        f"updated_at = now() RETURNING {RATING}"), {"e": evaluation_id, "u": user_id, **values})).one()
    old = None if before is None else {k: getattr(before, k) for k in values}
    await tx.execute(text(
        "INSERT INTO app.evaluation_rating_history (rating_id, evaluation_id, changed_by, old_values, new_values) "
        "VALUES (:r, :e, :u, CAST(:old AS jsonb), CAST(:new AS jsonb))"),
        {"r": row.id, "e": evaluation_id, "u": user_id, "old": None if old is None else json.dumps(old),
         "new": json.dumps(values)})
    return row


async def leaderboard(conn: AsyncConnection, window_days: int, mode: str | None,
                      model: str | None = None) -> Sequence[Any]:
    conditions = ["l.window_days = :days"] if window_days >= 0 else ["TRUE"]
    params: dict[str, Any] = {"days": window_days}
    if mode is not None:
        conditions.append("l.mode = :mode")
        params["mode"] = mode
    if model is not None:
        conditions.append("l.model_name = :model")
        params["model"] = model
    return (await conn.execute(text(
        "SELECT l.*, m.id AS model_id FROM computed.model_leaderboard l "
        "LEFT JOIN app.models m ON m.name = l.model_name "
        f"WHERE {' AND '.join(conditions)} ORDER BY l.mode, l.window_days, l.model_name"), params)).all()


async def model(conn: AsyncConnection, model_id: int) -> Any:
    return (await conn.execute(text("SELECT id, name FROM app.models WHERE id = :id"), {"id": model_id})).first()


async def daily(conn: AsyncConnection, model_name: str, limit: int) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT * FROM computed.model_daily_performance WHERE model_name = :m ORDER BY day DESC, mode "
        "LIMIT :limit"), {"m": model_name, "limit": limit})).all()


async def by_stock(conn: AsyncConnection, model_name: str) -> Sequence[Any]:
    return (await conn.execute(text(
        "SELECT stock_code, mode, count(*) AS n, count(*) FILTER (WHERE status = 'final') AS n_final, "
        "avg(hit) AS hit_rate, avg(signed_return) AS mean_return, avg(brier) AS brier "
        "FROM computed.prediction_scores WHERE model_name = :m GROUP BY stock_code, mode "
        "ORDER BY stock_code, mode"), {"m": model_name})).all()


async def ab_tests(conn: AsyncConnection) -> Sequence[Any]:
    return (await conn.execute(text(f"SELECT {AB_TEST} FROM {AB_TESTS} ORDER BY t.id DESC"))).all()


async def ab_test(conn: AsyncConnection, ab_test_id: int) -> Any:
    return (await conn.execute(text(f"SELECT {AB_TEST} FROM {AB_TESTS} WHERE t.id = :id"),
                               {"id": ab_test_id})).first()


async def models_exist(conn: AsyncConnection, ids: Sequence[int]) -> set[int]:
    rows = (await conn.execute(text("SELECT id FROM app.models WHERE id = ANY(:ids)"), {"ids": list(ids)})).all()
    return {r.id for r in rows}


async def lock_ab_tests(tx: AsyncConnection) -> None:
    """Serialise changes of the active pair until the transaction ends (one active pair at most)."""
    await tx.execute(text("SELECT pg_advisory_xact_lock(hashtext('azak-ab-tests'))"))


async def active_ab_test(conn: AsyncConnection) -> Any:
    return (await conn.execute(text(f"SELECT {AB_TEST} FROM {AB_TESTS} WHERE t.active"))).first()


async def create_ab_test(tx: AsyncConnection, model_a_id: int, model_b_id: int, min_n: int, note: str | None,
                         user_id: int | None) -> int:
    """A new active pair; the previous active one is kept, deactivated (the history). ``user_id`` is
    None when the system configures the pair (the demo)."""
    await lock_ab_tests(tx)
    await tx.execute(text("UPDATE app.ab_tests SET active = false, deactivated_at = now() WHERE active"))
    new_id: int = (await tx.execute(text(
        "INSERT INTO app.ab_tests (model_a_id, model_b_id, min_n, note, created_by) "
        "VALUES (:a, :b, :n, :note, :u) RETURNING id"),
        {"a": model_a_id, "b": model_b_id, "n": min_n, "note": note, "u": user_id})).scalar_one()
    return new_id


async def ab_results(conn: AsyncConnection, ab_test_id: int) -> Sequence[Any] | None:
    if not await table_exists(conn, "computed.ab_comparisons"):
        return None
    return (await conn.execute(text(
        "SELECT * FROM computed.ab_comparisons WHERE ab_test_id = :id ORDER BY mode, score"),
        {"id": ab_test_id})).all()
