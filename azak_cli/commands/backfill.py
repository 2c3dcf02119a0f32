"""`azak backfill prices|status|cancel`: Dagster backfills of daily prices, followed in the terminal."""

import argparse
import sys
from pathlib import Path
from typing import Any

from azak_cli import progress
from azak_cli.commands.arguments import iso_date
from azak_cli.errors import UsageError
from azak_cli.output import print_json
from azak_cli.runtime import environment
from azak_core.runs import op_config

DAILY_PRICES = ("raw", "daily_prices")
# azak_cli.backfills (its GraphQL client: httpx, ~0.2 s of CPU to import) is imported by the actions
# that call Dagit, not when every command registers this one


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("backfill", help="submit a Dagster backfill and follow it; its status; cancel it")
    actions = parser.add_subparsers(dest="action", required=True)
    prices = actions.add_parser("prices", help="backfill raw/daily_prices over a range of days")
    prices.add_argument("--from", dest="start", type=iso_date, required=True,
                        help="first KST day, YYYY-MM-DD (inclusive)")
    prices.add_argument("--to", dest="end", type=iso_date, required=True,
                        help="last KST day, YYYY-MM-DD (inclusive)")
    prices.add_argument("--codes", nargs="+", help="stock codes to ask KIS for (default: the watch-list)")
    prices.add_argument("--files", nargs="+", metavar="CSV",
                        help="read these price CSVs (`azak import prices` layouts) instead of KIS")
    prices.add_argument("--basis", default="adjusted", choices=["adjusted", "raw"],
                        help="adjusted (default) or raw prices")
    prices.add_argument("--detach", action="store_true", help="print the backfill's id and return at once")
    prices.add_argument("--in-process", action="store_true",
                        help="no Dagster backfill: one run in this process, dying with the terminal (for a "
                             "machine without `azak serve`, and for --shards)")
    prices.add_argument("--shards", type=int, default=1,
                        help="with --in-process: split the stocks into this many steps (run on Celery workers "
                             "with AZAK_EXECUTOR=celery)")
    prices.add_argument("--json", action="store_true", help="the backfill's final state (or its id with "
                        "--detach) as one JSON object on standard output; no progress bar")
    prices.set_defaults(func=run_prices)
    show = actions.add_parser("status", help="a backfill's state, or the recent backfills")
    show.add_argument("id", nargs="?", help="the backfill's id (default: the most recent ones)")
    show.add_argument("--limit", type=int, default=10, help="how many recent backfills to list (default 10)")
    show.add_argument("--json", action="store_true", help="one JSON object (with an id) or array on standard output")
    show.set_defaults(func=run_status)
    stop = actions.add_parser("cancel", help="cancel a backfill: its queued and running runs are cancelled")
    stop.add_argument("id", help="the backfill's id (`azak backfill status` lists them)")
    stop.add_argument("--json", action="store_true", help="the backfill's state after, as JSON")
    stop.set_defaults(func=run_cancel)


def checked(args: argparse.Namespace) -> None:
    from azak_cli.market import check_backfill

    check_backfill(args.start, args.end, args.codes, args.shards)
    if args.codes and args.files:
        raise UsageError("--codes asks KIS and --files reads files: give one of them")
    missing = [f for f in args.files or [] if not Path(f).is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    if args.shards > 1 and not args.in_process:
        raise UsageError("--shards runs one unpartitioned job of shard steps, which is not a Dagster "
                         "backfill: add --in-process")


def prices_config(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The asset's run config and the source it reads (the run queue allows one run per source)."""
    if args.files:
        return {"source": "files", "paths": [str(Path(f).resolve()) for f in args.files],
                "price_basis": args.basis}, "files"
    config: dict[str, Any] = {"source": "kis", "price_basis": args.basis}
    if args.codes:
        config["codes"] = args.codes
    return config, "kis"


def run_in_process(args: argparse.Namespace) -> int:
    from azak_cli import market

    if args.files:
        raise UsageError("--in-process reads KIS; load files in-process with `azak import prices`")
    with environment.session(apply=True) as runtime:
        report = market.backfill_prices(runtime, args.start, args.end, args.codes, args.basis, args.shards,
                                        quiet=args.json)
    if args.json:
        print_json(report)
    return 0


def run_prices(args: argparse.Namespace) -> int:
    from azak_cli import backfills

    checked(args)
    if args.in_process:
        return run_in_process(args)
    url = backfills.dagit_url()
    config, source = prices_config(args)
    title = f"azak backfill prices {args.start}…{args.end} ({source}, {args.basis})"
    backfill_id = backfills.submit(url, DAILY_PRICES, str(args.start), str(args.end),
                                   op_config(DAILY_PRICES, config),
                                   {"azak/origin": "backfill", "azak/source": source}, title)
    if args.detach:
        if args.json:
            print_json({"id": backfill_id, "dagit": f"{url}/runs/b/{backfill_id}"})
        else:
            print(f"submitted backfill {backfill_id}: {url}/runs/b/{backfill_id}")
            print(backfills.detach_hint(backfill_id))
        return 0
    if not args.json:
        print(f"submitted backfill {backfill_id} ({title}): {url}/runs/b/{backfill_id}", flush=True)
    return follow(url, backfill_id, args.json)


def follow(url: str, backfill_id: str, json_output: bool) -> int:
    """Follow until the backfill finishes: 0 when it succeeded, 1 otherwise; Ctrl-C detaches (130)."""
    from azak_cli import backfills

    try:
        final = backfills.follow(url, backfill_id, progress.wanted(json_output),
                                 lambda line: None if json_output else print(line, flush=True))
    except KeyboardInterrupt:
        print(f"\ndetached: {backfills.detach_hint(backfill_id)}", file=sys.stderr)
        return 130
    if json_output:
        print_json(final.as_dict(url))
    else:
        print(final.line())
    if not final.succeeded:
        raise RuntimeError(f"backfill {backfill_id} ended {final.status}"
                           f"{': ' + final.error if final.error else ''}; see {url}/runs/b/{backfill_id}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from azak_cli import backfills

    url = backfills.dagit_url()
    if args.id:
        snapshot = backfills.status(url, args.id)
        if args.json:
            print_json(snapshot.as_dict(url))
        else:
            print(snapshot.line())
        return 0
    if not 1 <= args.limit <= 1000:
        raise UsageError(f"--limit must be between 1 and 1000, got {args.limit}")
    found = backfills.recent(url, args.limit)
    if args.json:
        print_json([s.as_dict(url) for s in found])
        return 0
    for snapshot in found:
        print(f"{snapshot.line()}  [{snapshot.title}]")
    if not found:
        print("no backfills yet")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from azak_cli import backfills

    url = backfills.dagit_url()
    snapshot = backfills.cancel(url, args.id)
    if args.json:
        print_json(snapshot.as_dict(url))
    else:
        print(f"cancel requested: {snapshot.line()}")
    return 0
