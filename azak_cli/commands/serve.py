"""`azak serve [all|dagit|api|telegram]`: the long-running processes, in the foreground."""

import argparse
from typing import Any

from azak_cli.runtime import environment, services


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="serve Dagit (with the daemon) and/or the API")
    parser.add_argument("what", nargs="?", choices=["all", "dagit", "api", "telegram"], default="all",
                        help="telegram: the bot (long polling) and outbox delivery, in the foreground")
    parser.set_defaults(func=run)


def serve_telegram() -> int:
    from azak_cli import telegram

    with environment.session() as runtime:
        telegram.serve_bot(runtime)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.what == "telegram":
        return serve_telegram()
    dagit, api = services.endpoints()
    wanted = {"all": [dagit, api], "dagit": [dagit], "api": [api]}[args.what]
    services.check_ports_free(wanted)
    services.say_exposure(dagit, api)
    with environment.session() as runtime:
        runtime.ensure_milvus()
        with services.supervised(runtime) as supervisor:
            if dagit in wanted:
                runtime.apply()
            supervisor.start_servers(dagit if dagit in wanted else None, api if api in wanted else None,
                                     dagit.url)
            if dagit in wanted:
                print(f"Dagit: {dagit.url}")
            if api in wanted:
                print(f"API:   {api.url}")
            if args.what == "all" and supervisor.start_telegram_if_configured():
                print("Telegram bot: running")
            supervisor.wait()
    return 0
