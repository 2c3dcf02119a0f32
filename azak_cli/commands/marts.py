"""`azak marts`: build every dbt model."""

import argparse
from typing import Any

from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "marts", help="build every dbt model (incremental marts resume where their inputs changed)")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild the incremental marts from scratch")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True):
        market.build_marts(args.full_refresh)
    return 0
