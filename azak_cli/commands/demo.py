"""`azak demo`: materialize the bundled sample data, then serve Dagit and the API."""

import argparse
import time
from typing import Any

from azak_cli.runtime import environment, services
from azak_core.redact import mask_url


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="materialize the bundled sample data, then serve Dagit and the API")
    parser.add_argument("--no-serve", action="store_true", help="exit after the summary")
    parser.add_argument("--refresh", action="store_true", help="re-run every step even if done")
    parser.set_defaults(func=run)


def say_where(runtime: environment.Runtime, milvus: str) -> None:
    where = "embedded PostgreSQL" if runtime.embedded else "AZAK_DATABASE_URL"
    print(f"PostgreSQL: {mask_url(runtime.database.render())} ({where})")
    print(f"Milvus: {milvus} ({'embedded milvus-lite' if runtime.milvus else 'AZAK_MILVUS_URI'})")
    print(f"Dagster home: {runtime.dagster_home}")


def say_how_to_use(dagit: services.Endpoint, api: services.Endpoint, email: str, password: str) -> None:
    login = (f"curl -s -X POST {api.url}/api/auth/login -H 'content-type: application/json' "
             f"-d '{{\"email\": \"{email}\", \"password\": \"{password}\"}}'")
    print(f"Dagit: {dagit.url}  (assets: {dagit.url}/assets, lineage: {dagit.url}/asset-groups)")
    print(f"API:   {api.url}  (health: {api.url}/health, docs: {api.url}/docs)")
    print(f"Log in as the demo admin ({email}):\n  {login}")
    print("Ctrl-C stops everything.")


def run(args: argparse.Namespace) -> int:
    from azak_cli.demo import steps

    started = time.monotonic()
    dagit, api = services.endpoints()
    if not args.no_serve:
        services.check_ports_free([dagit, api])
        services.say_exposure(dagit, api)
    # the manifest (when missing or stale) and the warehouse's parse state, from one dbt parse
    # started first; the code location's modules are imported while the servers start
    parse = steps.DbtParse.early(environment.warehouse_address().render())
    preloading = steps.preload_code_location(parse)
    try:
        with environment.session() as runtime:
            milvus = runtime.ensure_milvus()
            runtime.apply()
            say_where(runtime, milvus)
            with services.supervised(runtime) as supervisor:
                steps.materialize_sample(runtime, refresh=args.refresh, preloading=preloading, parse=parse)
                email, password = steps.ensure_demo_admin(runtime)
                print(f"demo data ready in {time.monotonic() - started:.1f} s")
                if args.no_serve:
                    print(f"demo admin: {email} (password in {runtime.home / 'demo-admin-password'})")
                    return 0
                supervisor.start_servers(dagit, api, dagit.url)
                if supervisor.start_telegram_if_configured():
                    print("Telegram bot: running (log in .azak/logs/telegram.log)")
                say_how_to_use(dagit, api, email, password)
                supervisor.wait()
    finally:
        if parse is not None:  # finished by then, unless the servers or a step failed first
            parse.abandon()
    return 0
