"""`azak milvus start|stop|status`: the embedded Milvus (milvus-lite) under AZAK_HOME."""

import argparse
from typing import Any

from azak_cli.output import print_json
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("milvus", help="the embedded Milvus (milvus-lite server under AZAK_HOME)")
    parser.add_argument("action", choices=["start", "stop", "status"], help="what to do with the embedded Milvus")
    parser.add_argument("--json", action="store_true", help="status: one JSON object on standard output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    server = environment.embedded_milvus()
    if args.action == "start":
        started = server.start()
        print(f"{server.uri} ({'started' if started else 'already running'}; data in {server.data_dir})")
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    else:
        running = server.is_running()
        if args.json:
            print_json({"embedded": str(server.data_dir), "running": running, "uri": server.uri if running else None})
        else:
            print(f"embedded Milvus ({server.data_dir}): {'running on ' + server.uri if running else 'stopped'}")
        return 0 if running else 3
    return 0
