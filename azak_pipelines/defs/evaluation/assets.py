"""Evaluation: imported external predictions, per-prediction scores, per-model performance, the
leaderboard and A/B comparisons. Outcomes come from the dbt mart ``marts.prediction_outcomes``."""

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg

from azak_pipelines.defs.automation import EAGER
from azak_pipelines.defs.common import AssetOptions, AssetResult, preview
from azak_pipelines.defs.evaluation import tables
from azak_pipelines.defs.evaluation.tables import PREDICTION_SCORES
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib import plots
from azak_pipelines.lib.calendar.krx_calendar import CalendarRangeError, krx_calendar, kst_day, utc_now
from azak_pipelines.lib.evaluation import ab, report
from azak_pipelines.lib.evaluation.external import PredictionFileError, read_prediction_file
from azak_pipelines.lib.evaluation.metrics import Scored, daily_ic, group_by, summarize
from azak_pipelines.lib.evaluation.scores import Outcome, Score, score
from azak_pipelines.lib.quarantine import Rejected, reasons_summary, record_quarantine
from azak_pipelines.lib.sql_files import load_queries
from azak_pipelines.lib.warehouse import merge_rows, replace_slice, scalar, table_exists

QUERIES = Path(__file__).with_name("queries.sql")
OUTCOMES = dg.AssetKey(["marts", "prediction_outcomes"])
SCORES = dg.AssetKey([tables.PREDICTION_SCORES.schema, tables.PREDICTION_SCORES.name])
EVALUATION: AssetOptions = {"group_name": "evaluation", "kinds": {"postgres", "python"}}
DOWNSTREAM: AssetOptions = {**EVALUATION, "automation_condition": EAGER}


def _query(conn: psycopg.Connection[Any], name: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return conn.execute(load_queries(QUERIES)[name], params).fetchall()


class ExternalPredictionsConfig(dg.Config):
    paths: list[str] = []


def _register_models(conn: psycopg.Connection[Any], names: set[str]) -> tuple[dict[str, int], list[str]]:
    """Model ids by name; names not in the registry are added with provider ``external``."""
    if not table_exists(conn, "app.models"):
        raise dg.Failure("the model registry app.models does not exist: run `azak db migrate` first")
    ids = dict(conn.execute("SELECT name, id FROM app.models WHERE name = ANY(%s)", (sorted(names),)).fetchall())
    added = sorted(names - ids.keys())
    with conn.transaction():
        for name in added:
            ids[name] = scalar(
                conn, "INSERT INTO app.models (name, provider, model, active) VALUES (%s, 'external', %s, true) "
                "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id", (name, name))
    return ids, added


@dg.asset(key=[tables.EXTERNAL_PREDICTIONS.schema, tables.EXTERNAL_PREDICTIONS.name], **EVALUATION)
def external_predictions(context: dg.AssetExecutionContext, config: ExternalPredictionsConfig,
                         warehouse: Warehouse) -> AssetResult:
    """Predictions of other systems from JSON Lines files (``azak import predictions``).

    Bad lines are quarantined (``ops.quarantine``) with file, line and reason; models not in
    ``app.models`` are registered with provider ``external``. A prediction is keyed by (model,
    code, made_at, horizon): re-importing a file changes nothing. It is ``live`` when imported
    before its anchor session closed (so it could not have seen the outcome), else ``simulated``.
    """
    if not config.paths:
        raise dg.Failure("no files to import: give their paths in the run config (paths), "
                         "or run `azak import predictions FILE.jsonl`")
    imported_at = utc_now()
    calendar = krx_calendar()
    accepted, rejected = [], []
    for raw_path in config.paths:
        try:
            parsed = read_prediction_file(Path(raw_path))
        except PredictionFileError as exc:
            raise dg.Failure(str(exc)) from None
        rejected += [Rejected(r.locator, r.reason, r.raw) for r in parsed.rejected]
        for p in parsed.predictions:
            try:
                anchor_close = calendar.session(calendar.anchor_session(p.made_at)).close
            except CalendarRangeError as exc:
                rejected.append(Rejected(p.locator, f"made_at: {exc}", None))
                continue
            accepted.append((p, "live" if imported_at <= anchor_close else "simulated"))
    today = kst_day(imported_at)
    with warehouse.connect() as conn:
        ids, added = _register_models(conn, {p.model_name for p, _ in accepted})
        rows = [(p.prediction_id, p.made_day, ids[p.model_name], p.model_name, p.stock_code, p.made_at,
                 p.horizon_sessions, p.direction, p.probability, p.base_price, p.target_price, p.stop_price,
                 mode, p.locator, imported_at) for p, mode in accepted]
        metadata: dict[str, Any] = {"rows_new": 0}
        if rows:
            first = min(r[1] for r in rows)
            last = max(r[1] for r in rows)
            result = merge_rows(conn, tables.EXTERNAL_PREDICTIONS, rows, first, last + timedelta(days=1))
            metadata = result.metadata()
        record_quarantine(conn, "computed/external_predictions", today, today + timedelta(days=1),
                          rejected, imported_at)
    context.log.info(f"{len(rows)} valid predictions, {len(rejected)} lines quarantined")
    return dg.MaterializeResult(metadata={
        **metadata, "rows_valid": len(rows), "rows_rejected": len(rejected),
        "models_registered": ", ".join(added) or "none",
        "rejected": dg.MetadataValue.md(reasons_summary(rejected)),
    })


def load_outcomes(conn: psycopg.Connection[Any]) -> list[Outcome]:
    """Every row of ``marts.prediction_outcomes`` (none when the mart was never built)."""
    if not table_exists(conn, "marts.prediction_outcomes"):
        return []
    with conn.cursor() as cursor:
        cursor.execute(load_queries(QUERIES)["outcomes"])
        names = [c.name for c in cursor.description or []]
        outcomes = []
        for row in cursor.fetchall():
            fields = dict(zip(names, row, strict=True))
            outcomes.append(Outcome(made_day=kst_day(fields["made_at"]), **fields))
    return outcomes


def load_scored(conn: psycopg.Connection[Any]) -> list[Scored]:
    """Outcomes with their stored scores (``computed.prediction_scores``)."""
    outcomes = {o.evaluation_id: o for o in load_outcomes(conn)}
    if not outcomes or not table_exists(conn, PREDICTION_SCORES):
        return []
    fields = list(Score.__dataclass_fields__)
    rows = conn.execute(
        f"SELECT evaluation_id, {', '.join(fields)} FROM computed.prediction_scores").fetchall()
    return [Scored(outcomes[r[0]], Score(**dict(zip(fields, r[1:], strict=True))))
            for r in rows if r[0] in outcomes]


def load_failed(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    if not table_exists(conn, "staging.stg_predictions__items"):
        return []
    return _query(conn, "failed_attempts")


@dg.asset(key=[tables.PREDICTION_SCORES.schema, tables.PREDICTION_SCORES.name], deps=[OUTCOMES], **DOWNSTREAM)
def prediction_scores(warehouse: Warehouse) -> AssetResult:
    """Per prediction: hit, return and excess in the stated direction, Brier, signed score,
    ambition z and the ambition-adjusted target score, and the legacy 0–100 scores (labelled legacy).
    Realised scores only for final outcomes; the table is rebuilt whole (it follows the mart)."""
    with warehouse.connect() as conn:
        outcomes = load_outcomes(conn)
        rows = []
        for o in outcomes:
            s = score(o)
            rows.append((o.evaluation_id, o.made_day, o.source_kind, o.model_name, o.mode, o.stock_code,
                         o.status, *s.as_dict().values()))
        result = replace_slice(conn, tables.PREDICTION_SCORES, rows)
    statuses = {status: sum(o.status == status for o in outcomes) for status in ("pending", "partial", "final")}
    return dg.MaterializeResult(metadata={
        **result.metadata(), **{f"n_{k}": v for k, v in statuses.items()},
        "preview": preview(rows, tables.PREDICTION_SCORES.column_names[:10]),
    })


@dg.asset(key=[tables.MODEL_DAILY_PERFORMANCE.schema, tables.MODEL_DAILY_PERFORMANCE.name], deps=[SCORES],
          **DOWNSTREAM)
def model_daily_performance(warehouse: Warehouse) -> AssetResult:
    """Per model × mode × KST day the predictions were made: n, final, failed, hit rate, mean
    return and excess in the stated direction, Brier, target/stop hit rates, target score, IC and
    rank IC across stocks that day, and the legacy auto score."""
    with warehouse.connect() as conn:
        items = load_scored(conn)
        failed = report.failed_counts(load_failed(conn))
        groups = group_by(items, lambda s: (s.outcome.model_name, s.outcome.mode, s.outcome.made_day))
        rows = []
        for key in sorted(groups.keys() | failed.keys()):
            chosen = groups.get(key, [])
            summary = summarize(chosen)
            ics = daily_ic(chosen)
            rows.append((*key, summary["n"], summary["n_final"], failed.get(key, 0), summary["hit_rate"],
                         summary["mean_return"], summary["mean_excess_return"], summary["brier"],
                         summary["target_hit_rate"], summary["stop_hit_rate"], summary["target_score"],
                         ics[0]["ic"] if ics else None, ics[0]["rank_ic"] if ics else None,
                         summary["legacy_auto"]))
        result = replace_slice(conn, tables.MODEL_DAILY_PERFORMANCE, rows)
    hit_rates: dict[str, list[tuple[date, float]]] = {}
    for model, mode, day, *values in rows:
        if values[3] is not None:  # hit_rate: None until a prediction of the day is final
            hit_rates.setdefault(f"{model} ({mode})", []).append((day, values[3]))
    return dg.MaterializeResult(metadata={
        **result.metadata(), "preview": preview(rows[-10:], tables.MODEL_DAILY_PERFORMANCE.column_names),
        "daily_hit_rate": dg.MetadataValue.md(plots.markdown_image("daily hit rate", plots.daily_series(
            hit_rates, "Hit rate per KST day the predictions were made", "hit rate"))),
    })


def _as_of(conn: psycopg.Connection[Any]) -> date | None:
    if not table_exists(conn, "marts.daily_prices"):
        return None
    as_of: date | None = _query(conn, "as_of")[0][0]
    return as_of


@dg.asset(key=[tables.MODEL_LEADERBOARD.schema, tables.MODEL_LEADERBOARD.name], deps=[SCORES], **DOWNSTREAM)
def model_leaderboard(warehouse: Warehouse) -> AssetResult:
    """Per model × mode (live and simulated apart) over the last 7, 30, 90 days and everything
    (window_days 0) before the last priced session: every score with its 95 % bootstrap CI
    (fixed seed), and the 10-bin reliability table. Dagit shows the all-time table and the
    reliability diagram as a picture."""
    with warehouse.connect() as conn:
        items = load_scored(conn)
        failed = report.failed_counts(load_failed(conn))
        as_of = _as_of(conn)
        rows = report.leaderboard(items, failed, as_of) if as_of else []
        result = replace_slice(conn, tables.MODEL_LEADERBOARD, [
            (r["model_name"], r["mode"], r["window_days"], r["as_of"], r["n"], r["n_final"], r["n_failed"],
             json.dumps(r["scores"], default=str), json.dumps(r["ci"]), json.dumps(r["reliability"]))
            for r in rows])
    return dg.MaterializeResult(metadata={
        **result.metadata(), "as_of": str(as_of),
        "leaderboard": dg.MetadataValue.md(report.markdown(rows)),
        "reliability_diagram": dg.MetadataValue.md(plots.markdown_image(
            "reliability diagram", plots.reliability_diagram(report.reliability_curves(rows)))),
    })


def _ab_tests(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    if not table_exists(conn, "app.ab_tests"):
        return []
    return _query(conn, "ab_tests")


@dg.asset(key=[tables.AB_COMPARISONS.schema, tables.AB_COMPARISONS.name], deps=[SCORES], **DOWNSTREAM)
def ab_comparisons(warehouse: Warehouse) -> AssetResult:
    """Every A/B pair configured by admins (``app.ab_tests``, history included), live and simulated
    apart: per score, the items both models answered, the mean difference A − B with a 95 % paired
    bootstrap CI, the sign-test p-value, and "not enough data" below the pair's minimum n."""
    with warehouse.connect() as conn:
        items = load_scored(conn)
        tests = _ab_tests(conn)
        by_model = group_by(items, lambda s: (s.outcome.model_name, s.outcome.mode))
        rows = []
        for test_id, model_a, model_b, min_n in tests:
            for mode in ("live", "simulated"):
                for r in ab.compare(by_model.get((model_a, mode), []), by_model.get((model_b, mode), []), min_n):
                    rows.append((test_id, model_a, model_b, mode, r["score"], r["n"], r["higher_is_better"],
                                 r["mean_a"], r["mean_b"], r["mean_diff"], r["ci_low"], r["ci_high"],
                                 r["sign_test_p"], r["min_n"], r["verdict"]))
        result = replace_slice(conn, tables.AB_COMPARISONS, rows)
    columns = ["ab_test_id", "model_a", "model_b", "mode", "score", "n", "mean_diff", "ci_low", "ci_high",
               "sign_test_p", "verdict"]
    shown = [(r[0], r[1], r[2], r[3], r[4], r[5], *(None if v is None else round(v, 4) for v in (r[9], r[10], r[11],
                                                                                              r[12])), r[14])
             for r in rows]
    intervals = [(f"#{r[0]} {r[1]} vs {r[2]} · {r[3]} · {r[4]}", r[9], r[10], r[11]) for r in rows
                 if None not in (r[9], r[10], r[11])]
    return dg.MaterializeResult(metadata={
        **result.metadata(), "pairs": len(tests),
        **({"differences": dg.MetadataValue.md(plots.markdown_image("A/B differences", plots.differences_with_intervals(
            intervals, "A/B: mean difference per score with its 95 % CI")))} if intervals else {}),
        "comparisons": preview(shown, columns, limit=40) if rows else dg.MetadataValue.md(
            "no A/B pair configured yet (POST /api/ab-tests)"),
    })
