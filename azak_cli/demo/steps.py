"""The steps of `azak demo`: materialize the bundled sample window, print a summary.

Each step is a real run in the Dagster instance (so it shows in Dagit). A step is recorded as done
in ``ops.demo_steps`` only after its run succeeds, together with a fingerprint of the code and the
sample data: re-running skips finished steps and redoes interrupted or outdated ones.
"""

import hashlib
import time
from typing import Any

import psycopg

from azak_cli.demo.plan import DEMO_STEPS, DemoStep
from azak_cli.runtime.environment import PROJECT_ROOT, Runtime

STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.demo_steps (
    step text PRIMARY KEY,
    fingerprint text NOT NULL,
    run_id text NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
"""
# azak_core too: the pipelines' embedder and vector-store schema live there (a new schema must rebuild Milvus);
# the plan: a step's new range redoes it
FINGERPRINTED = ("azak_pipelines", "azak_core", "azak_cli/demo/plan.py", "dbt_project/models", "dbt_project/macros",
                 "dbt_project/seeds", "dbt_project/dbt_project.yml")


def fingerprint() -> str:
    """A hash of the pipeline code (with the core it imports), dbt project and bundled data (names, sizes,
    contents)."""
    digest = hashlib.sha256()
    for root in FINGERPRINTED:
        path = PROJECT_ROOT / root
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:20]


def _finished_steps(url: str, current: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(STATE_DDL)
        rows = conn.execute("SELECT step, fingerprint FROM ops.demo_steps").fetchall()
    return {step for step, print_ in rows if print_ == current}


def _record(url: str, step: str, current: str, run_id: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ops.demo_steps (step, fingerprint, run_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (step) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
            "run_id = EXCLUDED.run_id, finished_at = now()",
            (step, current, run_id),
        )


DEMO_ADMIN = "admin@azak.local"


def ensure_demo_admin(runtime: Runtime) -> tuple[str, str]:
    """The demo's admin account; its password is generated once and kept under AZAK_HOME."""
    import secrets

    from azak_api.admin import upsert_user

    path = runtime.home / "demo-admin-password"
    if not path.exists():
        runtime.home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    password = path.read_text().strip()
    upsert_user(runtime.database.render(), DEMO_ADMIN, password, admin=True, reset=True)
    return DEMO_ADMIN, password


DEMO_AB_TEST = ("baseline", "momentum")


def ensure_demo_ab_test(runtime: Runtime) -> bool:
    """An active A/B pair for the evaluation step: the full baseline against its price-only variant
    (does the news context add anything over momentum alone?), unless a pair is active already.
    Returns whether the pair was made now."""
    from azak_api.admin import ensure_ab_test

    pair = ensure_ab_test(runtime.database.render(), *DEMO_AB_TEST,
                          note="demo: does news context add anything over price momentum alone?")
    state = "configured now" if pair.created else "active already"
    print(f"A/B test {pair.id}: {pair.model_a} vs {pair.model_b} ({state})", flush=True)
    return pair.created


def _run_step(runtime: Runtime, definitions: Any, instance: Any, step: DemoStep, label: str) -> str:
    """Run one step (a job, or files through ``azak import prices``); returns its run's id."""
    from azak_cli.market import import_prices
    from azak_pipelines.lib.sample_data import sample_data_dir
    from azak_pipelines.runs import failure, run_job

    started = time.monotonic()
    if step.price_files:
        print(f"{label}: azak import prices {' '.join(step.price_files)}…", flush=True)
        report = import_prices(runtime, [sample_data_dir() / p for p in step.price_files], quiet=True)
        run_id: str = report["run_id"]
        return run_id
    if step.job is None:
        raise RuntimeError(f"demo step {step.name!r} names neither a job nor price files")
    span = f" ({step.partition_range[0]} … {step.partition_range[1]})" if step.partition_range else ""
    print(f"{label}: running {step.job}{span}…", flush=True)
    result = run_job(definitions, instance, step.job, step.partition_range, step.run_config,
                     {"azak/origin": "demo"})
    if not result.success:
        raise RuntimeError(f"{step.job} failed after {time.monotonic() - started:.1f} s "
                           f"(run {result.run_id}):\n  {failure(result)}")
    return str(result.run_id)


def steps_to_skip(runtime: Runtime, url: str, current: str, refresh: bool) -> set[str]:
    """The steps done for this code and data (none with ``refresh``), after preparing what the
    steps read: the app schema, the demo's subscriber and its A/B pair."""
    from azak_api.admin import run_migrations
    from azak_cli.telegram import ensure_demo_subscriber

    run_migrations(url)  # the model registry (app.models) drives the prediction steps
    done = set() if refresh else _finished_steps(url, current)
    ensure_demo_subscriber(runtime)  # the notifications step writes its (never sent) messages
    if ensure_demo_ab_test(runtime):  # a new pair is compared by the evaluation step: run it again
        done -= {step.name for step in DEMO_STEPS if step.job == "evaluation_job"}
    return done


def materialize_sample(runtime: Runtime, refresh: bool = False) -> None:
    """Run every demo step not done yet for this code and data, then print the summary."""
    from azak_pipelines.definitions import defs as load_defs
    from azak_pipelines.runs import dagster_instance

    url = runtime.database.render()
    current = fingerprint()
    done = steps_to_skip(runtime, url, current, refresh)
    print("loading the Dagster code location…", flush=True)
    definitions = load_defs()
    instance = dagster_instance()
    total = len(DEMO_STEPS)
    for number, step in enumerate(DEMO_STEPS, start=1):
        label = f"[{number}/{total}] {step.name}"
        if step.name in done:
            print(f"{label}: already materialized for this code and data, skipped")
            continue
        started = time.monotonic()
        run_id = _run_step(runtime, definitions, instance, step, label)
        _record(url, step.name, current, run_id)
        print(f"{label}: done in {time.monotonic() - started:.1f} s (run {run_id[:8]})", flush=True)
    print_summary(definitions, instance, url)


def summary_rows(definitions: Any, instance: Any, url: str) -> list[tuple[str, str, str]]:
    """(asset, partitions materialized, rows in its table) for every asset of the graph."""
    from dagster import AssetKey

    from azak_pipelines.lib.warehouse import table_exists

    rows = []
    graph = definitions.resolve_asset_graph()
    with psycopg.connect(url, autocommit=True) as conn:
        for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
            node = graph.get(key)
            if node.partitions_def is not None:
                count = len(instance.get_materialized_partitions(AssetKey(key.path)))
                partitions = f"{count}"
            else:
                partitions = "-" if instance.get_latest_materialization_event(key) is None else "1"
            table_rows = "-"
            if len(key.path) == 2 and table_exists(conn, ".".join(key.path)):
                schema, table = key.path
                count_row = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
                table_rows = f"{count_row[0]:,}" if count_row else "0"
            rows.append((key.to_user_string(), partitions, table_rows))
    return rows


def print_summary(definitions: Any, instance: Any, url: str) -> None:
    rows = summary_rows(definitions, instance, url)
    widths = [max(len(r[i]) for r in [("asset", "partitions", "rows"), *rows]) for i in range(3)]
    header = ("asset", "partitions", "rows")
    print()
    print(f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:>{widths[2]}}")
    print(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}")
    for asset, partitions, count in rows:
        print(f"{asset:<{widths[0]}}  {partitions:>{widths[1]}}  {count:>{widths[2]}}")
    print()


