"""`azak notify`: write a KST day's Telegram messages to the outbox (a Dagster run)."""

import argparse
from typing import Any

from azak_cli.commands.arguments import iso_date
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("notify", help="write a KST day's Telegram messages to the outbox (a Dagster run)")
    parser.add_argument("--day", type=iso_date, help="the KST day (default: today)")
    parser.add_argument("--send", action="store_true", help="then deliver what is due and print each receipt")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import telegram

    with environment.session(apply=True) as runtime:
        telegram.notify(runtime, args.day, args.send)
    return 0
