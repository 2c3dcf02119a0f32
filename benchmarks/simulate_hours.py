"""Where a simulated stretch spends its time, per kind of run: `azak simulate`'s own engine, started
at any simulated instant (the command always starts at 00:00 KST), on a demo home.

    AZAK_HOME=... python -m benchmarks.simulate_hours --start 2025-05-29T00:40 --measure-from 2025-05-29T01:00 \
        --hours 1.34 [--run-cost 10]

Runs the ticks from ``--start`` (KST) for ``--hours`` simulated hours exactly as `azak simulate`
does (the same replayed sources, schedules, sensors and automation), then prints, for the runs that
started at or after ``--measure-from`` (the stretch before it warms up the automation's cursor and
collects what was published before the start): each kind of run (its job, or the automation's
assets) with its count, its wall seconds (Dagster's run records: start to end, whatever
``--run-cost`` says) and those seconds per 10 simulated minutes; the
stretch's wall time, the process's CPU time (this process and its finished children: dbt) and
the load average before and after. The home is changed (it is a simulation's home): use a copy.
"""

import argparse
import os
import resource
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from azak_core.market import KST


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_seconds(instance: Any, run_id: str) -> float:
    """A run's wall duration from Dagster's run record (its start to its end)."""
    record = instance.get_run_record_by_id(run_id) if run_id else None
    if record is None or record.start_time is None or record.end_time is None:
        return 0.0
    return record.end_time - record.start_time


def kind(label: str) -> str:
    return label.split("[")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", required=True, type=datetime.fromisoformat, help="KST, e.g. 2025-05-29T00:40")
    parser.add_argument("--measure-from", required=True, type=datetime.fromisoformat, help="KST")
    parser.add_argument("--hours", required=True, type=float)
    parser.add_argument("--run-cost", type=float, default=None)
    args = parser.parse_args()

    from azak_cli.runtime import environment
    from azak_cli.simulate.engine import Simulation
    from azak_cli.simulate.faults import Window
    from azak_cli.simulate.sources import live_kis, live_news, live_reddit
    from azak_pipelines.definitions import defs
    from azak_pipelines.runs import dagster_instance

    start = args.start.replace(tzinfo=KST)
    measured_from = args.measure_from.replace(tzinfo=KST)
    end = start + timedelta(hours=args.hours)
    window = Window(start, end)
    with environment.session() as runtime:
        runtime.ensure_milvus()
        runtime.apply()
        instance = dagster_instance()
        with live_news(window, ()), live_kis(window, ()), live_reddit():
            simulation = Simulation(defs(), instance, start, end, say=lambda line: print(line, flush=True),
                                    run_cost=args.run_cost)
            load_before, wall_before, cpu_before = os.getloadavg(), time.monotonic(), cpu_seconds()
            runs = simulation.run()
            wall, cpu, load_after = time.monotonic() - wall_before, cpu_seconds() - cpu_before, os.getloadavg()
        measured = [r for r in runs if r.at >= measured_from]
        took = {r.run_id: run_seconds(instance, r.run_id) for r in measured}
    span = (end - measured_from).total_seconds() / 600  # 10-minute stretches measured
    wall_measured = sum(took.values())
    print(f"window {start:%Y-%m-%d %H:%M}–{end:%H:%M} KST, measured from {measured_from:%H:%M}: "
          f"{len(runs)} runs in all, {len(measured)} measured")
    print(f"whole stretch: wall {wall:.1f} s, CPU {cpu:.1f} s (this process and its finished children), "
          f"load average before {load_before[0]:.2f}/{load_before[1]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f}")
    print(f"measured runs' wall seconds {wall_measured:.1f} over {span:.1f} x 10 simulated minutes "
          f"({wall_measured / span:.2f} s per 10 simulated minutes)")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in measured:
        by_kind[kind(r.request.label)].append(took[r.run_id])
    for name, seconds in sorted(by_kind.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {len(seconds):3d} x {name[:110]}: {sum(seconds):7.1f} s, {sum(seconds) / span:6.2f} s per 10 min")


if __name__ == "__main__":
    main()
