"""`azak demo --no-serve`, first run: a commit against a base commit, alternately, on fresh homes.

A first run after installation: a fresh ``AZAK_HOME`` (the embedded PostgreSQL and milvus-lite made
anew) and no dbt state (no ``dbt_project/target``, as in a fresh clone: loading the code location
parses the project). Both commits are exported with ``git archive`` into a temporary folder (what
runs in the checkout, tests included, is left alone) and run with the same virtual environment
(``PYTHONPATH`` points at each tree). Runs alternate base and this commit, so that other work on
the machine falls on both; for each: the wall time, the CPU time of the command and of what it
waited for (dbt, the forked lane; not the PostgreSQL and Milvus servers, detached processes), the
load average before it. Both summaries (every asset, its partitions and rows) must be the same:
the speed-up may not change what the demo shows.

    python -m benchmarks.demo [--base main] [--this HEAD] [--rounds 2] [--port 57100]
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import load_average, report

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"


def export(rev: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def summary(out: str) -> list[str]:
    """The summary table the demo prints (asset, partitions, rows)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("asset "))
    end = next(i for i, line in enumerate(lines) if line.startswith("demo data ready"))
    return [line for line in lines[start:end] if line.strip()]


def one_run(tree: Path, home: Path, port: int) -> tuple[float, float, str, list[str]]:
    """(wall s, CPU s, load average before, summary) of one first run of ``tree``'s demo."""
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(tree / "dbt_project" / "target", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("AZAK_DATABASE_URL", "AZAK_MILVUS_URI")}
    env.update({"PYTHONPATH": str(tree), "AZAK_HOME": str(home), "AZAK_PG_PORT": str(port),
                "AZAK_MILVUS_PORT": str(port + 1), "AZAK_API_PORT": str(port + 2),
                "AZAK_DAGIT_PORT": str(port + 3)})
    load = load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(PYTHON), "-m", "azak_cli.main", "demo", "--no-serve"], cwd=tree, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"the demo of {tree} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, load, summary(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the commit to compare with (default: main)")
    parser.add_argument("--this", default="HEAD", help="the commit measured (default: HEAD)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each tree, alternating")
    parser.add_argument("--port", type=int, default=57100, help="first of the 8 ports the two demos use")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str]] = []
    walls: dict[str, list[float]] = {"base": [], "this": []}
    cpus: dict[str, list[float]] = {"base": [], "this": []}
    summaries: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="azak-demo-bench-") as scratch:
        trees = {"base": export(args.base, Path(scratch) / "base"), "this": export(args.this, Path(scratch) / "this")}
        for round_ in range(1, args.rounds + 1):
            for offset, name in enumerate(("base", "this")):
                wall, cpu, load, table = one_run(trees[name], Path(scratch) / f"home-{name}", args.port + 4 * offset)
                walls[name].append(wall)
                cpus[name].append(cpu)
                summaries[name] = table
                rows.append((f"round {round_}, {name}", f"{wall:6.1f} s wall, {cpu:6.1f} s CPU (load {load})"))
                print(rows[-1][0], rows[-1][1], flush=True)
    base_wall, this_wall = statistics.median(walls["base"]), statistics.median(walls["this"])
    base_cpu, this_cpu = statistics.median(cpus["base"]), statistics.median(cpus["this"])
    rows += [
        (f"median, base ({args.base})", f"{base_wall:.1f} s wall, {base_cpu:.1f} s CPU"),
        (f"median, this ({args.this})", f"{this_wall:.1f} s wall, {this_cpu:.1f} s CPU"),
        ("this / base", f"{this_wall / base_wall:.2f}x wall, {this_cpu / base_cpu:.2f}x CPU"),
        ("same summary (assets, partitions, rows)", "yes" if summaries["base"] == summaries["this"] else "NO"),
        ("load average after", load_average()),
    ]
    report("azak demo --no-serve, first run on a fresh home", rows)
    if summaries["base"] != summaries["this"]:
        sys.exit("the summaries differ:\n" + "\n".join(summaries["base"]) + "\n---\n" + "\n".join(summaries["this"]))


if __name__ == "__main__":
    main()
