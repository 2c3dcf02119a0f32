"""PostgreSQL's CPU for the prices route's document, statement by statement, in one backend.

On the demo's warehouse (``azak demo --no-serve`` with the same AZAK_HOME, or AZAK_DATABASE_URL),
one connection runs each variant in turn, ``--executions`` times per round, rounds alternating, and
reads the backend's CPU time (psutil) around each batch: the figure the machine's load moves least.
The variants select the bars of the route's default window (a year of 005930's bars):

* the rows alone (``count(*)``): what reading them costs;
* ``json_agg`` of a row rendered per request (the route before ``marts.daily_prices.bar_json``);
* ``string_agg`` of the stored ``bar_json`` texts (the route's bars now);
* the route's whole statement (``stocks.queries.price_series``, as it sends it);
* the same statement with the envelope joined around the bars by ``||`` in PostgreSQL;
* the dashboard's statement (``dashboard.queries.summary``).

It also prints what ``bar_json`` takes per row and in the table.

    python -m benchmarks.prices_sql [--executions 300] [--rounds 3]
"""

import argparse
import asyncio
import re
from typing import Any

import psutil
import psycopg
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from azak_api.dashboard import queries as dashboard
from azak_api.json_sql import _statement, json_array, json_float, json_object
from azak_api.stocks import queries as stocks
from azak_api.stocks.schemas import DailyBar
from azak_core.market import KOSPI
from benchmarks.common import load_average, report

CODE = "005930"
WINDOW = "p.stock_code = %(code)s AND p.trade_date BETWEEN %(first)s AND %(last)s"
RENDERED = {"date": "p.trade_date", **{name: json_float(f"p.{name}") for name in ("open", "high", "low", "close")},
            "volume": "p.volume", "is_halt": "p.is_halt",
            **{name: json_float(f"p.{name}") for name in DailyBar.__struct_fields__[7:]}}


def route_statement() -> tuple[str, dict[str, Any]]:
    """The prices statement exactly as the route sends it (captured from ``price_series``)."""
    captured: dict[str, Any] = {}

    async def capture(_: Any, sql: str, params: dict[str, Any], text_as_bytes: bool = True) -> tuple[Any, ...]:
        captured.update(sql=sql, params=params)
        return True, None, None, None, None, None

    original, stocks.document_row = stocks.document_row, capture  # type: ignore[assignment]
    try:
        asyncio.run(stocks.price_series(None, CODE, "daily", None, None, 364, 7320, None))  # type: ignore[arg-type]
    finally:
        stocks.document_row = original
    return _statement(captured["sql"], psycopg_dialect.dialect()), captured["params"]


def variants(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    first, last = conn.execute("SELECT max(trade_date) - 364, max(trade_date) FROM marts.daily_prices "
                               "WHERE stock_code = %s", (CODE,)).fetchone() or (None, None)
    window = {"code": CODE, "first": first, "last": last}
    route, params = route_statement()
    head_at, tail_at = route.index("CASE WHEN listed"), route.index("\n        FROM w")
    head, bars, tail = (part.split(" THEN ", 1)[1].rsplit(" END", 1)[0]
                        for part in re.split(r",\s+CASE WHEN ", route[head_at:tail_at]))
    concatenated = route[:head_at] + f"CASE WHEN listed THEN {head} || coalesce({bars}, '') || {tail} END" + \
        route[tail_at:]
    return {
        "the rows alone (count)": (f"SELECT count(*) FROM marts.daily_prices p WHERE {WINDOW}", window),
        "json_agg of rows rendered per request (before)":
            (f"SELECT {json_array(RENDERED, 'marts.daily_prices p', WINDOW, 'p.trade_date')}::text", window),
        "string_agg of the stored bar_json (after)":
            (f"SELECT string_agg(p.bar_json, E', \\n ' ORDER BY p.trade_date) FROM marts.daily_prices p "
             f"WHERE {WINDOW}", window),
        "the route's statement (three columns)": (route, params),
        "the same, envelope joined by || in PostgreSQL": (concatenated, params),
        "the dashboard's statement": (_statement(f"WITH {dashboard.SHARED_READS} SELECT "
                                                 f"{json_object(dashboard.SUMMARY)}::text",
                                                 psycopg_dialect.dialect()), {"kospi": KOSPI}),
    }


def main(executions: int, rounds: int) -> None:
    from azak_cli.runtime import environment

    runtime = environment.resolve()
    try:
        with psycopg.connect(runtime.database.render(), autocommit=True) as conn:
            backend = psutil.Process(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
            measured: dict[str, list[float]] = {}
            statements = variants(conn)
            for sql, params in statements.values():
                for _ in range(10):  # past psycopg's prepare threshold and PostgreSQL's custom plans
                    conn.execute(sql, params).fetchone()
            for _ in range(rounds):
                for name, (sql, params) in statements.items():
                    before = sum(backend.cpu_times()[:2])
                    for _ in range(executions):
                        conn.execute(sql, params).fetchone()
                    measured.setdefault(name, []).append((sum(backend.cpu_times()[:2]) - before) / executions * 1000)
            rows = [(name, " / ".join(f"{ms:.2f}" for ms in values) + " ms of backend CPU per execution")
                    for name, values in measured.items()]
            size = conn.execute("SELECT count(*), avg(pg_column_size(bar_json)), "
                                "pg_size_pretty(pg_relation_size('marts.daily_prices')) "
                                "FROM marts.daily_prices").fetchone()
            assert size is not None
            rows.append(("bar_json", f"{size[1]:.0f} B per row stored; {size[0]:,} rows, heap {size[2]}"))
            rows.append(("setup", f"{executions} executions per round, {rounds} rounds; load average {load_average()}"))
    finally:
        runtime.stop_if_started()
    report("The prices document in PostgreSQL (benchmarks/prices_sql.py)", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--executions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.executions, arguments.rounds)
