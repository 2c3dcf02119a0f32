"""`azak housekeeping`: what the nightly retention_schedule runs, now."""

import argparse
from typing import Any

from azak_cli.commands.arguments import iso_date
from azak_cli.output import print_json
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("housekeeping", help="drop minute bars and quote snapshots past their "
                                   "retention window now (what the nightly retention_schedule runs)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be dropped, drop nothing")
    parser.add_argument("--as-of", type=iso_date,
                        help="the KST day the windows count back from (default: today)")
    parser.add_argument("--json", action="store_true", help="the run id and, per table, the partitions dropped "
                        "(or that would be), the cutoff and the rows and bytes freed, as one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True) as runtime:
        report = market.housekeeping(runtime, args.as_of, args.dry_run, quiet=args.json)
    if args.json:
        print_json(report)
    return 0
