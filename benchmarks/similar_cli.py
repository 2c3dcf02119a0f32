"""``azak similar`` end to end over real-sized articles: the working tree's command against a git
revision's (``--before``, default ``main``) in the same run, each as its own process, alternately
(the order swapped every round, so a load that rises or falls during the run favours neither).

The inputs are the bundled Naver market list's titles and summaries (real articles, ~96
characters), cycled to ``--articles`` lines (10,000 by default), each made distinct by its number
appended to the summary (so equal texts do not tie). Each run is the whole command — Python's
start, the embedder's load, reading, embedding, the search, writing — timed by the wall clock and
by the CPU the command's process used, all its threads (``getrusage`` of the child), and split at
the command's own "embedded in" line into embedding and the rest. The report says for how many
inputs the two answers are the same lines. ``--milvus`` is for a revision whose command searched a
throw-away milvus-lite collection (before issue 29's exact search): the embedded milvus-lite under
AZAK_HOME (AZAK_MILVUS_PORT) is started if it is not running, or AZAK_MILVUS_URI is used; its start
is not timed, the CPU the search cost it is counted (psutil).

    python -m benchmarks.similar_cli [--articles 10000] [--k 5] [--rounds 1] [--before main] [--milvus]
"""

import argparse
import contextlib
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import load_average, report
from benchmarks.json_sql import revision_tree

ROOT = Path(__file__).resolve().parents[1]


def articles(count: int) -> list[dict[str, Any]]:
    from azak_core.market import KST
    from azak_pipelines.lib.news import naver
    from azak_pipelines.lib.sample_data import BUNDLED

    items: list[tuple[str, str]] = []
    for page in sorted((BUNDLED / "news" / "naver" / "market").glob("*.gz")):
        listed = naver.parse_market_list(gzip.decompress(page.read_bytes()), datetime(2025, 6, 17, tzinfo=KST))
        items.extend((item.title, item.summary) for item in listed.items)
    return [{"id": i, "title": items[i % len(items)][0], "content": f"{items[i % len(items)][1]} {i}"}
            for i in range(count)]


def milvus_cpu(uri: str) -> float:
    """CPU seconds the embedded Milvus (and its children) used so far; 0 for another server."""
    from azak_cli.runtime import environment

    pid_file = environment.azak_home() / "milvus" / "milvus.pid"
    if not pid_file.exists() or not uri.endswith(f":{environment.embedded_milvus().port}"):
        return 0.0
    used = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(int(pid_file.read_text().split()[0]))
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                used += times.user + times.system
    return used


class Failed(RuntimeError):
    """The command exited with an error (the old one's Milvus calls time out on a loaded machine)."""


def run_command(code: Path | None, path: Path, k: int, env: dict[str, str]) -> tuple[float, float, float, list[Any]]:
    """One ``azak similar`` (``code``: a revision's tree first on the path): wall seconds, its CPU
    seconds, the seconds it says embedding took, its output."""
    env = {**env, "PYTHONPATH": str(code)} if code else env
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "azak_cli.main", "similar", str(path), "--k", str(k)],
                          env=env, cwd=code or ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise Failed(f"exit {done.returncode} after {wall:.0f} s: {done.stderr.strip().splitlines()[-1][:200]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    embedded = re.search(r"embedded in ([0-9.]+) s", done.stderr)
    return wall, cpu, float(embedded.group(1)) if embedded else float("nan"), [
        json.loads(line) for line in done.stdout.splitlines()]


def agreement(before: list[Any], after: list[Any]) -> str:
    same_ids = sum([n["id"] for n in b["neighbors"]] == [n["id"] for n in a["neighbors"]]
                   for b, a in zip(before, after, strict=True))
    same_sets = sum({n["id"] for n in b["neighbors"]} == {n["id"] for n in a["neighbors"]}
                    for b, a in zip(before, after, strict=True))
    same = sum(b == a for b, a in zip(before, after, strict=True))
    return (f"same neighbours in the same order for {same_ids:,} of {len(after):,} inputs, the same set for "
            f"{same_sets:,}, identical lines (similarities too) for {same:,}")


def main(count: int, k: int, rounds: int, revision: str, milvus: bool) -> None:
    from azak_cli.runtime import environment

    rows: list[tuple[str, str]] = []
    server = None if os.environ.get("AZAK_MILVUS_URI") or not milvus else environment.embedded_milvus()
    started = server.start() if server else False
    try:
        # without --milvus, a port nothing listens on: a command that needs Milvus fails, and says so
        uri = os.environ.get("AZAK_MILVUS_URI") or (server.uri if server else "http://127.0.0.1:9")
        env = {**os.environ, "AZAK_MILVUS_URI": uri}
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "articles.jsonl"
            inputs = articles(count)
            path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in inputs), encoding="utf-8")
            chars = sum(len(a["title"]) + len(a["content"]) for a in inputs) / count
            commit = revision_tree(revision, Path(scratch) / "before", ("azak_cli", "azak_core"))
            outputs: dict[str, list[Any]] = {}
            for number in range(1, rounds + 1):
                rates = {}
                order = [("before", Path(scratch) / "before"), ("after", None)]
                for label, code in order if number % 2 else order[::-1]:
                    server_cpu = milvus_cpu(uri)
                    try:
                        wall, cpu, embedding, outputs[label] = run_command(code, path, k, env)
                    except Failed as failure:
                        rows.append((f"round {number}, {label}", f"failed, {failure}; load average {load_average()}"))
                        continue
                    server_cpu = milvus_cpu(uri) - server_cpu
                    rates[label] = (count / wall, count / (cpu + server_cpu))
                    rows.append((f"round {number}, {label}" + (f" ({commit})" if code else " (working tree)"),
                                 f"{count / wall:,.0f} articles/s ({wall:.1f} s wall, {embedding:.1f} s of it "
                                 f"embedding); CPU {cpu:.1f} s in the command"
                                 f" + {server_cpu:.1f} s in Milvus = {count / (cpu + server_cpu):,.0f} articles per "
                                 f"CPU second; load average {load_average()}"))
                if len(rates) == 2:
                    rows.append((f"round {number}, after / before",
                                 f"wall rate {rates['after'][0] / rates['before'][0]:.2f}×, "
                                 f"per CPU second {rates['after'][1] / rates['before'][1]:.2f}×"))
            if len(outputs) == 2:
                rows.append(("answers", agreement(outputs["before"], outputs["after"])))
            rows.append(("inputs", f"{count:,} articles of {chars:.0f} characters, k={k}; Milvus {uri}; "
                                   f"{os.cpu_count()} cores"))
    finally:
        if server is not None and started:
            server.stop()
    report("azak similar end to end (benchmarks/similar_cli.py)", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", default="main")
    parser.add_argument("--milvus", action="store_true", help="start milvus-lite for a revision that needs it")
    arguments = parser.parse_args()
    main(arguments.articles, arguments.k, arguments.rounds, arguments.before, arguments.milvus)
