"""Answers PostgreSQL writes as JSON: the hot read routes ask the database for their whole document
as one text value and send its bytes as they are, with no Python object per row.

Building ``msgspec`` structs from rows, and SQLAlchemy's processing of every value before that, cost
the API worker ~5 ms of CPU per year of daily bars; PostgreSQL's ``json_build_object``/``json_agg``
write the same document in a fraction of that, on the database's core. The document must stay the
one the route's declared type describes (the OpenAPI schema is generated from that type):
``tests/api/test_json_sql.py`` decodes each answer strictly into its declared type and compares it
with the answer built the former way, value by value.

Two encodings differ from PostgreSQL's own ``to_json`` and are written here once: timestamps as
msgspec writes them (``Z`` for UTC, microseconds only when not zero), and floats as msgspec writes
them (NaN and infinities as ``null``).
"""

from typing import Any, TypeVar, cast

import msgspec
import psycopg
from litestar import Response
from litestar.enums import MediaType
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format
from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


def json_time(column: str) -> str:
    """SQL for a ``timestamptz`` as a JSON string, exactly as msgspec encodes the aware datetime
    psycopg reads (same session time zone): ``2024-01-02T03:04:05[.123456](Z|+09:00)``."""
    return (f"to_json(to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| CASE WHEN mod(extract(microseconds FROM {column})::bigint, 1000000) <> 0 "
            f"THEN to_char({column}, '.US') ELSE '' END "
            f"|| CASE WHEN to_char({column}, 'TZH:TZM') = '+00:00' THEN 'Z' "
            f"ELSE to_char({column}, 'TZH:TZM') END)")


def json_float(column: str) -> str:
    """SQL for a number as a JSON float (``float8``; NaN and infinities as ``null``, as msgspec).

    PostgreSQL sorts NaN above every number, Infinity included, so two comparisons on the value's
    own type (``numeric`` or ``float8``) find the finite ones, and only those are converted."""
    return f"CASE WHEN ({column}) < 'Infinity' AND ({column}) > '-Infinity' THEN ({column})::float8 END"


def json_object(fields: dict[str, str]) -> str:
    """SQL for one JSON object of ``{key: SQL expression}``, keys in the declared type's order (a new
    field is one more entry): an answer's envelope, or an object nested in a row."""
    return "json_build_object(" + ", ".join(f"'{key}', {expression}" for key, expression in fields.items()) + ")"


def json_array(fields: dict[str, str], source: str, where: str, order: str) -> str:
    """SQL for a JSON array (``[]`` when empty, never null) with one object per row of
    ``FROM source WHERE where`` in ``order``, its keys and values ``fields`` (``{key: SQL expression}``).

    Each row's object is a row value (``json_agg`` of a ``LATERAL`` select naming its columns as
    the keys): compact, and about half the database's work of ``json_build_object`` per row."""
    columns = ", ".join(f'{expression} AS "{key}"' for key, expression in fields.items())
    return (f"(SELECT coalesce(json_agg(v ORDER BY {order}), '[]') "
            f"FROM {source} CROSS JOIN LATERAL (SELECT {columns}) v WHERE {where})")


def json_texts(column: str, source: str, where: str, order: str) -> str:
    """SQL for the items of a JSON array, as text without its brackets (``NULL`` when there are
    none): the JSON objects stored in ``column``, one per row of ``FROM source WHERE where`` in
    ``order``, separated as :func:`json_array` (json_agg) separates them.

    For rows whose JSON the pipeline writes with the row (``marts.daily_prices.bar_json``): joining
    241 stored texts costs PostgreSQL a fraction of rendering their ~4,300 values per request
    (docs/figures.md). The brackets go around it in the statement's other columns
    (:func:`json_object_around`): each ``||`` on a 100 KB text is another copy of it."""
    return f"(SELECT string_agg({column}, E', \\n ' ORDER BY {order}) FROM {source} WHERE {where})"


def json_object_around(fields: dict[str, str | None], opens: str = "", closes: str = "") -> tuple[str, str]:
    """SQL for the text of one JSON object before and after the value of its one member whose
    expression is ``None``, byte for byte as ``json_build_object`` writes the object. The other
    values are SQL expressions of JSON text (``NULL`` written as ``null``); the head ends with
    ``opens`` and the tail starts with ``closes`` (``"["`` and ``"]"`` around :func:`json_texts`).
    The large value is selected as its own column and the worker joins the three (:func:`joined`),
    so PostgreSQL neither copies it again nor parses it (a cast to ``json`` would)."""
    keys = list(fields)
    middle = next(index for index, key in enumerate(keys) if fields[key] is None)

    def members(names: list[str]) -> str:
        return "".join(f"'\"{name}\" : ' || coalesce({fields[name]}, 'null') || ', ' || " for name in names)

    head = f"'{{' || {members(keys[:middle])}'\"{keys[middle]}\" : {opens}'"
    tail = f"'{closes}' || " + "".join(f"', ' || '\"{name}\" : ' || coalesce({fields[name]}, 'null') || "
                                       for name in keys[middle + 1:]) + "'}'"
    return head, tail


def joined(*parts: bytes | None) -> bytes:
    """The parts of one document PostgreSQL wrote in pieces (:func:`json_object_around`), as one."""
    return b"".join(part for part in parts if part)


class _TextAsBytes(Loader):
    """A ``text`` value in binary format is its UTF-8 bytes: kept as they are, never a ``str``."""

    format = Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


_STATEMENTS: dict[str, str] = {}


def _statement(sql: str, dialect: Dialect) -> str:
    """``sql`` with its ``:name`` parameters in psycopg's style, compiled by SQLAlchemy once."""
    if (statement := _STATEMENTS.get(sql)) is None:
        statement = _STATEMENTS[sql] = str(text(sql).compile(dialect=dialect))
    return statement


async def document_row(conn: AsyncConnection, sql: str, params: dict[str, Any],
                       text_as_bytes: bool = True) -> tuple[Any, ...] | None:
    """The one row ``sql`` selects (None for none), its ``text`` columns as UTF-8 bytes (as ``str``
    with ``text_as_bytes=False``: a row whose values Python still formats, as the stock detail's).

    Read by psycopg itself on the request's pooled connection, with binary results: SQLAlchemy's
    statement, cursor and result layers cost the API worker more CPU than the rest of a request
    (~0.5 ms per statement, ``benchmarks/json_sql.py``), and a finished document needs none of
    them. The statement is written with the ``:name`` parameters of every other query; psycopg
    prepares it on a connection once it has run there a few times. A failure reaches the error
    handlers (errors.py) as SQLAlchemy's own exception, and a lost connection leaves the pool."""
    statement = _statement(sql, conn.dialect)
    driver = cast(psycopg.AsyncConnection[Any], (await conn.get_raw_connection()).driver_connection)
    try:
        async with driver.cursor(binary=True) as cursor:
            if text_as_bytes:
                cursor.adapters.register_loader("text", _TextAsBytes)
            await cursor.execute(statement, params)
            row = await cursor.fetchone()
    except psycopg.Error as error:
        if conn.dialect.is_disconnect(error, driver, None):  # type: ignore[arg-type]
            await conn.invalidate(error)
        raise DBAPIError.instance(statement, params, error, psycopg.Error) from error
    return tuple(row) if row is not None else None


async def document(conn: AsyncConnection, sql: str, params: dict[str, Any]) -> bytes:
    """The one text value ``sql`` selects (a whole JSON document), as UTF-8 bytes."""
    row = await document_row(conn, sql, params)
    value = row[0] if row is not None and len(row) == 1 else row
    if not isinstance(value, bytes):
        raise TypeError(f"expected the query to select one JSON text value, got {type(value).__name__}")
    return value


def answer(body: bytes, declared: type[T]) -> T:
    """``body`` (JSON of ``declared``, written by PostgreSQL) sent as it is.

    The handler keeps ``declared`` as its return annotation, so the OpenAPI schema is unchanged;
    Litestar sends a returned ``Response`` without encoding it again (the ETag, gzip and response
    cache layers see the same bytes as before)."""
    return cast(T, Response(body, media_type=MediaType.JSON))


def raw_items(body: bytes, item: type[T]) -> list[T]:
    """A JSON array of ``item`` written by PostgreSQL, placed as it is inside an answer Python
    builds (``msgspec.Raw``: the envelope — totals, cursors — stays in Python, the rows are never
    Python objects)."""
    return cast(list[T], msgspec.Raw(body))
