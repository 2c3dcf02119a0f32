"""`azak demo`: materialize the bundled sample window, print a summary, then serve.

Each step is a real run in the Dagster instance (so it shows in Dagit). A step is recorded as done
in ``ops.demo_steps`` only after its run succeeds, together with a fingerprint of the code and the
sample data: re-running skips finished steps and redoes interrupted or outdated ones.
"""

import contextlib
import hashlib
import sys
import time
from typing import Any

import psycopg

from azak_cli.environment import PROJECT_ROOT, Runtime

STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.demo_steps (
    step text PRIMARY KEY,
    fingerprint text NOT NULL,
    run_id text NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
"""
# azak_core too: the pipelines' embedder and vector-store schema live there (a new schema must rebuild Milvus)
FINGERPRINTED = ("azak_pipelines", "azak_core", "dbt_project/models", "dbt_project/macros", "dbt_project/seeds",
                 "dbt_project/dbt_project.yml")


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


def cli_instance() -> Any:
    """The real Dagster instance (``DAGSTER_HOME``, the project's dagster.yaml), with the pools'
    limits in place."""
    from dagster import DagsterInstance

    from azak_pipelines.defs.pools import ensure_pool_limits

    instance = DagsterInstance.get()
    ensure_pool_limits(instance)
    return instance


DEMO_ADMIN = "admin@azak.local"


def ensure_demo_admin(runtime: Runtime) -> tuple[str, str]:
    """The demo's admin account; its password is generated once and kept under AZAK_HOME."""
    import secrets

    from azak_api.cli import upsert_user

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
    from azak_api.cli import ensure_ab_test

    pair = ensure_ab_test(runtime.database.render(), *DEMO_AB_TEST,
                          note="demo: does news context add anything over price momentum alone?")
    state = "configured now" if pair.created else "active already"
    print(f"A/B test {pair.id}: {pair.model_a} vs {pair.model_b} ({state})", flush=True)
    return pair.created


def run_job(defs: Any, instance: Any, job_name: str, partition_range: tuple[str, str] | None = None,
            run_config: dict[str, Any] | None = None, tags: dict[str, str] | None = None) -> Any:
    """Execute a job of the code location, recorded in ``instance``: in this process, or with the
    configured executor's workers running its steps.

    What the run prints (dbt's log lines) goes to standard error: standard output is the command's
    answer, which ``--json`` callers parse.
    """
    run_tags = dict(tags or {})
    if partition_range is not None:
        run_tags["dagster/asset_partition_range_start"] = partition_range[0]
        run_tags["dagster/asset_partition_range_end"] = partition_range[1]
    config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    config.update(run_config or {})
    job = defs.resolve_job_def(job_name)
    with contextlib.redirect_stdout(sys.stderr):
        if job.executor_def.name == "in_process":
            return job.execute_in_process(instance=instance, run_config=config, tags=run_tags, raise_on_error=False)
        # Another executor (AZAK_EXECUTOR=celery) runs steps in other processes, which load the
        # job again from azak_pipelines.definitions.job
        import warnings

        import dagster as dg

        reconstructable = dg.build_reconstructable_job("azak_pipelines.definitions", "job",
                                                       reconstructable_args=(job_name,))
        with warnings.catch_warnings():
            # dagster-celery registers its task again for every step it submits; Celery keeps the
            # first registration (the same function) and warns each time
            warnings.filterwarnings("ignore", message="Task name 'execute_plan' is already registered")
            return dg.execute_job(reconstructable, instance, run_config=config, tags=run_tags,
                                  raise_on_error=False)


def materialize_sample(runtime: Runtime, refresh: bool = False) -> None:
    from azak_api.cli import run_migrations
    from azak_pipelines.definitions import defs as load_defs
    from azak_pipelines.demo_plan import DEMO_STEPS

    url = runtime.database.render()
    run_migrations(url)  # the model registry (app.models) drives the prediction steps
    current = fingerprint()
    done = set() if refresh else _finished_steps(url, current)
    from azak_cli.telegram import ensure_demo_subscriber

    ensure_demo_subscriber(runtime)  # the notifications step writes its (never sent) messages
    if ensure_demo_ab_test(runtime):  # a new pair is compared by the evaluation step: run it again
        done -= {step.name for step in DEMO_STEPS if step.job == "evaluation_job"}
    print("loading the Dagster code location…", flush=True)
    definitions = load_defs()
    instance = cli_instance()
    total = len(DEMO_STEPS)
    for number, step in enumerate(DEMO_STEPS, start=1):
        label = f"[{number}/{total}] {step.name}"
        if step.name in done:
            print(f"{label}: already materialized for this code and data, skipped")
            continue
        started = time.monotonic()
        if step.price_files:
            from azak_cli.market import import_prices
            from azak_pipelines.lib.sample_data import sample_data_dir

            print(f"{label}: azak import prices {' '.join(step.price_files)}…", flush=True)
            report = import_prices(runtime, [sample_data_dir() / p for p in step.price_files], quiet=True)
            run_id = report["run_id"]
        elif step.job is not None:
            span = f" ({step.partition_range[0]} … {step.partition_range[1]})" if step.partition_range else ""
            print(f"{label}: running {step.job}{span}…", flush=True)
            result = run_job(definitions, instance, step.job, step.partition_range, step.run_config,
                             {"azak/origin": "demo"})
            if not result.success:
                failures = [
                    event.message for event in result.all_events
                    if event.event_type_value in {"STEP_FAILURE", "RUN_FAILURE"}
                ]
                detail = "\n  ".join(m for m in failures if m) or "see the run in Dagit"
                raise RuntimeError(f"{step.job} failed after {time.monotonic() - started:.1f} s "
                                   f"(run {result.run_id}):\n  {detail}")
            run_id = result.run_id
        else:
            raise RuntimeError(f"demo step {step.name!r} names neither a job nor price files")
        _record(url, step.name, current, run_id)
        print(f"{label}: done in {time.monotonic() - started:.1f} s (run {run_id[:8]})", flush=True)
    print_summary(definitions, instance, url)


def summary_rows(definitions: Any, instance: Any, url: str) -> list[tuple[str, str, str]]:
    """(asset, partitions materialized, rows in its table) for every asset of the graph."""
    from dagster import AssetKey

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
            if len(key.path) == 2:
                exists = conn.execute("SELECT to_regclass(%s)", (".".join(key.path),)).fetchone()
                if exists and exists[0] is not None:
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


