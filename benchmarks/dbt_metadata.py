"""What row counts and column lineage cost the daily marts run (the rule: at most 5 % slower).

Runs ``marts_job`` (incremental, as the automation and ``azak marts`` do) against a warehouse whose
marts are built, alternately without and with ``fetch_row_counts().fetch_column_metadata()``
(``dbt_models`` run config ``fetch_metadata``), so both see the same machine load, and reports the
median of each and their ratio.

    python -m benchmarks.dbt_metadata [--rounds 3]    # the warehouse `azak` uses (the demo's by default)

Row counts and column lineage are fetched only when the warehouse's database is the one the dbt
manifest names (``azak`` by default), so run it against the demo's warehouse or one of that name.
"""

import argparse
import statistics
import time

import dagster as dg

from azak_cli.runtime import environment
from azak_pipelines.definitions import defs
from azak_pipelines.runs import require_success, run_job
from benchmarks.common import load_average, report


def one_run(definitions: dg.Definitions, row_counts: bool, column_lineage: bool = False) -> float:
    started = time.perf_counter()
    config = {"row_counts": row_counts, "column_lineage": column_lineage}
    result = run_job(definitions, dg.DagsterInstance.ephemeral(), "marts_job",
                     run_config={"ops": {"dbt_models": {"config": config}}})
    require_success(result, "the marts run")
    return time.perf_counter() - started


def main(rounds: int = 3) -> None:
    with environment.session(apply=True):
        measure(rounds)


def measure(rounds: int) -> None:
    definitions = defs()
    one_run(definitions, False)  # warm-up: dbt's first parse of the session, the database's caches
    plain, counts, lineage = [], [], []
    for _ in range(rounds):
        plain.append(one_run(definitions, False))
        counts.append(one_run(definitions, True))
        lineage.append(one_run(definitions, True, True))
    base = statistics.median(plain)
    report("dbt row counts and column lineage", [
        ("marts_job without metadata (median)", f"{base:.1f} s {[round(t, 1) for t in plain]}"),
        ("with row counts", f"{statistics.median(counts) / base:.3f}x {[round(t, 1) for t in counts]}"),
        ("with row counts + column lineage",
         f"{statistics.median(lineage) / base:.3f}x {[round(t, 1) for t in lineage]}"),
        ("load average", load_average()),
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args().rounds)
