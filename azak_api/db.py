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
        connect_args={"application_name": "azak-api", "connect_timeout": 5},
    )


async def paged(conn: AsyncConnection, columns: str, source: str, where: str, order: str,
                params: dict[str, Any], offset: int, limit: int) -> tuple[Sequence[Any], int]:
    """One page of ``SELECT columns FROM source WHERE where ORDER BY order`` and the total count.

    The total rides along with the rows (one query); a page past the end counts separately, so
    the total is right on every page.
    """
    rows = (await conn.execute(text(
        f"SELECT {columns}, count(*) OVER () AS total FROM {source} WHERE {where} ORDER BY {order} "
        "LIMIT :limit OFFSET :offset"), {**params, "limit": limit, "offset": offset})).all()
    if rows:
        return rows, int(rows[0].total)
    total: int = (await conn.execute(text(f"SELECT count(*) FROM {source} WHERE {where}"), params)).scalar_one()
    return rows, total


def rows_as(row_type: type[RowT], rows: Sequence[Any]) -> list[RowT]:
    """Typed rows from a query whose columns are ``row_type``'s fields, by name (extra columns,
    such as ``paged``'s ``total``, are left out)."""
    if not rows:
        return []
    columns = rows[0]._fields  # the same for every row: look the positions up once, not per value
    positions = [columns.index(name) for name in row_type._fields]
    return [row_type(*[row[i] for i in positions]) for row in rows]


def row_as(row_type: type[RowT], row: Any) -> RowT | None:
    """One typed row (or None for no row), as :func:`rows_as`."""
    return None if row is None else rows_as(row_type, [row])[0]
