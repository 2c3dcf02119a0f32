"""`azak worker`: a Celery worker for runs launched with AZAK_EXECUTOR=celery."""

import argparse
import os
from typing import Any

from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("worker", help="a Celery worker for runs launched with AZAK_EXECUTOR=celery "
                                                  "(broker AZAK_CELERY_BROKER, queue AZAK_CELERY_QUEUE)")
    parser.add_argument("--name", default=f"azak-{os.getpid()}", help="the worker's name (default: azak-<pid>)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import worker

    with environment.session() as runtime:
        return worker.run_worker(runtime, args.name)
