"""`azak predict`: run stock_reports now for one stock and print the reports."""

import argparse
from typing import Any

from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("predict", help="run stock_reports now for one stock; print the reports as JSON")
    parser.add_argument("--stock", required=True, help="stock code, e.g. 005930")
    parser.add_argument("--model", help="one registered model (default: every active model)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import models

    with environment.session(apply=True) as runtime:
        return models.predict(runtime, args.stock, args.model)
