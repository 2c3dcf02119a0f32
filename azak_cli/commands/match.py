"""`azak match`: link JSON Lines to listed companies."""

import argparse
from typing import Any

from azak_cli.commands.arguments import input_path


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("match", help="link JSON Lines ({id, title, content}) to listed companies")
    parser.add_argument("path", nargs="?", default="-", help="a JSONL file, or - for standard input")
    parser.add_argument("--universe", help="a listing CSV instead of the bundled KRX listing")
    parser.add_argument("--explain", action="store_true",
                        help="add each link's evidence: the rule that decided it and what it saw")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import match

    return match.main(input_path(args.path), args.universe, args.explain)
