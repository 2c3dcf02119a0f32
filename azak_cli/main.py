"""The `azak` command."""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from azak_cli import environment
from azak_cli.market import UsageError
from azak_cli.postgres import DatabaseConfigError
from azak_cli.services import stop_on_signals
from azak_core.redact import mask_url


def cmd_demo(args: argparse.Namespace) -> int:
    from azak_cli import demo, services

    started = time.monotonic()
    dagit, api = services.endpoints()
    if not args.no_serve:
        services.check_ports_free([dagit, api])
        services.say_exposure(dagit, api)
    runtime = environment.resolve()
    supervisor: services.Supervisor | None = None
    try:
        milvus = runtime.ensure_milvus()
        runtime.apply()
        where = "embedded PostgreSQL" if runtime.embedded else "AZAK_DATABASE_URL"
        print(f"PostgreSQL: {mask_url(runtime.database.render())} ({where})")
        print(f"Milvus: {milvus} ({'embedded milvus-lite' if runtime.milvus else 'AZAK_MILVUS_URI'})")
        print(f"Dagster home: {runtime.dagster_home}")
        supervisor = services.Supervisor(runtime)
        demo.materialize_sample(runtime, refresh=args.refresh)
        email, password = demo.ensure_demo_admin(runtime)
        print(f"demo data ready in {time.monotonic() - started:.1f} s")
        login = (f"curl -s -X POST {api.url}/api/auth/login -H 'content-type: application/json' "
                 f"-d '{{\"email\": \"{email}\", \"password\": \"{password}\"}}'")
        if args.no_serve:
            print(f"demo admin: {email} (password in {runtime.home / 'demo-admin-password'})")
            return 0
        demo.cli_instance()  # the pools' limits, before the daemon launches runs
        supervisor.start_dagit(dagit)
        supervisor.env.setdefault("AZAK_DAGSTER_URL", dagit.url)  # on-demand runs (GraphQL)
        supervisor.start_api(api)
        supervisor.wait_ready("Dagit", f"{dagit.url}/server_info")
        supervisor.wait_ready("API", f"{api.url}/health")
        if os.environ.get("AZAK_TELEGRAM_BOT_TOKEN", "").strip():
            supervisor.start_telegram()
            print("Telegram bot: running (log in .azak/logs/telegram.log)")
        print(f"Dagit: {dagit.url}  (assets: {dagit.url}/assets, lineage: {dagit.url}/asset-groups)")
        print(f"API:   {api.url}  (health: {api.url}/health, docs: {api.url}/docs)")
        print(f"Log in as the demo admin ({email}):\n  {login}")
        print("Ctrl-C stops everything.")
        supervisor.wait()
        return 0
    finally:
        if supervisor is not None:
            supervisor.stop()
        runtime.stop_if_started()


def cmd_serve(args: argparse.Namespace) -> int:
    from azak_cli import services

    if args.what == "telegram":
        return cmd_telegram(args)
    dagit, api = services.endpoints()
    what = args.what
    wanted = {"all": [dagit, api], "dagit": [dagit], "api": [api]}[what]
    services.check_ports_free(wanted)
    services.say_exposure(dagit, api)
    runtime = environment.resolve()
    supervisor: services.Supervisor | None = None
    try:
        runtime.ensure_milvus()
        supervisor = services.Supervisor(runtime)
        if dagit in wanted:
            from azak_cli.demo import cli_instance

            runtime.apply()
            cli_instance()  # the pools' limits, before the daemon launches runs
            supervisor.start_dagit(dagit)
            supervisor.wait_ready("Dagit", f"{dagit.url}/server_info")
            print(f"Dagit: {dagit.url}")
        if api in wanted:
            supervisor.env.setdefault("AZAK_DAGSTER_URL", dagit.url)  # on-demand runs (GraphQL)
            supervisor.start_api(api)
            supervisor.wait_ready("API", f"{api.url}/health")
            print(f"API:   {api.url}")
        if what == "all" and os.environ.get("AZAK_TELEGRAM_BOT_TOKEN", "").strip():
            supervisor.start_telegram()
            print("Telegram bot: running")
        supervisor.wait()
        return 0
    finally:
        if supervisor is not None:
            supervisor.stop()
        runtime.stop_if_started()


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "url":
        runtime = environment.resolve(start=False)
        print(runtime.database.render() if args.show_password else mask_url(runtime.database.render()))
        return 0
    embedded = environment.embedded_postgres()
    if args.action == "migrate":
        from azak_api.cli import run_migrations

        with environment.session() as runtime:
            applied = run_migrations(runtime.database.render())
        print(f"applied {', '.join(applied)}" if applied else "the app schema is up to date")
        return 0
    if args.action == "start":
        runtime = environment.resolve()
        state = "started" if runtime.started_embedded else "already running"
        print(f"{mask_url(runtime.database.render())} ({state})")
    elif args.action == "stop":
        print("stopped" if embedded.stop() else "not running")
    elif args.action == "status":
        running = embedded.is_running()
        print(f"embedded PostgreSQL ({embedded.data_dir}): {'running' if running else 'stopped'}")
        return 0 if running else 3
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def cmd_import(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True) as runtime:
        if args.kind == "prices":
            market.import_prices(runtime, [Path(p) for p in args.paths], args.format, args.basis, args.code)
        elif args.kind == "predictions":
            from azak_cli import evaluation

            evaluation.import_predictions(runtime, [Path(p) for p in args.paths])
        else:
            market.import_news(runtime, [Path(p) for p in args.paths])
        return 0


def _stocks(text: str) -> int | None:
    if text == "all":
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"--stocks must be a positive number or 'all', got {text!r}")


def cmd_dev(args: argparse.Namespace) -> int:
    from azak_cli import scale

    if not 0.02 <= args.years <= 30:
        raise UsageError(f"--years must be between 0.02 (a week) and 30, got {args.years}")
    if min(args.minute_stocks, args.minute_days, args.articles) < 0:
        raise UsageError("--minute-stocks, --minute-days and --articles must not be negative")
    out = Path(args.out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    options = scale.ScaleOptions(args.stocks, args.years, args.minute_stocks, args.minute_days,
                                 args.articles, args.seed)
    generated = scale.generate(options, out)
    spent = sum(generated.seconds.values())
    rows = generated.daily_rows + generated.raw_rows + generated.minute_rows
    print(f"generated in {spent:.1f} s under {out}: {generated.daily_rows:,} daily bars "
          f"({len(generated.adjusted_files):,} listings, {generated.halts:,} halt days, "
          f"{len(generated.splits)} splits with {generated.raw_rows:,} raw-basis bars), "
          f"{generated.minute_rows:,} minute bars ({len(generated.minute_files)} stocks), "
          f"{generated.index_rows:,} index levels (KOSPI, KOSDAQ), {len(generated.delisted)} delisted listings, "
          f"{generated.articles:,} articles in {len(generated.news_files)} file(s); "
          f"{rows / max(spent, 1e-9):,.0f} rows/s")
    if not args.load:
        return 0
    with environment.session(apply=True) as runtime:
        seconds = scale.load(runtime, generated)
        daily = seconds["daily_adjusted"] + seconds["daily_raw"]
        print(f"loaded into {mask_url(runtime.database.render())}: daily bars in {daily:.1f} s "
              f"({(generated.daily_rows + generated.raw_rows) / max(daily, 1e-9):,.0f} rows/s), "
              f"minute bars in {seconds['minute']:.1f} s, index levels in {seconds['index']:.1f} s, "
              f"news in {seconds['news']:.1f} s "
              f"({generated.articles / max(seconds['news'], 1e-9):,.0f} articles/s)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from azak_cli import evaluation

    with environment.session(apply=True) as runtime:
        evaluation.evaluate(runtime, args.model, args.start, args.end, args.json)
        return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True) as runtime:
        market.backfill_prices(runtime, args.start, args.end, args.codes, args.basis, args.shards)
        return 0


def cmd_housekeeping(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True) as runtime:
        market.housekeeping(runtime, args.as_of, args.dry_run)
        return 0


def cmd_marts(args: argparse.Namespace) -> int:
    from azak_cli import market

    with environment.session(apply=True):
        market.build_marts(args.full_refresh)
        return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from azak_cli import worker

    with environment.session() as runtime:
        return worker.run_worker(runtime, args.name)


def cmd_match(args: argparse.Namespace) -> int:
    from azak_cli import match

    if args.path != "-" and not Path(args.path).is_file():
        raise UsageError(f"no such file: {args.path}")
    return match.main(args.path, args.universe, args.explain)


def cmd_similar(args: argparse.Namespace) -> int:
    from azak_cli import similar

    if args.path != "-" and not Path(args.path).is_file():
        raise UsageError(f"no such file: {args.path}")
    if not 1 <= args.k <= 100:
        raise UsageError(f"--k must be between 1 and 100, got {args.k}")
    return similar.main(args.path, args.k)


def cmd_milvus(args: argparse.Namespace) -> int:
    server = environment.embedded_milvus()
    if args.action == "start":
        started = server.start()
        print(f"{server.uri} ({'started' if started else 'already running'}; data in {server.data_dir})")
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    else:
        running = server.is_running()
        print(f"embedded Milvus ({server.data_dir}): {'running on ' + server.uri if running else 'stopped'}")
        return 0 if running else 3
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from azak_api.cli import UserExists, upsert_user

    if "@" not in args.email or len(args.email) > 320:
        raise UsageError(f"--email must be an e-mail address, got {args.email!r}")
    if not 10 <= len(args.password) <= 128:
        raise UsageError("--password must be 10 to 128 characters")
    with environment.session() as runtime:
        try:
            user_id, created = upsert_user(runtime.database.render(), args.email, args.password, args.admin,
                                           args.reset_password)
        except UserExists as exc:
            raise UsageError(f"{exc}; pass --reset-password to set its password and role") from None
    role = "admin" if args.admin else "user"
    print(f"{'created' if created else 'updated'} {role} {args.email.lower()} (id {user_id})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from azak_cli import models

    if args.action == "set" and args.active == args.inactive:
        raise UsageError("give exactly one of --active / --inactive")
    with environment.session() as runtime:
        if args.action == "add":
            return models.add(runtime, args)
        if args.action == "set":
            return models.set_model(runtime, args.name, args.active)
        return models.list_models(runtime)


def cmd_predict(args: argparse.Namespace) -> int:
    from azak_cli import models

    with environment.session(apply=True) as runtime:
        return models.predict(runtime, args.stock, args.model)


def cmd_notify(args: argparse.Namespace) -> int:
    from azak_cli import telegram

    with environment.session(apply=True) as runtime:
        telegram.notify(runtime, args.day, args.send)
        return 0


def cmd_telegram(args: argparse.Namespace) -> int:
    from azak_cli import telegram

    with environment.session() as runtime:
        if args.what == "telegram":
            telegram.serve_bot(runtime)
        elif args.action == "subscribe":
            telegram.subscribe(runtime, telegram.chat_id(args.chat), [telegram.stock_arg(s) for s in args.stock])
        elif args.action == "link":
            telegram.link_account(runtime, telegram.chat_id(args.chat), args.user)
        else:
            telegram.show_outbox(runtime, args.day, args.limit)
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="azak", description="Azak data platform")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="materialize the bundled sample data, then serve Dagit and the API")
    demo.add_argument("--no-serve", action="store_true", help="exit after the summary")
    demo.add_argument("--refresh", action="store_true", help="re-run every step even if done")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve Dagit (with the daemon) and/or the API")
    serve.add_argument("what", nargs="?", choices=["all", "dagit", "api", "telegram"], default="all",
                       help="telegram: the bot (long polling) and outbox delivery, in the foreground")
    serve.set_defaults(func=cmd_serve)

    imports = sub.add_parser("import", help="load files into the raw tables through their assets")
    kinds = imports.add_subparsers(dest="kind", required=True)
    prices = kinds.add_parser("prices", help="daily price CSVs (English or pykrx headers)")
    prices.add_argument("paths", nargs="+", help="CSV files")
    prices.add_argument("--format", default="auto", choices=["auto", "english", "pykrx"])
    prices.add_argument("--basis", default="adjusted", choices=["adjusted", "raw"],
                        help="what the files hold (pykrx exports are adjusted)")
    prices.add_argument("--code", help="the stock code, when neither a column nor the file name has it")
    prices.set_defaults(func=cmd_import)
    news = kinds.add_parser("news", help="news as JSON Lines: title, summary|content, published_at "
                                         "(ISO 8601 with offset), source, url (optional)")
    news.add_argument("paths", nargs="+", help="JSONL files")
    news.set_defaults(func=cmd_import)
    predictions = kinds.add_parser("predictions", help="another system's predictions as JSON Lines: model, code, "
                                                       "made_at, horizon_sessions, direction, probability, "
                                                       "base_price/target_price/stop_price (optional)")
    predictions.add_argument("paths", nargs="+", help="JSONL files")
    predictions.set_defaults(func=cmd_import)

    evaluate = sub.add_parser("evaluate", help="evaluate every prediction that is due and print the leaderboard")
    evaluate.add_argument("--model", help="only this model")
    evaluate.add_argument("--from", dest="start", type=_date, help="predictions made on or after this KST day")
    evaluate.add_argument("--to", dest="end", type=_date, help="predictions made on or before this KST day")
    evaluate.add_argument("--json", action="store_true", help="one JSON object on standard output")
    evaluate.set_defaults(func=cmd_evaluate)

    backfill = sub.add_parser("backfill", help="fill a date range from KIS in a single run")
    backfill.add_argument("what", choices=["prices"])
    backfill.add_argument("--from", dest="start", type=_date, required=True)
    backfill.add_argument("--to", dest="end", type=_date, required=True)
    backfill.add_argument("--codes", nargs="+", help="stock codes (default: the watch-list)")
    backfill.add_argument("--basis", default="adjusted", choices=["adjusted", "raw"])
    backfill.add_argument("--shards", type=int, default=1,
                          help="split the stocks into this many steps (run on Celery workers with "
                               "AZAK_EXECUTOR=celery); default: the asset's single step")
    backfill.set_defaults(func=cmd_backfill)

    housekeeping = sub.add_parser("housekeeping", help="drop minute bars and quote snapshots past their "
                                  "retention window now (what the nightly retention_schedule runs)")
    housekeeping.add_argument("--dry-run", action="store_true", help="print what would be dropped, drop nothing")
    housekeeping.add_argument("--as-of", type=_date, help="the KST day the windows count back from (default: today)")
    housekeeping.set_defaults(func=cmd_housekeeping)

    marts = sub.add_parser("marts", help="build every dbt model (incremental marts resume where their inputs changed)")
    marts.add_argument("--full-refresh", action="store_true", help="rebuild the incremental marts from scratch")
    marts.set_defaults(func=cmd_marts)

    worker = sub.add_parser("worker", help="a Celery worker for runs launched with AZAK_EXECUTOR=celery "
                                           "(broker AZAK_CELERY_BROKER, queue AZAK_CELERY_QUEUE)")
    worker.add_argument("--name", default=f"azak-{os.getpid()}", help="the worker's name (default: azak-<pid>)")
    worker.set_defaults(func=cmd_worker)

    matcher = sub.add_parser("match", help="link JSON Lines ({id, title, content}) to listed companies")
    matcher.add_argument("path", nargs="?", default="-", help="a JSONL file, or - for standard input")
    matcher.add_argument("--universe", help="a listing CSV instead of the bundled KRX listing")
    matcher.add_argument("--explain", action="store_true",
                         help="add each link's evidence: the rule that decided it and what it saw")
    matcher.set_defaults(func=cmd_match)

    similar = sub.add_parser("similar", help="nearest neighbours of JSON Lines ({id, title, content}) among "
                                            "themselves, with the configured embedder")
    similar.add_argument("path", nargs="?", default="-", help="a JSONL file, or - for standard input")
    similar.add_argument("--k", type=int, default=5, help="neighbours per input (default 5)")
    similar.set_defaults(func=cmd_similar)

    milvus = sub.add_parser("milvus", help="the embedded Milvus (milvus-lite server under AZAK_HOME)")
    milvus.add_argument("action", choices=["start", "stop", "status"])
    milvus.set_defaults(func=cmd_milvus)

    users = sub.add_parser("users", help="API users")
    actions = users.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a user who can log in to the API")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True, help="10 to 128 characters")
    create.add_argument("--admin", action="store_true", help="give the admin role")
    create.add_argument("--reset-password", action="store_true",
                        help="if the e-mail exists, set its password and role instead of failing")
    create.set_defaults(func=cmd_users)

    registry = sub.add_parser("models", help="the model registry (app.models)")
    model_actions = registry.add_subparsers(dest="action", required=True)
    add = model_actions.add_parser("add", help="register a model; the next prediction run uses it")
    add.add_argument("--name", required=True)
    add.add_argument("--provider", required=True,
                     choices=["openai", "openrouter", "openai-compatible", "baseline", "external"])
    add.add_argument("--model", required=True, help="the provider's model identifier")
    add.add_argument("--base-url", help="an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    add.add_argument("--kind", default="chat", choices=["chat", "reasoning"])
    add.add_argument("--structured", choices=["json_schema", "json_object", "prompt"],
                     help="default: json_schema (openai, openai-compatible), prompt (openrouter)")
    add.add_argument("--api-key-env", help="the variable holding its key (default by provider)")
    add.add_argument("--temperature", type=float)
    add.add_argument("--max-tokens", type=int)
    add.add_argument("--price-in", type=float, default=0.0, help="USD per 1M input tokens")
    add.add_argument("--price-out", type=float, default=0.0, help="USD per 1M output tokens")
    add.add_argument("--inactive", action="store_true")
    add.set_defaults(func=cmd_models)
    model_actions.add_parser("list", help="every registered model").set_defaults(func=cmd_models)
    setter = model_actions.add_parser("set", help="activate or deactivate a model")
    setter.add_argument("name")
    setter.add_argument("--active", action="store_true")
    setter.add_argument("--inactive", action="store_true")
    setter.set_defaults(func=cmd_models)

    predict = sub.add_parser("predict", help="run stock_reports now for one stock; print the reports as JSON")
    predict.add_argument("--stock", required=True, help="stock code, e.g. 005930")
    predict.add_argument("--model", help="one registered model (default: every active model)")
    predict.set_defaults(func=cmd_predict)

    notify = sub.add_parser("notify", help="write a KST day's Telegram messages to the outbox (a Dagster run)")
    notify.add_argument("--day", type=_date, help="the KST day (default: today)")
    notify.add_argument("--send", action="store_true", help="then deliver what is due and print each receipt")
    notify.set_defaults(func=cmd_notify)

    telegram = sub.add_parser("telegram", help="Telegram subscribers and the outbox")
    telegram_actions = telegram.add_subparsers(dest="action", required=True)
    subscribe = telegram_actions.add_parser("subscribe", help="subscribe a chat to stocks (codes or names)")
    subscribe.add_argument("--chat", required=True, help="the Telegram chat id")
    subscribe.add_argument("--stock", required=True, action="append", help="a code or name; repeatable")
    subscribe.set_defaults(func=cmd_telegram, what="subscribe")
    link = telegram_actions.add_parser("link", help="link a chat to an Azak account (its /report answers then)")
    link.add_argument("--chat", required=True, help="the Telegram chat id")
    link.add_argument("--user", required=True, help="the account's email")
    link.set_defaults(func=cmd_telegram, what="link")
    show = telegram_actions.add_parser("outbox", help="what was (or would be) sent, newest first")
    show.add_argument("--day", type=_date, help="only this KST day")
    show.add_argument("--limit", type=int, default=50)
    show.set_defaults(func=cmd_telegram, what="outbox")

    dev = sub.add_parser("dev", help="developer tools")
    dev_actions = dev.add_subparsers(dest="action", required=True)
    generate = dev_actions.add_parser(
        "generate", help="write a synthetic whole-market dataset (seeded): daily bars with splits, "
                         "halts and delistings, KOSPI/KOSDAQ levels, minute bars, news naming listed "
                         "companies; --load imports it")
    generate.add_argument("--out", required=True, help="directory for the files (created)")
    generate.add_argument("--stocks", type=_stocks, default=None,
                          help="the N largest listings, or all (default: all ~2,900)")
    generate.add_argument("--years", type=float, default=10,
                          help="years of daily bars up to 2025-09-26 (0.25: a quarter)")
    generate.add_argument("--minute-stocks", type=int, default=50, help="listings with minute bars")
    generate.add_argument("--minute-days", type=int, default=245,
                          help="the window's last N sessions of minute bars (default: about a year)")
    generate.add_argument("--articles", type=int, default=1_000_000, help="news articles")
    generate.add_argument("--seed", type=int, default=16, help="the same seed writes the same files")
    generate.add_argument("--load", action="store_true",
                          help="then import everything into AZAK_DATABASE_URL: prices and news through "
                               "`azak import`, minute bars and index levels through the warehouse writer")
    generate.set_defaults(func=cmd_dev)

    db = sub.add_parser("db", help="the PostgreSQL in use")
    db.add_argument("action", choices=["url", "start", "stop", "status", "migrate"])
    db.add_argument("--show-password", action="store_true", help="print the URL unmasked")
    db.set_defaults(func=cmd_db)
    return parser




def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stop_on_signals()
    try:
        code: int = args.func(args)
        return code
    except (DatabaseConfigError, UsageError) as exc:
        print(f"azak: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"azak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
