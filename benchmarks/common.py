"""Shared benchmark plumbing: a scratch database on the platform's server, and timing."""

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from azak_cli.runtime import environment
from azak_cli.runtime.postgres import PgUrl, drop_database, ensure_database


@contextmanager
def scratch_database(name: str):
    """Fresh warehouse and Dagster databases on the server ``azak`` uses (AZAK_DATABASE_URL or
    the embedded one), with a throw-away DAGSTER_HOME: benchmarks never touch the demo's data."""
    runtime = environment.resolve()
    url: PgUrl = runtime.database.with_database(name)
    dagster_url = runtime.database.with_database(name + "_dagster")
    for database in (url, dagster_url):
        drop_database(database)
        ensure_database(database)
    saved = {k: os.environ.get(k) for k in ("AZAK_DATABASE_URL", "DAGSTER_HOME", "DAGSTER_PG_URL",
                                             "AZAK_DAGSTER_DATABASE_URL")}
    with tempfile.TemporaryDirectory() as home:
        shutil.copy(environment.PROJECT_ROOT / "dagster.yaml", Path(home) / "dagster.yaml")
        os.environ.update({
            "AZAK_DATABASE_URL": url.render(), "DAGSTER_HOME": home,
            "AZAK_DAGSTER_DATABASE_URL": dagster_url.render(),
            "DAGSTER_PG_URL": dagster_url.render("postgresql+psycopg2"),
        })
        try:
            yield url.render()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            drop_database(url)
            drop_database(dagster_url)
            runtime.stop_if_started()


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def percentile(values: list[float], q: float) -> float:
    """The value ``q`` of the way up the sorted values (the largest for q=0.99 and 100 values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> str:
    """The machine's 1/5/15-minute load averages: how quiet it was during a run."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n## {title}")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
