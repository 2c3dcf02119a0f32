"""`azak evaluate`: evaluate every prediction that is due and print the leaderboard."""

import argparse
from typing import Any

from azak_cli.commands.arguments import iso_date
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate every prediction that is due and print the leaderboard")
    parser.add_argument("--model", help="only this model")
    parser.add_argument("--from", dest="start", type=iso_date, help="predictions made on or after this KST day")
    parser.add_argument("--to", dest="end", type=iso_date, help="predictions made on or before this KST day")
    parser.add_argument("--json", action="store_true", help="one JSON object on standard output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import evaluation

    with environment.session(apply=True) as runtime:
        evaluation.evaluate(runtime, args.model, args.start, args.end, args.json)
    return 0
