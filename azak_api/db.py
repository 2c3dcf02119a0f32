"""The async database engine the API reads through (SQLAlchemy Core over psycopg 3)."""

from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from azak_api.settings import Settings

RowT = TypeVar("RowT", bound=NamedTuple)

# Largest id a path accepts: JSON clients (and schema tools) hold numbers as doubles, exact to here.
MAX_ID = 2**53 - 1


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=300,
        # every statement is cancelled past the timeout (SQLSTATE 57014): a costly request cannot
        # hold a connection and a core for longer (errors.py answers 503 naming the setting)
        connect_args={"application_name": "azak-api", "connect_timeout": 5,
                      "options": f"-c statement_timeout={settings.statement_timeout_ms}"},
    )


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
    (no rows read); otherwise a count that stops at the limit, in case the estimate was low."""
    plan: list[dict[str, Any]] = (await conn.execute(text(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source} WHERE {where}"), params)).scalar_one()
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate > EXACT_TOTAL_LIMIT:
        return Total(estimate, is_estimate=True)
    counted: int = (await conn.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT :cap) AS capped"),
        {**params, "cap": EXACT_TOTAL_LIMIT + 1})).scalar_one()
    return Total(counted, is_estimate=counted > EXACT_TOTAL_LIMIT)


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


async def table_exists(conn: AsyncConnection, table: str) -> bool:
    """Whether ``schema.table`` exists (tables the pipelines have not built yet do not)."""
    return bool((await conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})).scalar())


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
