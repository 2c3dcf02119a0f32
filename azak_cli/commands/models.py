"""`azak models add|pair|list|set`: the model registry (app.models) and the active A/B pair."""

import argparse
from typing import Any

from azak_cli.commands.arguments import iso_date
from azak_cli.errors import UsageError
from azak_cli.runtime import environment


def register_add(actions: Any) -> None:
    add = actions.add_parser("add", help="register a model; the next prediction run uses it")
    add.add_argument("--name", required=True, help="the registry's name for it (unique)")
    add.add_argument("--provider", required=True, help="who answers: an LLM API, the offline baseline or external",
                     choices=["openai", "openrouter", "openai-compatible", "baseline", "external"])
    add.add_argument("--model", required=True, help="the provider's model identifier")
    add.add_argument("--base-url", help="an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    add.add_argument("--kind", default="chat", choices=["chat", "reasoning"],
                     help="a reasoning model's `reasoning` field is read when the content is empty")
    add.add_argument("--structured", choices=["json_schema", "json_object", "prompt"],
                     help="default: json_schema (openai, openai-compatible), prompt (openrouter)")
    add.add_argument("--api-key-env", help="the variable holding its key (default by provider)")
    add.add_argument("--temperature", type=float, help="sampling temperature (default: the provider's)")
    add.add_argument("--max-tokens", type=int, help="most output tokens per call (also bounds the budget check)")
    add.add_argument("--price-in", type=float, default=0.0, help="USD per 1M input tokens")
    add.add_argument("--price-out", type=float, default=0.0, help="USD per 1M output tokens")
    add.add_argument("--inactive", action="store_true", help="register it without running it")
    add_backfill_arguments(add)
    add.add_argument("--compare-with", metavar="NAME",
                     help="with --backfill: make it (A) and NAME (B) the active A/B pair, compared when the run ends")
    add.set_defaults(func=run)


def add_backfill_arguments(parser: Any) -> None:
    parser.add_argument("--backfill", action="store_true",
                        help="the daemon backfills its news predictions and reports over past days, then evaluates "
                             "them (one model_onboarding_job run)")
    parser.add_argument("--from", dest="backfill_from", type=iso_date, metavar="DAY",
                        help="first day of the backfill (default: AZAK_MODEL_BACKFILL_DAYS before the last priced "
                             "session)")
    parser.add_argument("--to", dest="backfill_to", type=iso_date, metavar="DAY",
                        help="last day of the backfill (default: the last priced session)")
    parser.add_argument("--budget", type=float, metavar="USD",
                        help="US dollars for the whole backfill (default: AZAK_LLM_BUDGET_USD)")


def register_pair(actions: Any) -> None:
    pair = actions.add_parser("pair", help="make two models the active A/B pair (the old pair is kept as history)")
    pair.add_argument("model_a", help="the registry's name of model A")
    pair.add_argument("model_b", help="the registry's name of model B")
    add_backfill_arguments(pair)
    pair.set_defaults(func=run)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("models", help="the model registry (app.models)")
    actions = parser.add_subparsers(dest="action", required=True)
    register_add(actions)
    register_pair(actions)
    listing = actions.add_parser("list", help="every registered model")
    listing.add_argument("--json", action="store_true", help="a JSON array of the models on standard output")
    listing.set_defaults(func=run)
    setter = actions.add_parser("set", help="activate or deactivate a model")
    setter.add_argument("name", help="the registry's name of the model")
    setter.add_argument("--active", action="store_true", help="run it from the next run on")
    setter.add_argument("--inactive", action="store_true", help="stop running it (its rows stay)")
    setter.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_cli import models

    if args.action == "set" and args.active == args.inactive:
        raise UsageError("give exactly one of --active / --inactive")
    if args.action in ("add", "pair"):
        models.check_backfill(args)
    with environment.session() as runtime:
        if args.action == "add":
            return models.add(runtime, args)
        if args.action == "pair":
            return models.pair(runtime, args)
        if args.action == "set":
            return models.set_model(runtime, args.name, args.active)
        return models.list_models(runtime, args.json)
