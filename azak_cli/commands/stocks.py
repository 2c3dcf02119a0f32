"""`azak stocks add`: put a stock on the watch-list; the daemon onboards it."""

import argparse
from typing import Any

from azak_cli.runtime import environment

MARKETS = ["KOSPI", "KOSDAQ", "KOSDAQ GLOBAL", "KONEX"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("stocks", help="the watch-list")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a stock to the watch-list; the daemon onboards it")
    add.add_argument("code", help="KRX stock code: 6 characters [0-9A-Z]")
    add.add_argument("--name", help="its name: needed for a code the universe does not hold yet (a new listing)")
    add.add_argument("--market", choices=MARKETS, help="its market (a new listing)")
    add.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import watchlist

    with environment.session() as runtime:
        watchlist.add(runtime, args.code, args.name, args.market)
    return 0
