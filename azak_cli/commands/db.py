"""`azak db url|start|stop|status|migrate`: the PostgreSQL in use."""

import argparse
import json
from typing import Any

from azak_cli.runtime import environment
from azak_core.redact import mask_url


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="the PostgreSQL in use")
    parser.add_argument("action", choices=["url", "start", "stop", "status", "migrate"],
                        help="print the URL, manage the embedded server, or apply the app migrations")
    parser.add_argument("--show-password", action="store_true", help="print the URL unmasked")
    parser.add_argument("--json", action="store_true", help="url and status: one JSON object on standard output")
    parser.set_defaults(func=run)


def migrate() -> int:
    from azak_api.admin import run_migrations

    with environment.session() as runtime:
        applied = run_migrations(runtime.database.render())
    print(f"applied {', '.join(applied)}" if applied else "the app schema is up to date")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "url":
        runtime = environment.resolve(start=False)
        url = runtime.database.render() if args.show_password else mask_url(runtime.database.render())
        print(json.dumps({"url": url}) if args.json else url)
        return 0
    embedded = environment.embedded_postgres()
    if args.action == "migrate":
        return migrate()
    if args.action == "start":
        runtime = environment.resolve()
        state = "started" if runtime.started_embedded else "already running"
        print(f"{mask_url(runtime.database.render())} ({state})")
    elif args.action == "stop":
        print("stopped" if embedded.stop() else "not running")
    elif args.action == "status":
        running = embedded.is_running()
        print(json.dumps({"embedded": str(embedded.data_dir), "running": running}) if args.json
              else f"embedded PostgreSQL ({embedded.data_dir}): {'running' if running else 'stopped'}")
        return 0 if running else 3
    return 0
