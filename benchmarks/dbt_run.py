"""Where one small marts run's time goes: the Dagster run, the dbt subprocesses, dbt's own phases.

Runs a dbt job (``news_marts_job`` by default: the marts over news and links, incremental, as the
automation runs them after a news write) in this process against the warehouse ``azak`` uses (the
demo's by default), ``--rounds`` times after one warm-up, and prints for each round:

* the run's wall time, this process's CPU time (the Dagster run, dagster-dbt's event handling and
  whatever dagster-dbt does in process before it starts dbt) and each child process's wall and CPU
  time (``dbt --version`` if dagster-dbt asks for it, ``dbt build``);
* the ``dbt build`` subprocess's timeline from its own log: Python start and imports (from the
  process's start to dbt's first log line), adapter registration, reading the project and
  deciding on partial parsing (full or partial, and why), writing the manifest, compiling the graph,
  the adapter cache and on-run-start hooks, the nodes, and the end (artifacts, exit);
* what dagster-dbt spent before starting dbt (the adapter it opens in this process) and after dbt
  exited (the events' last metadata).

    python -m benchmarks.dbt_run [--job news_marts_job] [--rounds 3]

Compare two versions of the code by running this alternately from each tree (the same minutes,
the same warehouse): the figures in docs/figures.md ("a marts run's fixed cost") were taken so.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from azak_cli.runtime import environment
from benchmarks.common import load_average, report

# dbt's log events that mark the phases of one invocation, in order
PHASES = (
    ("MainReportVersion", "python start and imports"),
    ("AdapterRegistered", "adapter registration"),
    ("PartialParsingSkipParsing|PartialParsingEnabled|ParseCmdPerfInfoPath|UnableToPartialParse|"
     "PartialParsingNotEnabled", "read the project, parse-state check"),
    ("ArtifactWritten", "parse (or reuse), write the manifest"),
    ("FoundStats", "compile the graph"),
    ("NodeStart", "adapter cache, schemas, on-run-start hooks"),
    ("FinishedRunningStats", "the nodes (models, seeds, tests)"),
    ("CommandCompleted", "artifacts (manifest, run results)"),
)


class Children:
    """Each child process's arguments, start, end and CPU time (``os.waitpid`` replaced by
    ``os.wait4`` while measuring, so the rusage of each child is kept)."""

    def __init__(self) -> None:
        self.started: dict[int, tuple[list[str], float]] = {}
        self.ended: dict[int, tuple[float, float]] = {}
        self._popen_init = subprocess.Popen.__init__
        self._waitpid = os.waitpid

    def __enter__(self) -> "Children":
        children, popen_init, wait4 = self, self._popen_init, os.wait4

        def init(popen: subprocess.Popen, *args: Any, **kwargs: Any) -> None:
            popen_init(popen, *args, **kwargs)
            argv = kwargs.get("args", args[0] if args else [])
            children.started[popen.pid] = ([str(a) for a in argv], time.time())

        def waitpid(pid: int, options: int) -> tuple[int, int]:
            got, status, usage = wait4(pid, options)
            if got:
                children.ended[got] = (time.time(), usage.ru_utime + usage.ru_stime)
            return got, status

        subprocess.Popen.__init__ = init  # type: ignore[method-assign]
        os.waitpid = waitpid
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.Popen.__init__ = self._popen_init  # type: ignore[method-assign]
        os.waitpid = self._waitpid

    def rows(self) -> list[tuple[str, list[str], float, float, float, float]]:
        """(name, argv, start, end, wall, cpu) per finished child, in start order."""
        out = []
        for pid, (argv, start) in sorted(self.started.items(), key=lambda item: item[1][1]):
            if pid in self.ended and Path(argv[0]).name == "dbt":
                end, cpu = self.ended[pid]
                name = " ".join(Path(argv[0]).name.split() + [a for a in argv[1:2]])
                out.append((name, argv, start, end, end - start, cpu))
        return out


class InProcess:
    """Wall and CPU time of the dbt adapter dagster-dbt opens in this process before it starts dbt
    (for row counts and column lineage), measured by wrapping its method while measuring."""

    def __init__(self) -> None:
        self.seconds: tuple[float, float] | None = None

    def __enter__(self) -> "InProcess":
        from dagster_dbt import DbtCliResource

        self._original = original = getattr(DbtCliResource, "_initialize_dbt_core_adapter", None)
        if original is None:
            return self
        outer = self

        def timed(resource: Any, args: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(resource, args)
            finally:
                outer.seconds = (time.perf_counter() - wall, time.process_time() - cpu)

        DbtCliResource._initialize_dbt_core_adapter = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from dagster_dbt import DbtCliResource

        if self._original is not None:
            DbtCliResource._initialize_dbt_core_adapter = self._original  # type: ignore[method-assign]


def _ts(info: dict[str, Any]) -> float:
    return datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp()


def timeline(log: Path, start: float, end: float) -> list[tuple[str, float]]:
    """The phases of one dbt invocation from its JSON log, each with its duration in seconds."""
    events = [json.loads(line)["info"] for line in log.read_text().splitlines() if line.startswith("{")]
    marks, at = [("process start", start)], 0
    for name, label in PHASES:
        names = set(name.split("|"))
        while at < len(events) and events[at]["name"] not in names:
            at += 1
        if at == len(events):
            break
        marks.append((label, _ts(events[at])))
    marks.append(("exit, after the last log line", end))
    return [(label, t - marks[i - 1][1]) for i, (label, t) in enumerate(marks) if i]


def parse_note(log: Path) -> str:
    """How this invocation parsed: full (and why) or partial."""
    text = log.read_text()
    for line in text.splitlines():
        if "Unable to do partial parsing" in line:
            return "full parse: " + json.loads(line)["info"]["msg"]
    if "skipping parsing" in text:
        return "partial parse: nothing changed, parsing skipped"
    return "partial parse"


def one_run(definitions: Any, instance: Any, job: str) -> dict[str, Any]:
    """Run ``job`` once; what it cost, where."""
    from azak_pipelines.runs import require_success, run_job

    with Children() as children, InProcess() as in_process:
        started, cpu = time.time(), time.process_time()
        result = run_job(definitions, instance, job)
        ended, cpu = time.time(), time.process_time() - cpu
    require_success(result, job)
    rows = children.rows()
    build = next((r for r in rows if "build" in r[1]), None)
    out: dict[str, Any] = {"wall": ended - started, "cpu": cpu, "children": rows, "phases": [], "parse": "",
                           "adapter": in_process.seconds}
    if build is not None:
        out["before"], out["after"] = build[2] - started, ended - build[3]
        target = _target_of(build[1], build[2])
        if target is not None and (target / "dbt.log").exists():
            out["phases"] = timeline(target / "dbt.log", build[2], build[3])
            out["parse"] = parse_note(target / "dbt.log")
    return out


def _target_of(argv: list[str], started: float) -> Path | None:
    """The target folder dagster-dbt gave the invocation (the newest under the project's target)."""
    from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR

    folders = [p for p in (DBT_PROJECT_DIR / "target").iterdir() if p.is_dir() and (p / "dbt.log").exists()]
    folders = [p for p in folders if p.stat().st_mtime >= started - 1]
    return max(folders, key=lambda p: p.stat().st_mtime, default=None)


def main(job: str, rounds: int) -> None:
    with environment.session(apply=True):
        from azak_pipelines.definitions import defs
        from azak_pipelines.runs import dagster_instance

        definitions, instance = defs(), dagster_instance()
        one_run(definitions, instance, job)  # warm-up: this process's first dbt run, the database's caches
        results = [one_run(definitions, instance, job) for _ in range(rounds)]
    for number, result in enumerate(results, 1):
        rows = [("run wall / this process's CPU", f"{result['wall']:.2f} s / {result['cpu']:.2f} s")]
        if result["adapter"]:
            rows.append(("dagster-dbt's adapter in this process: wall / CPU",
                         "{:.2f} s / {:.2f} s".format(*result["adapter"])))
        if "before" in result:
            rows += [("run start to dbt build's start", f"{result['before']:.2f} s"),
                     ("dbt build's exit to run end", f"{result['after']:.2f} s")]
        rows += [(f"child {name}: wall / CPU", f"{wall:.2f} s / {cpu:.2f} s")
                 for name, _, _, _, wall, cpu in result["children"]]
        rows += [("dbt build: " + label, f"{seconds:.2f} s") for label, seconds in result["phases"]]
        rows += [("dbt build: parse", result["parse"]), ("load average", load_average())]
        report(f"{job}, round {number}", rows)
    child_cpu = [sum(c[5] for c in r["children"]) for r in results]
    report(f"{job}: medians of {rounds} rounds", [
        ("run wall", f"{statistics.median(r['wall'] for r in results):.2f} s"),
        ("this process's CPU", f"{statistics.median(r['cpu'] for r in results):.2f} s"),
        ("children's CPU", f"{statistics.median(child_cpu):.2f} s"),
        ("load average", load_average()),
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", default="news_marts_job")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.job, arguments.rounds)
