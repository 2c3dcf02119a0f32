"""The steps of `azak demo`: materialize the bundled sample window, print a summary.

Each step is a real run in the Dagster instance (so it shows in Dagit). A step is recorded as done
in ``ops.demo_steps`` only after its run succeeds, together with a fingerprint of the code and the
sample data: re-running skips finished steps and redoes interrupted or outdated ones.
"""

import hashlib
import importlib
import os
import pkgutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
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


# Dagster's job of every asset (what Dagit's "Materialize" button launches): a step over several
# jobs' assets runs them as one run of it
IMPLICIT_JOB = "__ASSET_JOB"


def step_run(definitions: Any, step: DemoStep) -> tuple[str, list[str] | None]:
    """The job a step runs and the assets of it it runs (None: all of them)."""
    from azak_pipelines.defs.dbt.assets import dbt_models

    if not step.jobs:
        raise RuntimeError(f"demo step {step.name!r} names neither a job nor price files")
    if len(step.jobs) == 1 and step.dbt is None:
        return step.jobs[0], None
    keys = set().union(*(definitions.resolve_job_def(job).asset_layer.selected_asset_keys for job in step.jobs))
    if step.dbt is not None:
        keys = {key for key in keys if (key in dbt_models.keys) == step.dbt}
    job = step.jobs[0] if len(step.jobs) == 1 else IMPLICIT_JOB
    return job, sorted(key.to_user_string() for key in keys)


def _run_step(runtime: Runtime, definitions: Any, instance: Any, step: DemoStep, label: str) -> str:
    """Run one step (jobs' assets, or files through ``azak import prices``); returns its run's id."""
    from azak_cli.market import import_prices
    from azak_pipelines.lib.sample_data import sample_data_dir
    from azak_pipelines.runs import failure, run_job

    started = time.monotonic()
    if step.price_files:
        print(f"{label}: azak import prices {' '.join(step.price_files)}…", flush=True)
        report = import_prices(runtime, [sample_data_dir() / p for p in step.price_files], quiet=True)
        run_id: str = report["run_id"]
        return run_id
    job, assets = step_run(definitions, step)
    span = f" ({step.partition_range[0]} … {step.partition_range[1]})" if step.partition_range else ""
    what = " + ".join(step.jobs) + (f": {len(assets)} assets" if assets is not None else "")
    print(f"{label}: running {what}{span}…", flush=True)
    result = run_job(definitions, instance, job, step.partition_range, step.run_config,
                     {"azak/origin": "demo"}, assets)
    if not result.success:
        raise RuntimeError(f"{what} failed after {time.monotonic() - started:.1f} s "
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
        done -= {step.name for step in DEMO_STEPS if "evaluation_job" in step.jobs}
    return done


def preload_code_location(parse: "DbtParse | None" = None) -> threading.Thread:
    """Import the code location's modules in a thread, started before the embedded PostgreSQL and
    Milvus: importing is most of loading it (Dagster, dbt and the domains' libraries: seconds of
    CPU), while starting the servers is mostly waiting on their processes. The Definitions are built
    afterwards (their resources read the environment the runtime exports). An import that fails
    here fails again, with its error, when the code location is loaded.

    Given the demo's ``parse`` (the manifest was missing or stale), the modules that read the
    manifest wait for it, so that the code location does not parse the project a second time."""

    def load() -> None:
        import dagster  # noqa: F401  (while the parse runs: what does not read the manifest)
        import dagster_dbt  # noqa: F401

        import azak_pipelines.defs
        import azak_pipelines.lib

        try:  # walking imports the packages too
            for package in (azak_pipelines.lib, azak_pipelines.defs):
                if package is azak_pipelines.defs and parse is not None:
                    parse.finish()
                for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                    importlib.import_module(module.name)
        except Exception:  # raised again, in the main thread, by load_defs()
            return

    thread = threading.Thread(target=load, name="preload-code-location", daemon=True)
    thread.start()
    return thread


class DbtParse:
    """``dbt parse`` for the warehouse's connection in the background, into a folder of its own.

    One parse serves both ends of a first run: the manifest the code location is built from (when
    it is missing or older than the project's files) and the parse state the first dbt step starts
    from. dbt re-parses the whole project when the state it starts from was made for another
    connection ("profile has changed"), as the state of a fresh install is; its profile hash covers
    host, port, user and database, not the password, so the parse can start before the embedded
    PostgreSQL has one (:meth:`early`). The manifest is the same for any connection to a database
    of the same name (only timestamps differ), so it is put in place only for the profile's default
    database, the one ``ensure_manifest`` parses for."""

    def __init__(self, database_url: str):
        from azak_pipelines.lib.dbt_files import DBNAME, DBT_PROJECT_DIR, PROFILE_DATABASE, dbt_env

        # the manifest names the database it was parsed for: only a parse for the default one may
        # stand in for the project's (a warehouse of another name leaves that to ensure_manifest)
        self.makes_manifest = dbt_env(database_url)[DBNAME] == PROFILE_DATABASE
        self.target = Path(tempfile.mkdtemp(prefix="azak-dbt-parse-"))
        dbt = Path(sys.executable).with_name("dbt")
        self.process = subprocess.Popen(
            [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", str(self.target)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **dbt_env(database_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
        self._lock = threading.Lock()
        self._finished = False

    @classmethod
    def early(cls, database_url: str) -> "DbtParse | None":
        """A parse started before anything else when the manifest is missing or stale (a fresh
        clone, a changed model): the code location would otherwise parse it, and the first dbt
        step parse it again for the warehouse."""
        from azak_pipelines.lib.dbt_files import manifest_is_current

        return None if manifest_is_current() else cls(database_url)

    def abandon(self) -> None:
        """Stop the parse and remove its folder (the demo stops before a dbt step needs it)."""
        import shutil

        with self._lock:
            if not self._finished:
                self.process.kill()
                self.process.communicate()
                shutil.rmtree(self.target, ignore_errors=True)
                self._finished = True

    def finish(self) -> None:
        """Wait for the parse (once, whoever asks first); put its manifest in place when the one
        there is missing or stale, and keep its state for the next dbt invocation. A failed parse
        only costs the code location, or that invocation, a parse of its own (and says so)."""
        import shutil

        from azak_pipelines.lib.dbt_files import MANIFEST, copy_atomically, manifest_is_current

        with self._lock:
            if self._finished:
                return
            self._finished = True
            output, _ = self.process.communicate()
            if self.process.returncode == 0:
                if self.makes_manifest and not manifest_is_current():
                    copy_atomically(self.target / MANIFEST.name, MANIFEST, keep_times=True)
                from azak_pipelines.defs.dbt.project import keep_partial_parse

                keep_partial_parse(self.target)
            else:
                print(f"dbt parse for the warehouse failed (parsed again where needed):\n{output}", file=sys.stderr)
            shutil.rmtree(self.target, ignore_errors=True)


def materialize_sample(runtime: Runtime, refresh: bool = False, preloading: threading.Thread | None = None,
                       parse: DbtParse | None = None) -> None:
    """Run every demo step not done yet for this code and data, then print the summary."""
    from azak_pipelines.runs import dagster_instance

    url = runtime.database.render()
    current = fingerprint()
    done = steps_to_skip(runtime, url, current, refresh)
    todo = [step for step in DEMO_STEPS if step.name not in done]
    # started before the code location is loaded: that load is one core's work (the import lock and
    # the GIL), so the parse has the other core to itself instead of sharing it with the first steps
    if parse is None and any(step.dbt for step in todo):
        parse = DbtParse(url)
    total = len(DEMO_STEPS)
    try:
        print("loading the Dagster code location…", flush=True)
        instance = dagster_instance()  # its storage made ready while the modules are imported
        if preloading is not None:
            preloading.join()
        from azak_pipelines.definitions import defs as load_defs

        definitions = load_defs()
        for number, step in enumerate(DEMO_STEPS, start=1):
            label = f"[{number}/{total}] {step.name}"
            if step.name in done:
                print(f"{label}: already materialized for this code and data, skipped")
                continue
            if step.dbt and parse is not None:
                parse.finish()
                parse = None
            started = time.monotonic()
            run_id = _run_step(runtime, definitions, instance, step, label)
            _record(url, step.name, current, run_id)
            print(f"{label}: done in {time.monotonic() - started:.1f} s (run {run_id[:8]})", flush=True)
        if parse is not None:
            parse.finish()
            parse = None
    finally:
        if parse is not None:  # a step failed (or Ctrl-C) before the first dbt step: no parse left behind
            parse.abandon()
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


