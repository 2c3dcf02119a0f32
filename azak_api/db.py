"""The async database engine the API reads through (SQLAlchemy Core over psycopg 3)."""

import time
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from azak_api.json_sql import document_row
from azak_api.settings import Settings

RowT = TypeVar("RowT", bound=NamedTuple)

# Largest id a path accepts: JSON clients (and schema tools) hold numbers as doubles, exact to here.
MAX_ID = 2**53 - 1


# A pooled connection idle longer than this is pinged before use (a restarted server is noticed
# before a request fails); a busy pool skips the ping, one round trip of two or three per request.
PING_AFTER_IDLE_S = 10.0


def create_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        # every connection the worker may hold at once stays pooled: an overflow connection is
        # closed when it is returned, so concurrency above the pool's size paid a new PostgreSQL
        # session (a backend started, authentication) per request (benchmarks/json_sql.py)
        pool_size=20,
        max_overflow=0,
        pool_recycle=300,
        # every statement is cancelled past the timeout (SQLSTATE 57014): a costly request cannot
        # hold a connection and a core for longer (errors.py answers 503 naming the setting)
        connect_args={"application_name": "azak-api", "connect_timeout": 5,
                      "options": f"-c statement_timeout={settings.statement_timeout_ms}"},
    )
    _ping_when_idle(engine.sync_engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling (its ``pool_pre_ping``), only for connections
    that sat idle: a failed ping makes the pool connect afresh (``DisconnectionError``), and the
    first disconnect seen by a query invalidates the whole pool as before."""

    @event.listens_for(engine, "checkin")
    def idle_since(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_S:
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception as error:  # the connection is gone: a fresh one is made for this checkout
                raise DisconnectionError(str(error)) from error
            if not alive:
                raise DisconnectionError("the idle connection did not answer its ping")


async def table_exists(conn: AsyncConnection, table: str) -> bool:
    """Whether ``schema.table`` exists: the pipelines create the tables the API reads, and a route
    over one not built yet answers empty instead of failing."""
    return bool((await conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})).scalar())


# Past this many matches a page's total is the planner's estimate, not a count (counting a million
# rows for every page would cost more than the page).
EXACT_TOTAL_LIMIT = 10_000
LIKE_ESCAPE = "\\"


class Total(NamedTuple):
    """How many rows match: exact up to ``EXACT_TOTAL_LIMIT``, else PostgreSQL's estimate."""

    matching: int
    is_estimate: bool


def escape_like(value: str) -> str:
    """``value`` as a literal inside an ``(I)LIKE … ESCAPE '\\'`` pattern: its ``%`` and ``_`` are
    characters, not wildcards (wrap it in ``%`` for "contains")."""
    return value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", r"\%").replace("_", r"\_")


async def capped_total(conn: AsyncConnection, source: str, where: str, params: dict[str, Any]) -> Total:
    """The rows of ``source`` matching ``where``: the planner's estimate when it is past the limit
    (no rows read); otherwise a count that stops at the limit, in case the estimate was low. Both
    read by psycopg on the request's connection (json_sql.document_row: no SQLAlchemy result layers)."""
    explained = await document_row(conn, f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source} WHERE {where}", params,
                                   text_as_bytes=False)
    assert explained is not None  # EXPLAIN answers its plan
    estimate = int(explained[0][0]["Plan"]["Plan Rows"])
    if estimate > EXACT_TOTAL_LIMIT:
        return Total(estimate, is_estimate=True)
    counted = await document_row(conn, f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT :cap) "
                                       "AS capped", {**params, "cap": EXACT_TOTAL_LIMIT + 1}, text_as_bytes=False)
    assert counted is not None  # an aggregate answers one row
    return Total(counted[0], is_estimate=counted[0] > EXACT_TOTAL_LIMIT)


async def paged(conn: AsyncConnection, columns: str, source: str, where: str, order: str,
                params: dict[str, Any], offset: int, limit: int) -> tuple[Sequence[Any], Total]:
    """One page of ``SELECT columns FROM source WHERE where ORDER BY order`` and the total
    (:func:`capped_total`; a short page that is not past the end is its own exact count)."""
    rows = (await conn.execute(text(
        f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset})).all()
    if len(rows) < limit and (rows or offset == 0):
        return rows, Total(offset + len(rows), is_estimate=False)
    return rows, await capped_total(conn, source, where, params)


def rows_as(row_type: type[RowT], rows: Sequence[Any]) -> list[RowT]:
    """Typed rows from a query whose columns are ``row_type``'s fields, by name (extra columns
    are left out)."""
    if not rows:
        return []
    columns = rows[0]._fields  # the same for every row: look the positions up once, not per value
    positions = [columns.index(name) for name in row_type._fields]
    return [row_type(*[row[i] for i in positions]) for row in rows]


def row_as(row_type: type[RowT], row: Any) -> RowT | None:
    """One typed row (or None for no row), as :func:`rows_as`."""
    return None if row is None else rows_as(row_type, [row])[0]
