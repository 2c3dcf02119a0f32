"""`azak similar`: nearest neighbours of JSON Lines among themselves."""

import argparse
from typing import Any

from azak_cli.commands.arguments import input_path
from azak_cli.errors import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("similar", help="nearest neighbours of JSON Lines ({id, title, content}) among "
                                                   "themselves, with the configured embedder")
    parser.add_argument("path", nargs="?", default="-", help="a JSONL file, or - for standard input")
    parser.add_argument("--k", type=int, default=5, help="neighbours per input (default 5)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import similar

    path = input_path(args.path)
    if not 1 <= args.k <= 100:
        raise UsageError(f"--k must be between 1 and 100, got {args.k}")
    return similar.main(path, args.k)
