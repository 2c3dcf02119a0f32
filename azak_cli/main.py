"""The `azak` command: registers the commands and turns their errors into exit codes."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from azak_cli import dotenv, help_texts
from azak_cli.commands import (
    backfill,
    completion,
    db,
    demo,
    dev,
    docs,
    evaluate,
    housekeeping,
    imports,
    marts,
    match,
    milvus,
    models,
    notify,
    predict,
    serve,
    similar,
    simulate,
    stocks,
    telegram,
    users,
    worker,
)
from azak_cli.errors import UsageError
from azak_cli.runtime.postgres import DatabaseConfigError
from azak_cli.runtime.services import stop_on_signals

# in the order `azak --help` lists them
COMMANDS = (demo, serve, imports, evaluate, backfill, housekeeping, marts, worker, match, similar, milvus, users,
            models, stocks, predict, notify, telegram, simulate, docs, dev, db, completion)


class Version(argparse.Action):
    """``--version``: the installed package's version, read only when asked (reading the package
    metadata costs every command ~0.08 s of CPU otherwise)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import version

        print(f"azak {version('azak')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="azak")
    parser.add_argument("--version", action=Version, nargs=0, help="show the version and exit")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    help_texts.apply(parser)
    parser.set_defaults(root_parser=parser)  # `azak completion` walks the whole tree
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command: exit 2 for a usage or configuration error, 1 for a failure, 130 when
    interrupted."""
    try:
        dotenv.load(Path(".env"))
    except UsageError as exc:
        print(f"azak: {exc}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    stop_on_signals()
    try:
        code: int = args.func(args)
        return code
    except (DatabaseConfigError, UsageError) as exc:
        print(f"azak: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"azak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
