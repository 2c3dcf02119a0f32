"""`azak backfill prices`: fill a date range from KIS in a single run."""

import argparse
from typing import Any

from azak_cli.commands.arguments import iso_date
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("backfill", help="fill a date range from KIS in a single run")
    parser.add_argument("what", choices=["prices"], help="what to fill (daily prices)")
    parser.add_argument("--from", dest="start", type=iso_date, required=True,
                        help="first KST day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--to", dest="end", type=iso_date, required=True,
                        help="last KST day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--codes", nargs="+", help="stock codes (default: the watch-list)")
    parser.add_argument("--basis", default="adjusted", choices=["adjusted", "raw"],
                        help="adjusted (default) or raw prices")
    parser.add_argument("--shards", type=int, default=1,
                        help="split the stocks into this many steps (run on Celery workers with "
                             "AZAK_EXECUTOR=celery); default: the asset's single step")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True) as runtime:
        market.backfill_prices(runtime, args.start, args.end, args.codes, args.basis, args.shards)
    return 0
