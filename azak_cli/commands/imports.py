"""`azak import prices|news|predictions`: load files into the raw tables through their assets."""

import argparse
from pathlib import Path
from typing import Any

from azak_cli import progress
from azak_cli.output import print_json
from azak_cli.runtime import environment

JSON_HELP = "the run's report (run id, rows written, rejected…) as one JSON object on standard output; no bar"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("import", help="load files into the raw tables through their assets")
    kinds = parser.add_subparsers(dest="kind", required=True)
    prices = kinds.add_parser("prices", help="daily price CSVs (English or pykrx headers)")
    prices.add_argument("paths", nargs="+", help="CSV files")
    prices.add_argument("--format", default="auto", choices=["auto", "english", "pykrx"],
                        help="the header layout (default: recognised from the header)")
    prices.add_argument("--basis", default="adjusted", choices=["adjusted", "raw"],
                        help="what the files hold (pykrx exports are adjusted)")
    prices.add_argument("--code", help="the stock code, when neither a column nor the file name has it")
    prices.add_argument("--json", action="store_true", help=JSON_HELP)
    prices.set_defaults(func=run)
    news = kinds.add_parser("news", help="news as JSON Lines: title, summary|content, published_at "
                                         "(ISO 8601 with offset), source, url (optional)")
    news.add_argument("paths", nargs="+", help="JSONL files")
    news.add_argument("--json", action="store_true", help=JSON_HELP)
    news.set_defaults(func=run)
    predictions = kinds.add_parser("predictions", help="another system's predictions as JSON Lines: model, code, "
                                                       "made_at, horizon_sessions, direction, probability, "
                                                       "base_price/target_price/stop_price (optional)")
    predictions.add_argument("paths", nargs="+", help="JSONL files")
    predictions.add_argument("--json", action="store_true", help=JSON_HELP)
    predictions.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the files (a bar per file on a terminal), then write them in one run in this process."""
    paths = [Path(p) for p in args.paths]
    quiet, bars = args.json, progress.wanted(args.json)
    with environment.session(apply=True) as runtime:
        if args.kind == "predictions":  # its module imports the evaluation domain, which prices do not need
            from azak_cli import evaluation

            report = evaluation.import_predictions(runtime, paths, quiet, bars)
        else:
            from azak_cli import market

            report = (market.import_prices(runtime, paths, args.format, args.basis, args.code, quiet, bars)
                      if args.kind == "prices" else market.import_news(runtime, paths, quiet, bars))
    if args.json:
        print_json(report)
    return 0
