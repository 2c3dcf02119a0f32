"""`azak import predictions` and `azak evaluate`: Dagster runs, then the leaderboard."""


import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from azak_cli import progress
from azak_cli.errors import UsageError
from azak_cli.output import print_json
from azak_cli.runtime.environment import Runtime
from azak_pipelines.defs.evaluation.tables import EXTERNAL_PREDICTIONS
from azak_pipelines.lib.warehouse import missing_tables
from azak_pipelines.runs import dagster_instance, materialization, op_config, require_success, run_job

# what the evaluation reads, and the job that builds it on an empty warehouse
PREREQUISITES = (("marts.trading_days", "reference_job"), ("marts.daily_prices", "market_marts_job"),
                 ("marts.index_daily", "market_marts_job"))


def _ensure_app_schema(runtime: Runtime) -> None:
    from azak_api.admin import run_migrations

    run_migrations(runtime.database.render())


def import_predictions(runtime: Runtime, paths: list[Path], quiet: bool = False,
                       bars: bool = False) -> dict[str, Any]:
    """Load JSON Lines predictions through ``computed/external_predictions`` (one run); with
    ``bars``, a bar of files read, then a spinner while the run writes them."""
    from azak_pipelines.definitions import defs
    from azak_pipelines.lib.evaluation.external import PredictionFileError, read_prediction_file

    say = (lambda *_: None) if quiet else print
    paths = [p.expanduser().resolve() for p in paths]
    valid = rejected = 0
    for path in progress.each_file(paths, "reading", bars):
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        try:
            parsed = read_prediction_file(path)
        except PredictionFileError as exc:
            raise UsageError(str(exc)) from None
        valid += len(parsed.predictions)
        rejected += len(parsed.rejected)
        for row in parsed.rejected[:10]:
            say(f"  rejected {row.locator}: {row.reason}")
    say(f"{len(paths)} file(s): {valid:,} valid predictions, {rejected:,} rejected (quarantined)")
    if not valid:
        raise UsageError("no valid predictions to import")
    _ensure_app_schema(runtime)
    started = time.monotonic()
    with progress.working("writing through computed/external_predictions", bars):
        result = run_job(defs(), dagster_instance(), "external_predictions_job",
                         run_config=op_config(EXTERNAL_PREDICTIONS, {"paths": [str(p) for p in paths]}),
                         tags={"azak/origin": "import"})
    require_success(result, "the import run")
    report = materialization(result, EXTERNAL_PREDICTIONS) or {}
    say(f"done in {time.monotonic() - started:.1f} s: {report.get('rows_new', 0):,} new predictions, "
        f"{report.get('rows_rejected', 0):,} quarantined, models registered: {report.get('models_registered')} "
        f"(run {result.run_id}); `azak evaluate` scores them")
    return {"run_id": result.run_id, **report}


def _missing(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        missing = set(missing_tables(conn, [table for table, _ in PREREQUISITES]))
    jobs = [job for table, job in PREREQUISITES if table in missing]
    return list(dict.fromkeys(jobs))


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}%" if percent else f"{value:.3f}"


def evaluate(runtime: Runtime, model: str | None, start: date | None, end: date | None,
             as_json: bool) -> list[dict[str, Any]]:
    """Materialize the evaluation (outcomes, scores, leaderboard, A/B), then summarize."""
    from azak_pipelines.definitions import defs as load_defs
    from azak_pipelines.defs.evaluation.assets import load_scored
    from azak_pipelines.lib.evaluation.report import model_summaries
    from azak_pipelines.lib.warehouse import connect

    def say(text: str) -> None:
        print(text, file=sys.stderr if as_json else sys.stdout, flush=True)

    if start and end and start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    url = runtime.database.render()
    _ensure_app_schema(runtime)
    defs = load_defs()
    instance = dagster_instance()
    for job in _missing(url):
        say(f"the warehouse lacks what evaluation reads: running {job} first…")
        result = run_job(defs, instance, job, tags={"azak/origin": "evaluate"})
        require_success(result, f"the {job} run")
    say("evaluating every prediction that is not final yet (evaluation_job)…")
    started = time.monotonic()
    result = run_job(defs, instance, "evaluation_job", tags={"azak/origin": "evaluate"})
    require_success(result, "the evaluation run")
    say(f"evaluated in {time.monotonic() - started:.1f} s (run {result.run_id})")
    with connect(url) as conn:
        items = load_scored(conn)
    if model is not None and not any(s.outcome.model_name == model for s in items):
        known = sorted({s.outcome.model_name for s in items})
        raise UsageError(f"no evaluated predictions of model {model!r}; models with predictions: "
                         f"{', '.join(known) or 'none'}")
    models = model_summaries(items, model, start, end)
    if as_json:
        print_json({"models": models})
        return models
    if not models:
        print("no predictions to evaluate yet")
        return models
    print(f"{'model':<24} {'mode':<10} {'n':>6} {'final':>6} {'hit':>7} {'return':>8} {'excess':>8} "
          f"{'Brier':>6} {'ECE':>6} {'target':>7} {'stop':>7} {'IC':>7} {'rank IC':>7}")
    for m in models:
        print(f"{m['model']:<24} {m['mode']:<10} {m['n']:>6} {m['n_final']:>6} {_fmt(m['hit_rate'], True):>7} "
              f"{_fmt(m['mean_return'], True):>8} {_fmt(m['mean_excess_return'], True):>8} {_fmt(m['brier']):>6} "
              f"{_fmt(m['ece']):>6} {_fmt(m['target_hit_rate'], True):>7} {_fmt(m['stop_hit_rate'], True):>7} "
              f"{_fmt(m['ic']):>7} {_fmt(m['rank_ic']):>7}")
    print("rates and means cover final evaluations; 95 % bootstrap intervals with --json")
    return models
