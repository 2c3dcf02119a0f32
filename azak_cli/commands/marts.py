"""`azak marts`: build every dbt model."""

import argparse
from typing import Any

from azak_cli.output import print_json
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "marts", help="build every dbt model (incremental marts resume where their inputs changed)")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the incremental marts from scratch")
    parser.add_argument("--json", action="store_true",
                        help="the run id, the models built and the seconds spent as one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True):
        report = market.build_marts(args.full_refresh, quiet=args.json)
    if args.json:
        print_json(report)
    return 0
