"""`azak telegram subscribe|link|outbox`: Telegram subscribers and the outbox."""

import argparse
from typing import Any

from azak_cli.commands.arguments import iso_date
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("telegram", help="Telegram subscribers and the outbox")
    actions = parser.add_subparsers(dest="action", required=True)
    subscribe = actions.add_parser("subscribe", help="subscribe a chat to stocks (codes or names)")
    subscribe.add_argument("--chat", required=True, help="the Telegram chat id")
    subscribe.add_argument("--stock", required=True, action="append", help="a code or name; repeatable")
    subscribe.set_defaults(func=run)
    link = actions.add_parser("link", help="link a chat to an Azak account (its /report answers then)")
    link.add_argument("--chat", required=True, help="the Telegram chat id")
    link.add_argument("--user", required=True, help="the account's email")
    link.set_defaults(func=run)
    show = actions.add_parser("outbox", help="what was (or would be) sent, newest first")
    show.add_argument("--day", type=iso_date, help="only this KST day")
    show.add_argument("--limit", type=int, default=50, help="most messages shown (default 50)")
    show.add_argument("--json", action="store_true", help="a JSON array of the messages on standard output")
    show.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import telegram

    with environment.session() as runtime:
        if args.action == "subscribe":
            telegram.subscribe(runtime, telegram.chat_id(args.chat), [telegram.stock_arg(s) for s in args.stock])
        elif args.action == "link":
            telegram.link_account(runtime, telegram.chat_id(args.chat), args.user)
        else:
            telegram.show_outbox(runtime, args.day, args.limit, args.json)
    return 0
