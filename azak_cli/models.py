"""`azak models add|pair|list|set` (the registry in app.models, the active A/B pair, backfills) and
`azak predict` (a stock_reports run)."""

import json
import os
import re
import time
from typing import Any

import psycopg

from azak_cli.errors import UsageError
from azak_cli.runtime.environment import Runtime
from azak_core.baselines import baseline_model_problem
from azak_core.egress import EgressPolicy, EgressSettingError
from azak_core.market import STOCK_CODE
from azak_core.patterns import BASE_URL_PATTERN, ENV_NAME_PATTERN, MODEL_NAME_PATTERN
from azak_core.runs import backfill_window_problem
from azak_pipelines.defs.predictions.tables import STOCK_REPORTS
from azak_pipelines.lib import model_onboarding
from azak_pipelines.runs import dagster_instance, materialization, op_config, require_success, run_job

PROVIDERS = ("openai", "openrouter", "openai-compatible", "baseline", "external")
NAME = re.compile(MODEL_NAME_PATTERN)
ENV_NAME = re.compile(ENV_NAME_PATTERN)
BASE_URL = re.compile(BASE_URL_PATTERN)
LIST_SQL = ("SELECT id, name, provider, model, coalesce(base_url, ''), kind, coalesce(structured, ''), "
            "coalesce(api_key_env, ''), params::text, price_in_per_m::float8, price_out_per_m::float8, active "
            "FROM app.models ORDER BY id")


def _connect(runtime: Runtime) -> psycopg.Connection[Any]:
    from azak_api.admin import run_migrations

    url = runtime.database.render()
    run_migrations(url)
    return psycopg.connect(url, autocommit=True)


def add(runtime: Runtime, args: Any) -> int:
    if not NAME.match(args.name):
        raise UsageError(f"--name must match {NAME.pattern}, got {args.name!r}")
    if args.base_url and not BASE_URL.match(args.base_url):
        raise UsageError(f"--base-url must be an http:// or https:// URL without spaces, got {args.base_url!r}")
    if args.provider == "openai-compatible" and not args.base_url:
        raise UsageError("an openai-compatible model needs --base-url (e.g. http://localhost:8000/v1)")
    problem = baseline_model_problem(args.provider, args.model)
    if problem:
        raise UsageError(f"--model: {problem}")
    if args.api_key_env and not ENV_NAME.match(args.api_key_env):
        raise UsageError(f"--api-key-env must be an environment variable name, got {args.api_key_env!r}")
    try:  # the API's check: a key only from a listed variable, to a listed host
        problem = EgressPolicy.from_environ(os.environ).model_problem(args.provider, args.base_url, args.api_key_env)
    except EgressSettingError as exc:
        raise UsageError(str(exc)) from None
    if problem:
        raise UsageError(problem)
    params = {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens)) if v is not None}
    with _connect(runtime) as conn:
        if args.backfill and args.compare_with and conn.execute(
                "SELECT 1 FROM app.models WHERE name = %s", (args.compare_with,)).fetchone() is None:
            raise UsageError(f"--compare-with: no model named {args.compare_with!r} (see `azak models list`); "
                             "nothing was added")
        try:
            row = conn.execute(
                "INSERT INTO app.models (name, provider, model, base_url, kind, structured, api_key_env, params, "
                "price_in_per_m, price_out_per_m, active) VALUES (%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s) "
                "RETURNING id",
                (args.name, args.provider, args.model, args.base_url, args.kind, args.structured, args.api_key_env,
                 json.dumps(params), args.price_in, args.price_out, not args.inactive)).fetchone()
        except psycopg.errors.UniqueViolation:
            raise UsageError(f"a model named {args.name!r} exists; change it with `azak models set`") from None
    assert row is not None  # INSERT … RETURNING always returns the row
    state = "inactive" if args.inactive else "active"
    print(f"added model {args.name} (id {row[0]}, {args.provider} {args.model}, {state}); "
          "the next prediction run uses it")
    if args.backfill:
        request_backfill(runtime, args, [args.name, args.compare_with] if args.compare_with else [args.name])
    return 0


def check_backfill(args: Any) -> None:
    """Refuse backfill options without --backfill, and a window the run would refuse."""
    options = (("--from", args.backfill_from), ("--to", args.backfill_to), ("--budget", args.budget),
               ("--compare-with", getattr(args, "compare_with", None)))
    given = [flag for flag, value in options if value is not None]
    if given and not args.backfill:
        raise UsageError(f"{', '.join(given)} go with --backfill")
    problem = backfill_window_problem(args.backfill_from, args.backfill_to)
    if problem:
        raise UsageError(problem)
    if args.budget is not None and args.budget < 0:
        raise UsageError(f"--budget must not be negative, got {args.budget}")


def pair(runtime: Runtime, args: Any) -> int:
    """Make ``model_a`` vs ``model_b`` the active A/B pair, as POST /api/ab-tests does."""
    if args.model_a == args.model_b:
        raise UsageError("model A and model B must be two different models")
    if args.backfill:
        request_backfill(runtime, args, [args.model_a, args.model_b])
    else:
        make_pair(runtime, args.model_a, args.model_b, "azak models pair")
    return 0


def make_pair(runtime: Runtime, model_a: str, model_b: str, note: str) -> int:
    from azak_api.admin import ensure_ab_test

    try:
        made = ensure_ab_test(runtime.database.render(), model_a, model_b, note, replace=True)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    print(f"A/B test {made.id}: {model_a} vs {model_b} is the active pair")
    return made.id


def request_backfill(runtime: Runtime, args: Any, names: list[str]) -> int:
    """A backfill request for the model (or the pair ``names``, made the active pair first)."""
    pair_id = make_pair(runtime, names[0], names[1], f"onboarding of {names[0]}") if len(names) == 2 else None
    with _connect(runtime) as conn:
        ids = dict(conn.execute("SELECT name, id FROM app.models WHERE name = ANY(%s)", (names,)).fetchall())
        if len(ids) != len(names):
            raise UsageError(f"no model named {', '.join(set(names) - ids.keys())} (see `azak models list`)")
        request_id = model_onboarding.request(conn, [ids[n] for n in names], "cli", ab_test_id=pair_id,
                                              start=args.backfill_from, end=args.backfill_to, budget_usd=args.budget)
    print(f"backfill request {request_id} for {' vs '.join(names)}: the daemon's model_onboarding_sensor starts "
          "its run (predictions and reports over the window, then the evaluation); follow it in Dagit, "
          "GET /api/models or GET /api/ab-tests")
    return request_id


LIST_KEYS = ("id", "name", "provider", "model", "base_url", "kind", "structured", "api_key_env", "params",
             "price_in_per_m", "price_out_per_m", "active")


def list_models(runtime: Runtime, as_json: bool = False) -> int:
    with _connect(runtime) as conn:
        rows = conn.execute(LIST_SQL).fetchall()
    if as_json:
        models = [dict(zip(LIST_KEYS, r, strict=True)) | {"params": json.loads(r[8])} for r in rows]
        print(json.dumps(models, ensure_ascii=False))
        return 0
    header = ("id", "name", "provider", "model", "base_url", "kind", "structured", "key env", "params",
              "$/M in", "$/M out", "active")
    table = [header, *[tuple(str(v) for v in r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0


def set_model(runtime: Runtime, name: str, active: bool) -> int:
    with _connect(runtime) as conn:
        found = conn.execute("UPDATE app.models SET active = %s, updated_at = now() WHERE name = %s RETURNING id",
                             (active, name)).fetchone()
    if not found:
        raise UsageError(f"no model named {name!r} (see `azak models list`)")
    print(f"{name} is now {'active' if active else 'inactive'}")
    return 0


def predict(runtime: Runtime, code: str, model: str | None) -> int:
    """Run stock_reports for today's partition and one stock; print the reports as JSON."""
    from azak_pipelines.definitions import defs
    from azak_pipelines.defs.common import kst_today

    if not STOCK_CODE.match(code):
        raise UsageError(f"--stock must be 6 characters [0-9A-Z], got {code!r}")
    config: dict[str, Any] = {"stocks": [code]}
    if model:
        config["models"] = [model]
    day = str(kst_today())
    print(f"running stock_reports for {code} ({day}, {model or 'every active model'})…", flush=True)
    started = time.monotonic()
    result = run_job(defs(), dagster_instance(), "stock_reports_job", (day, day),
                     op_config(STOCK_REPORTS, config), {"azak/origin": "cli"})
    require_success(result, "the run")
    ids = (materialization(result, STOCK_REPORTS) or {}).get("report_ids", [])
    with psycopg.connect(runtime.database.render()) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_jsonb(r) FROM computed.stock_reports AS r WHERE report_id = ANY(%s) "
                    "ORDER BY model_name", (ids,))
        reports = [row[0] for row in cur.fetchall()]
    print(json.dumps(reports, ensure_ascii=False, indent=2, default=str))
    failed = [r for r in reports if r["status"] != "ok"]
    print(f"{len(reports)} report(s) in {time.monotonic() - started:.1f} s (run {result.run_id})", flush=True)
    for r in failed:
        print(f"azak: {r['model_name']} {r['status']}: {r['error_class']}: {r['error_message']}")
    return 1 if failed or not reports else 0
