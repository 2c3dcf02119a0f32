"""`azak stocks add`: the watch-list flag in ``app.stock_watchlist`` (as the API's admin route sets
it) and an onboarding request the daemon's ``stock_onboarding_sensor`` turns into a run."""

import psycopg

from azak_api.admin import run_migrations
from azak_cli.errors import UsageError
from azak_cli.runtime.environment import Runtime
from azak_core.market import STOCK_CODE
from azak_pipelines.lib import onboarding
from azak_pipelines.lib.warehouse import table_exists

WATCH = """
INSERT INTO app.stock_watchlist AS w (code, name, market, active) VALUES (%s, %s, %s, true)
ON CONFLICT (code) DO UPDATE SET active = true, updated_at = now(), updated_by = NULL,
    name = coalesce(EXCLUDED.name, w.name), market = coalesce(EXCLUDED.market, w.market)
"""


def add(runtime: Runtime, code: str, name: str | None, market: str | None) -> int:
    """Watch ``code`` and, when it was not watched, request its onboarding; the request's id (0: it
    was watched already)."""
    if not STOCK_CODE.match(code):
        raise UsageError(f"the code must be 6 characters [0-9A-Z], got {code!r}")
    url = runtime.database.render()
    run_migrations(url)
    with psycopg.connect(url) as conn:
        listed = conn.execute("SELECT is_watchlist FROM raw.stocks WHERE code = %s", (code,)).fetchone() \
            if table_exists(conn, "raw.stocks") else None
        change = conn.execute("SELECT active FROM app.stock_watchlist WHERE code = %s", (code,)).fetchone()
        if listed is None and change is None and not name:
            raise UsageError(f"{code} is not in the universe: give its --name (and --market)")
        watched = change[0] if change else bool(listed and listed[0])
        conn.execute(WATCH, (code, name, market))
        request_id = 0 if watched else onboarding.request(conn, code, "cli")
    if request_id:
        print(f"{code} is on the watch-list; onboarding request {request_id}: the daemon's stock_onboarding_sensor "
              "starts its run (history, links, a first report) once reference_job lists it "
              f"(follow it in Dagit or GET /api/stocks/{code})")
    else:
        print(f"{code} was on the watch-list already: nothing to onboard")
    return request_id
