"""The leaderboard's bootstrap: every resample's ECE at once (``metrics.resampled_ece``) against
the ECE computed resample by resample (the code it replaced, kept here as the baseline), on the
scored predictions of a warehouse (the demo's, after ``azak demo --no-serve``), in the same process,
alternating. Both must give the same leaderboard rows (CIs to 1e-12).

    python -m benchmarks.leaderboard [--rounds 5]
"""

import argparse
import contextlib
import math
import time
from typing import Any
from unittest import mock

import numpy as np

from benchmarks.common import load_average, report


def per_resample(probabilities: np.ndarray, hits: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The baseline: ``ece`` of each resample in a Python loop."""
    from azak_pipelines.lib.evaluation import metrics

    usable = ~np.isnan(probabilities) & ~np.isnan(hits)
    return np.array([metrics._nan(metrics.ece(probabilities[row[usable[row]]].tolist(),
                                              hits[row[usable[row]]].tolist())) for row in draws])


def close(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12
    return bool(a == b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from azak_cli.runtime import environment
    from azak_pipelines.defs.evaluation.assets import _as_of, load_failed, load_scored
    from azak_pipelines.lib.evaluation import metrics
    from azak_pipelines.lib.evaluation import report as board
    from azak_pipelines.lib.warehouse import connect

    with environment.session() as runtime, connect(runtime.database.render()) as conn:
        items, failed, as_of = load_scored(conn), board.failed_counts(load_failed(conn)), _as_of(conn)
    load = load_average()
    times: dict[str, list[float]] = {"per resample": [], "at once": []}
    rows: dict[str, Any] = {}
    for _ in range(args.rounds):
        for name in times:
            baseline = name == "per resample"
            with mock.patch.object(metrics, "resampled_ece", per_resample) if baseline else contextlib.nullcontext():
                started = time.process_time()
                rows[name] = board.leaderboard(items, failed, as_of)
                times[name].append(time.process_time() - started)
    before, after = (sorted(times[name])[len(times[name]) // 2] for name in ("per resample", "at once"))
    report(f"leaderboard of {len(items):,} scored predictions ({len(rows['at once'])} rows), CPU per run", [
        ("per resample (before)", f"{before:.3f} s (runs: {', '.join(f'{t:.3f}' for t in times['per resample'])})"),
        ("at once (after)", f"{after:.3f} s (runs: {', '.join(f'{t:.3f}' for t in times['at once'])})"),
        ("after / before", f"{after / before:.2f}x"),
        ("same rows (CIs to 1e-12)", "yes" if close(rows["per resample"], rows["at once"]) else "NO"),
        ("load average before / after", f"{load} / {load_average()}"),
    ])


if __name__ == "__main__":
    main()
