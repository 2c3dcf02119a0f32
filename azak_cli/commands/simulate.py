"""`azak simulate`: the platform's own schedules, sensors and automation over simulated days."""

import argparse
from datetime import date, datetime, time
from typing import Any

from azak_cli.errors import UsageError
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="replay the daemon's schedules, sensors and automation over simulated KST days; "
                         "print a ledger per day and exit 1 when an expectation failed")
    parser.add_argument("--from", dest="first", required=True, type=_start, metavar="D1[THH:MM]",
                        help="first KST day (from 00:00 KST), or a KST day and time to start at "
                             "(2025-06-07T21:00: a weekend evening without the hours before it)")
    parser.add_argument("--to", dest="last", required=True, type=date.fromisoformat, help="last KST day")
    parser.add_argument("--hours", type=_positive, default=None,
                        help="stop after this many simulated hours from --from (a quick look, "
                             "or a speed measurement on a shorter window)")
    parser.add_argument("--fault", dest="faults", action="append", default=[], metavar="X",
                        help="inject a fault into the replayed sources (repeatable; the faults and the "
                             "behaviour each must show: docs/simulation.md); exit 0 only if the ledger shows it")
    parser.add_argument("--run-cost", type=_seconds, default=None, metavar="SECONDS",
                        help="advance the simulated clock by this many seconds per run instead of the run's "
                             "measured wall duration, so that the 5-minute expectations do not measure this "
                             "machine's load (the ledger's notes say which was used)")
    parser.add_argument("--intraday-every", type=_intraday, default=None, metavar="MINUTES",
                        help="fire the session's minute-bar, quote-snapshot and market-wide schedules every "
                             "MINUTES simulated minutes (5, 10, 15, 20, 30 or 60; default 30) and at 15:55, "
                             "instead of every minute and every 5 minutes as the daemon does (5: as the "
                             "daemon, merged per tick); the ledger's notes say which")
    parser.add_argument("--json", action="store_true", help="print the ledger as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli.simulate import main
    from azak_cli.simulate.faults import DbRestart, parse

    if args.last < args.first.date():
        raise UsageError(f"--to {args.last} is before --from {args.first.date()}")
    try:
        faults = parse(args.faults)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if any(isinstance(f, DbRestart) for f in faults):  # before any server starts
        DbRestart.own_cluster(environment.resolve(start=False).embedded)
    with environment.session() as runtime:
        runtime.ensure_milvus()  # the embeddings the automation asks for
        runtime.apply()
        return main.simulate(runtime, args.first, args.last, args.json, args.hours, faults, args.run_cost,
                             args.intraday_every)


def _intraday(value: str) -> int:
    """Minutes between intraday firings: a multiple of the 5-minute tick that divides the hour."""
    try:
        minutes = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {value!r}") from None
    if minutes not in (5, 10, 15, 20, 30, 60):
        raise argparse.ArgumentTypeError(f"{minutes}: give 5, 10, 15, 20, 30 or 60 (a multiple of the "
                                         "5-minute tick that divides the hour)")
    return minutes


def _start(value: str) -> datetime:
    """``D1`` (its 00:00) or ``D1THH:MM``, a KST wall time on the tick grid (a multiple of 5 minutes)."""
    from azak_core.market import KST

    day, _, clock = value.partition("T")
    try:
        at = time.fromisoformat(clock) if clock else time()
        if at.tzinfo is not None:
            raise ValueError("an offset: the time is read in KST")
        start = datetime.combine(date.fromisoformat(day), at, KST)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--from must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (KST), got {value}") from error
    if start.minute % 5 or start.second or start.microsecond:
        raise argparse.ArgumentTypeError(f"--from must start on a 5-minute tick (…:00, …:05, …), got {value}")
    return start


def _positive(value: str) -> float:
    hours = float(value)
    if not hours > 0:
        raise argparse.ArgumentTypeError(f"--hours must be a positive number of hours, got {value}")
    return hours


def _seconds(value: str) -> float:
    seconds = float(value)
    if not 0 < seconds < 300:  # a run costing a whole tick or more would leave every tick late
        raise argparse.ArgumentTypeError(f"--run-cost must be more than 0 and less than 300 seconds, got {value}")
    return seconds
