"""`azak docs dictionary`: write the data dictionary (every table's columns, types, descriptions,
owner, freshness and lineage) from the code location's definitions."""

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "dictionary.md"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("docs", help="generated documentation (the data dictionary)")
    actions = parser.add_subparsers(dest="docs_command", required=True)
    dictionary = actions.add_parser(
        "dictionary", help="write every table's columns, types, descriptions and lineage to Markdown")
    dictionary.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                            help=f"where to write it, - for standard output (default {DEFAULT_OUTPUT})")
    dictionary.add_argument("--check", action="store_true",
                            help="write nothing; exit 1 when the file differs from what would be written")
    dictionary.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_pipelines.definitions import defs
    from azak_pipelines.dictionary import render

    text = render(defs())
    if str(args.output) == "-":
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date: run `azak docs dictionary`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({text.count(chr(10) + '## ')} tables)")
    return 0
