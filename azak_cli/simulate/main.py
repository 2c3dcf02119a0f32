"""What `azak simulate` does: serve the sources, replay the ticks, print the ledger."""

import contextlib
import json
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from azak_cli.runtime.environment import Runtime
from azak_cli.simulate.faults import DbRestart, Fault, Window, victim_of
from azak_cli.simulate.ledger import Ledger, asset_children, build
from azak_core.market import KST


def simulate(runtime: Runtime, start: datetime, last: date, as_json: bool, hours: float | None = None,
             faults: Sequence[Fault] = (), run_cost: float | None = None, intraday_every: int | None = None) -> int:
    """Replay ``start`` (KST; ``--from``) to ``last`` 24:00 KST (or the first ``hours`` of it) with ``faults``
    switched on, simulated time advancing by each run's wall duration or by ``run_cost`` seconds, the
    intraday schedules fired every ``intraday_every`` minutes (None: the engine's default); the exit
    code of :func:`exit_code`."""
    from azak_cli.simulate.engine import INTRADAY_EVERY, Simulation
    from azak_cli.simulate.llm import provider_model
    from azak_cli.simulate.sources import live_kis, live_news, live_reddit
    from azak_pipelines.definitions import defs
    from azak_pipelines.runs import dagster_instance

    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), KST)
    every = intraday_every or INTRADAY_EVERY
    if hours is not None:
        end = min(end, start + timedelta(hours=hours))
    started = time.monotonic()
    window = Window(start, end)
    instance = dagster_instance()
    restart = next((f for f in faults if isinstance(f, DbRestart)), None)
    with live_news(window, faults), live_kis(window, faults), live_reddit(), \
            provider_model(runtime.database.render(), window, faults), \
            restart.attached(runtime.embedded, runtime.child_env(), instance) if restart else contextlib.nullcontext():
        definitions = defs()
        simulation = Simulation(definitions, instance, start, end, say=_progress,
                                victim=victim_of(faults), run_cost=run_cost, intraday_every=every,
                                disruption=restart.disruption if restart else None)
        try:
            runs = simulation.run()
        except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM: no ledger of a part of the window
            _progress(f"stopped at {simulation.now.astimezone(KST):%Y-%m-%d %H:%M} KST after "
                      f"{len(simulation.runs)} run(s){f': {stop}' if str(stop) else ''}")
            raise
    wall = time.monotonic() - started
    ledger = build(runtime.database.render(), runs, window, faults, children=asset_children(definitions),
                   run_cost=run_cost, intraday_every=every)
    speed = (end - start).total_seconds() / wall
    if as_json:
        print(json.dumps({**ledger.as_json(), "wall_seconds": round(wall, 1), "speed": round(speed, 1)},
                         indent=1, default=str))
    else:
        print_ledger(ledger, wall, speed)
    return exit_code(ledger)


def exit_code(ledger: Ledger) -> int:
    """0 when every expectation held and every fault switched on showed its behaviour, else 1 (a bad
    argument exits 2 before any simulation: ``azak_cli.main``)."""
    return 0 if not ledger.failed and all(f["shown"] for f in ledger.faults.values()) else 1


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def print_ledger(ledger: Ledger, wall: float, speed: float) -> None:
    for day, entry in ledger.days.items():
        print(f"{day}  runs {entry['runs']} (failed {entry['failed_runs']})  articles {entry['articles']}  "
              f"links {entry['links']} (salient {entry['salient_links']})  with neighbours "
              f"{entry['with_neighbours']}  failed checks {entry['failed_checks']}")
        print(f"    embeddings {entry['embeddings']}  notifications {entry['notifications']}  marts refreshed "
              f"{entry['marts_refreshed']} time(s), last at {entry['marts_last_refreshed']}")
        print(f"    predictions {entry['predictions']}  final scores (at the end) {entry['final_scores']}")
        print(f"    reports {entry['reports']}")
        print(f"    runs by job {entry['runs_by_job']}")
    print(f"simulated {len(ledger.days)} day(s) in {wall:.0f} s wall: {speed:.0f}x")
    for note in ledger.notes:
        print(f"note: {note}")
    for name, fault in ledger.faults.items():
        seen = f"  (seen: {fault['observed']})" if fault["observed"] else ""
        print(f"fault {name}: {'shown' if fault['shown'] else 'NOT shown'}: {fault['behaviour']}{seen}")
    for failure in ledger.failed:
        print(f"EXPECTATION FAILED: {failure}")
    print("every expectation held" if not ledger.failed else f"{len(ledger.failed)} expectation(s) failed")
