"""The warehouse writer: the one way assets put rows into PostgreSQL.

Tables are declared as :class:`TableSpec`. Time-series tables are ``PARTITION BY RANGE`` on a date
column with monthly or yearly children created on demand, and their natural key is a database
constraint. Two write strategies, both one transaction:

* :func:`replace_slice` — delete the half-open window ``[start, end)`` (optionally only for some
  keys, e.g. the stock codes a file covers) and bulk-load the new rows with ``COPY``. A failure at
  any point leaves the previous slice as it was.
* :func:`merge_rows` — ``COPY`` into a staging table and upsert on the natural key, for sources
  that are collected incrementally during the day (news), where a later run must never lose what
  an earlier one saw.
* :func:`append_rows` — for ``append_only`` tables (what models said): rows are only ever added;
  a row whose natural key is already stored is left as it was, and the database itself refuses
  ``UPDATE`` and ``DELETE`` on such a table.

Retention works on whole children, never rows: :func:`drop_partitions_before` detaches and drops
the children that end on or before a cutoff.

What was written is logged for the models that read a table (``raw.slice_readers``): every write
above, and every dropped child, appends its slice ``[start, end)`` and scope to
``raw.written_slices`` once per registered reader, in the write's own transaction. An incremental
dbt model takes (deletes) its rows in its own transaction and compares only those slices with what
it stored (dbt_project/macros/resume_from.sql), so a daily run does not re-read ten years. A write
that bypasses this writer is not seen by those models until ``azak marts --full-refresh``.

A spec may grow: columns added at the end of a spec (nullable) are added to an existing table by
:func:`ensure_table`; any other difference is refused with what to do.
"""

import itertools
import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, LiteralString

import psycopg
from psycopg import sql

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# what pg_get_expr(relpartbound) says of a range child on one date column
RANGE_BOUND = re.compile(r"^FOR VALUES FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)$")
log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """A write was refused; nothing was changed."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    comment: str = ""


@dataclass(frozen=True)
class TableSpec:
    schema: str
    name: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    partition_column: str | None = None
    granularity: str = "month"  # month | year
    indexes: tuple[tuple[str, ...], ...] = ()
    comment: str = ""
    # columns an upsert must not overwrite (e.g. when an item was first seen)
    keep_on_merge: tuple[str, ...] = field(default=())
    # rows are only ever added (append_rows); the database refuses UPDATE and DELETE
    append_only: bool = False

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        for name in [self.schema, self.name, *names]:
            if not IDENTIFIER.match(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")
        missing = [k for k in self.natural_key if k not in names]
        if missing:
            raise ValueError(f"{self.key}: natural key columns {missing} are not columns")
        if self.partition_column is not None:
            if self.partition_column not in self.natural_key:
                raise ValueError(f"{self.key}: the partition column must be in the natural key")
            if self.granularity not in {"month", "year"}:
                raise ValueError(f"{self.key}: granularity must be month or year")

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def ident(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.name))


@dataclass(frozen=True)
class WriteResult:
    table: str
    deleted: int
    written: int
    partitions_created: tuple[str, ...] = ()
    new_rows: int | None = None  # merges: keys not seen before
    kept: int = 0  # replaces: stored rows kept because their replacement was rejected

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "table": self.table,
            "rows_written": self.written,
            "rows_replaced": self.deleted,
            "rows_kept": self.kept,
            "partitions_created": len(self.partitions_created),
        }
        if self.new_rows is not None:
            meta["rows_new"] = self.new_rows
        return meta


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection: every write below opens its own explicit transaction."""
    return psycopg.connect(url, application_name="azak-pipelines", autocommit=True)


def scalar(conn: psycopg.Connection[Any], query: LiteralString | sql.SQL | sql.Composed,
           params: Sequence[Any] = ()) -> Any:
    """The first column of the one row ``query`` returns (``SELECT count(*)``, ``RETURNING id``)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise WarehouseError(f"expected a row from {query!r}, got none")
    return row[0]


def missing_tables(conn: psycopg.Connection[Any], tables: Iterable[str | TableSpec]) -> list[str]:
    """Those of ``tables`` (specs or ``schema.table`` names) that do not exist, in the order given."""
    names = [t.key if isinstance(t, TableSpec) else t for t in tables]
    rows = conn.execute("SELECT t FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, i) "
                        "WHERE to_regclass(t) IS NULL ORDER BY i", (names,)).fetchall()
    return [row[0] for row in rows]


def table_exists(conn: psycopg.Connection[Any], table: str | TableSpec) -> bool:
    """Whether ``table`` (a spec or a ``schema.table`` name) exists: the one way to ask."""
    return not missing_tables(conn, [table])


def _require_autocommit(conn: psycopg.Connection[Any]) -> None:
    if not conn.autocommit:
        raise ValueError("warehouse writes need an autocommit connection (see warehouse.connect)")


# -- DDL -------------------------------------------------------------------------------------


def _lock_key(spec: TableSpec) -> sql.Composed:
    return sql.SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(sql.Literal(spec.key))


def ensure_table(conn: psycopg.Connection[Any], spec: TableSpec) -> None:
    """Create the schema and table if needed; refuse a table whose columns differ from the spec."""
    _require_autocommit(conn)
    _ensure_slice_log(conn)
    with conn.transaction():
        conn.execute(_lock_key(spec))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(spec.schema)))
        existing = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (spec.schema, spec.name),
        ).fetchall()
        if existing:
            _add_new_columns(conn, spec, [name for name, _ in existing])
            return
        columns = [
            sql.SQL("{} {}{}").format(
                sql.Identifier(c.name), sql.SQL(c.type), sql.SQL("" if c.nullable else " NOT NULL")
            )
            for c in spec.columns
        ]
        columns.append(
            sql.SQL("CONSTRAINT {} UNIQUE ({})").format(
                sql.Identifier(f"{spec.name}_natural_key"),
                sql.SQL(", ").join(map(sql.Identifier, spec.natural_key)),
            )
        )
        partitioning: sql.Composable = sql.SQL("")
        if spec.partition_column:
            partitioning = sql.SQL(" PARTITION BY RANGE ({})").format(
                sql.Identifier(spec.partition_column)
            )
        conn.execute(
            sql.SQL("CREATE TABLE {} ({}){}").format(
                spec.ident, sql.SQL(", ").join(columns), partitioning
            )
        )
        for i, index_columns in enumerate(spec.indexes):
            conn.execute(
                sql.SQL("CREATE INDEX {} ON {} ({})").format(
                    sql.Identifier(f"{spec.name}_ix{i}"),
                    spec.ident,
                    sql.SQL(", ").join(map(sql.Identifier, index_columns)),
                )
            )
        if spec.comment:
            conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(spec.ident, sql.Literal(spec.comment)))
        _comment_columns(conn, spec, spec.columns)
        if spec.append_only:
            conn.execute(sql.SQL(
                "CREATE OR REPLACE FUNCTION {schema}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION '%.% is append-only: rows are never updated or deleted', "
                "TG_TABLE_SCHEMA, TG_TABLE_NAME; END $$").format(schema=sql.Identifier(spec.schema)))
            conn.execute(sql.SQL(
                "CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION {schema}.refuse_change()").format(
                name=sql.Identifier(f"{spec.name}_append_only"), table=spec.ident,
                schema=sql.Identifier(spec.schema)))


SLICE_LOG_DDL: LiteralString = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.slice_readers (
    source text NOT NULL,
    reader text NOT NULL,
    PRIMARY KEY (source, reader)
);
COMMENT ON TABLE raw.slice_readers IS
    'models that resume from the slices written to a table (source): each write is logged for each reader';
CREATE TABLE IF NOT EXISTS raw.written_slices (
    reader text NOT NULL,
    source text NOT NULL,
    slice_start date,
    slice_end date,
    scope jsonb,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE raw.written_slices IS
    'slices [slice_start, slice_end) written to source, restricted to scope (column -> values), not yet taken by '
    'reader; no slice_start: the whole table'
"""


def _ensure_slice_log(conn: psycopg.Connection[Any]) -> None:
    if table_exists(conn, "raw.written_slices"):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('raw.written_slices'))")
        conn.execute(SLICE_LOG_DDL)


def _log_slice(conn: psycopg.Connection[Any], spec: TableSpec, start: date | None, end: date | None,
               scope: dict[str, Sequence[Any]] | None = None) -> None:
    """Within the write's transaction: the slice, once for each model that reads ``spec``'s table."""
    scoped = None
    if scope:
        scoped = json.dumps({column: sorted({str(v) for v in values}) for column, values in scope.items()})
    conn.execute(
        "INSERT INTO raw.written_slices (reader, source, slice_start, slice_end, scope) "
        "SELECT reader, source, %s, %s, %s::jsonb FROM raw.slice_readers WHERE source = %s",
        (start, end, scoped, spec.key))


def _comment_columns(conn: psycopg.Connection[Any], spec: TableSpec, columns: Iterable[Column]) -> None:
    for c in columns:
        if c.comment:
            conn.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                spec.ident, sql.Identifier(c.name), sql.Literal(c.comment)))


def _add_new_columns(conn: psycopg.Connection[Any], spec: TableSpec, have: list[str]) -> None:
    """The additive migration: columns appended to the spec are added to the table (nullable
    ones only, since stored rows have no value for them); any other difference is refused."""
    if have == spec.column_names:
        return
    added = spec.columns[len(have):]
    if spec.column_names[:len(have)] != have or not added:
        raise WarehouseError(
            f"{spec.key} exists with columns {have}, but the code expects {spec.column_names}; "
            "only columns appended at the end are added automatically — migrate or drop the table "
            "(its data can be re-materialized)")
    required = [c.name for c in added if not c.nullable]
    if required:
        raise WarehouseError(
            f"{spec.key} gains required column(s) {required} that stored rows cannot fill; add them "
            "as nullable (and backfill), or drop the table and re-materialize it")
    for c in added:
        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
            spec.ident, sql.Identifier(c.name), sql.SQL(c.type)))
    _comment_columns(conn, spec, added)


def partition_bounds(spec: TableSpec, start: date, end: date) -> list[tuple[str, date, date]]:
    """Child partitions (name, lower, upper) covering ``[start, end)``."""
    bounds: list[tuple[str, date, date]] = []
    if end <= start:
        return bounds
    if spec.granularity == "year":
        cursor = date(start.year, 1, 1)
        while cursor < end:
            upper = date(cursor.year + 1, 1, 1)
            bounds.append((f"{spec.name}_y{cursor.year}", cursor, upper))
            cursor = upper
    else:
        cursor = date(start.year, start.month, 1)
        while cursor < end:
            upper = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
            bounds.append((f"{spec.name}_y{cursor.year}m{cursor.month:02d}", cursor, upper))
            cursor = upper
    return bounds


def ensure_partitions(conn: psycopg.Connection[Any], spec: TableSpec, start: date, end: date) -> list[str]:
    """Create the child partitions covering ``[start, end)`` in their own short transaction."""
    if spec.partition_column is None:
        return []
    wanted = partition_bounds(spec, start, end)
    existing = {
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE n.nspname = %s AND p.relname = %s",
            (spec.schema, spec.name),
        )
    }
    created: list[str] = []
    missing = [b for b in wanted if b[0] not in existing]
    if not missing:
        return created
    with conn.transaction():
        conn.execute(_lock_key(spec))
        for name, lower, upper in missing:
            if table_exists(conn, f"{spec.schema}.{name}"):
                continue  # created by a concurrent writer while we waited for the lock
            conn.execute(
                sql.SQL("CREATE TABLE {}.{} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier(spec.schema), sql.Identifier(name), spec.ident,
                    sql.Literal(lower), sql.Literal(upper),
                )
            )
            created.append(name)
    return created


# -- writes ----------------------------------------------------------------------------------


@contextmanager
def _explained(spec: TableSpec) -> Iterator[None]:
    """Turn database refusals into errors that name the table and the rule."""
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        detail = exc.diag.message_detail or str(exc)
        raise WarehouseError(
            f"rows for {spec.key} repeat its natural key ({', '.join(spec.natural_key)}): "
            f"{detail} — nothing was written"
        ) from None
    except psycopg.errors.NotNullViolation as exc:
        raise WarehouseError(
            f"a row for {spec.key} has no value for required column {exc.diag.column_name!r} "
            "— nothing was written"
        ) from None
    except (psycopg.errors.DataError, psycopg.errors.CheckViolation) as exc:
        raise WarehouseError(f"a row for {spec.key} was refused: {exc} — nothing was written") from None


def _checked_rows(spec: TableSpec, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                  start: date | None, end: date | None, text: bool = False) -> Iterator[Sequence[Any]]:
    """Rows pass through unchanged; one outside the slice aborts the write."""
    if spec.partition_column is None or start is None or end is None:
        yield from rows
        return
    position = 0 if text else list(columns).index(spec.partition_column)
    for row in rows:
        value = row[position]
        if not start <= value < end:
            raise WarehouseError(
                f"a row for {spec.key} has {spec.partition_column}={value}, outside the slice "
                f"[{start}, {end}) being written — nothing was written"
            )
        yield row


def copy_text(value: Any) -> str:
    """One value in COPY's text format (for callers that render lines themselves)."""
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def _copy(conn: psycopg.Connection[Any], target: sql.Composable, columns: Sequence[str],
          rows: Iterable[Sequence[Any]], text: bool = False) -> int:
    count = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        if not text:
            for row in rows:
                copy.write_row(row)
                count += 1
            return count
        batch: list[str] = []
        for _, line in rows:
            batch.append(line)
            if len(batch) == 4096:
                copy.write("".join(batch))
                count += len(batch)
                batch.clear()
        copy.write("".join(batch))
        count += len(batch)
    return count


def replace_slice(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    rows: Iterable[Sequence[Any]],
    start: date | None = None,
    end: date | None = None,
    scope: dict[str, Sequence[Any]] | None = None,
    columns: Sequence[str] | None = None,
    text_lines: bool = False,
    keep: Callable[[], Collection[Sequence[Any]]] | None = None,
    written_span: Callable[[], tuple[Any, Any] | None] | None = None,
) -> WriteResult:
    """Atomically replace the rows of ``[start, end)`` (restricted to ``scope``) with ``rows``.

    ``scope`` maps a column to the values whose rows are replaced, e.g. ``{"stock_code": codes}``
    when a file covers only some stocks. Unpartitioned tables are replaced whole (``start`` and
    ``end`` omitted). With ``text_lines`` each row is a pair ``(partition value, line)`` where
    ``line`` is already in COPY text format (see :func:`copy_text`) — the fast path for bulk
    imports; the slice check is the same.

    ``keep``, called once ``rows`` are written (a streaming parser has met every rejection by then),
    returns natural keys (in ``spec.natural_key`` order) whose stored rows stay: the keys of rows
    that were rejected, whose valid stored row a rejection must not delete. The slice's old rows
    are set aside for it in a temporary table: a re-import pays one more write of what it
    replaces; a first import, nothing.

    ``written_span``, called once ``rows`` are written, gives the first and last partition value
    written (None: none): the old rows outside it stay, for a window chosen before the rows were
    validated (a rejected row dated past the valid ones must not widen what is replaced).
    """
    columns = list(columns or spec.column_names)
    _refuse_append_only(spec, "replace_slice")
    if spec.partition_column is not None and (start is None or end is None):
        raise ValueError(f"{spec.key} is partitioned: give the slice [start, end)")
    ensure_table(conn, spec)
    created = ensure_partitions(conn, spec, start, end) if start and end else []
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    if spec.partition_column is not None:
        conditions.append(
            sql.SQL("{col} >= %s AND {col} < %s").format(col=sql.Identifier(spec.partition_column))
        )
        params += [start, end]
    for column, values in (scope or {}).items():
        conditions.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
        params.append(list(values))
    where = _where(conditions)
    with _explained(spec), conn.transaction():
        deleted, checked = _delete_overlapped(conn, spec, where, params, keep is not None or written_span is not None,
                                              _checked_rows(spec, columns, rows, start, end, text_lines))
        written = _copy(conn, spec.ident, columns, checked, text_lines)
        kept = (_restore(conn, spec, keep()) if keep is not None else 0) + (
            _restore_outside(conn, spec, written_span()) if written_span is not None else 0)
        _log_slice(conn, spec, start, end, scope)
    return WriteResult(spec.key, deleted - kept, written, tuple(created), kept=kept)


def _delete_overlapped(conn: psycopg.Connection[Any], spec: TableSpec, where: sql.Composable, params: list[Any],
                       aside: bool, rows: Iterable[Any]) -> tuple[int, Iterator[Any]]:
    """Delete the slice (its rows set aside when ``aside``) on another thread while this one reads
    the first ``rows`` — parsing files overlaps the database's delete; the connection serves one
    thread at a time. The count deleted, and every row (those read ahead first)."""
    with ThreadPoolExecutor(1, "replace-slice-delete") as pool:
        deleting = pool.submit(_delete_aside if aside else _delete, conn, spec, where, params)
        rest = iter(rows)
        try:
            ahead = _read_ahead(rest, deleting)
        except BaseException:
            wait([deleting])  # the connection is free again before the transaction rolls back
            raise
        return deleting.result(), itertools.chain(ahead, rest)


def _delete(conn: psycopg.Connection[Any], spec: TableSpec, where: sql.Composable, params: list[Any]) -> int:
    return conn.execute(sql.SQL("DELETE FROM {}").format(spec.ident) + where, params).rowcount


# at most this many rows are read ahead while the slice is deleted (memory: ~100 bytes a row)
READ_AHEAD_ROWS = 200_000


def _read_ahead(rows: Iterator[Any], busy: Future[Any]) -> list[Any]:
    """Rows taken from ``rows`` while ``busy`` runs, at most :data:`READ_AHEAD_ROWS`."""
    taken: list[Any] = []
    while not busy.done() and len(taken) < READ_AHEAD_ROWS:
        batch = list(itertools.islice(rows, 1024))
        taken += batch
        if len(batch) < 1024:
            break
    return taken


def _where(conditions: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")


def _aside(spec: TableSpec) -> sql.Identifier:
    return sql.Identifier(f"_replaced_{spec.name}")


def _delete_aside(conn: psycopg.Connection[Any], spec: TableSpec, where: sql.Composable, params: list[Any]) -> int:
    """Delete the slice, keeping its rows aside in a temporary table until the transaction ends."""
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(_aside(spec)))
    conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(_aside(spec), spec.ident))
    return conn.execute(sql.SQL("WITH gone AS (DELETE FROM {} {} RETURNING *) INSERT INTO {} SELECT * FROM gone")
                        .format(spec.ident, where, _aside(spec)), params).rowcount


def _restore(conn: psycopg.Connection[Any], spec: TableSpec, keys: Collection[Sequence[Any]]) -> int:
    """Put back the deleted rows of ``keys`` (natural keys), unless a new row took the key."""
    if not keys:
        return 0
    types = {c.name: c.type for c in spec.columns}
    arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(types[c])) for c in spec.natural_key)
    key = sql.SQL(", ").join(map(sql.Identifier, spec.natural_key))
    return conn.execute(
        sql.SQL("INSERT INTO {} SELECT * FROM {} WHERE ({}) IN (SELECT * FROM unnest({})) ON CONFLICT DO NOTHING")
        .format(spec.ident, _aside(spec), key, arrays),
        [list(column) for column in zip(*keys, strict=True)]).rowcount


def _restore_outside(conn: psycopg.Connection[Any], spec: TableSpec, span: tuple[Any, Any] | None) -> int:
    """Put back the deleted rows outside ``span`` (all of them when it is None), unless a new row
    took the key."""
    column = spec.partition_column
    if column is None:
        raise ValueError(f"{spec.key} is not partitioned: a written span means nothing for it")
    outside = sql.SQL("") if span is None else sql.SQL(" WHERE {col} < %s OR {col} > %s").format(
        col=sql.Identifier(column))
    return conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(spec.ident, _aside(spec)) + outside
                        + sql.SQL(" ON CONFLICT DO NOTHING"), [] if span is None else list(span)).rowcount


def merge_rows(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    rows: Iterable[Sequence[Any]],
    start: date,
    end: date,
    order_by: str | None = None,
) -> WriteResult:
    """Upsert ``rows`` (all inside ``[start, end)``) on the natural key, keeping earlier rows.

    When a batch repeats a key, the row sorting last by ``order_by`` wins.
    """
    return _insert(conn, spec, rows, start, end, order_by, update=True)


def append_rows(conn: psycopg.Connection[Any], spec: TableSpec, rows: Iterable[Sequence[Any]],
                start: date, end: date) -> WriteResult:
    """Insert ``rows`` (all inside ``[start, end)``); rows whose natural key exists are skipped,
    never updated. ``new_rows`` counts what was really added."""
    return _insert(conn, spec, rows, start, end, None, update=False)


def _insert(conn: psycopg.Connection[Any], spec: TableSpec, rows: Iterable[Sequence[Any]], start: date,
            end: date, order_by: str | None, update: bool) -> WriteResult:
    if spec.partition_column is None:
        raise ValueError(f"{spec.key} is not partitioned; use replace_slice")
    if update:
        _refuse_append_only(spec, "merge_rows")
    elif not spec.append_only:
        raise ValueError(f"{spec.key} is not append-only: use replace_slice or merge_rows")
    columns = spec.column_names
    ensure_table(conn, spec)
    created = ensure_partitions(conn, spec, start, end)
    count_slice = sql.SQL("SELECT count(*) FROM {} WHERE {col} >= %s AND {col} < %s").format(
        spec.ident, col=sql.Identifier(spec.partition_column)
    )
    stage = sql.Identifier(f"_stage_{spec.name}")
    updatable = [c for c in columns if c not in spec.natural_key and c not in spec.keep_on_merge]
    key = sql.SQL(", ").join(map(sql.Identifier, spec.natural_key))
    order = sql.SQL(", {} DESC").format(sql.Identifier(order_by)) if order_by else sql.SQL("")
    action = (
        sql.SQL("DO UPDATE SET ") + sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updatable
        )
        if updatable and update else sql.SQL("DO NOTHING")
    )
    with _explained(spec), conn.transaction():
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                stage, spec.ident
            )
        )
        staged = _copy(conn, stage, columns, _checked_rows(spec, columns, rows, start, end))
        before = conn.execute(count_slice, (start, end)).fetchone()
        conn.execute(
            sql.SQL(
                "INSERT INTO {target} ({cols}) SELECT DISTINCT ON ({key}) {cols} FROM {stage} "
                "ORDER BY {key}{order} ON CONFLICT ({key}) {action}"
            ).format(
                target=spec.ident, cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                key=key, stage=stage, order=order, action=action,
            )
        )
        after = conn.execute(count_slice, (start, end)).fetchone()
        _log_slice(conn, spec, start, end)
    new_rows = (after[0] if after else 0) - (before[0] if before else 0)
    return WriteResult(spec.key, 0, staged, tuple(created), new_rows)


def _refuse_append_only(spec: TableSpec, how: str) -> None:
    if spec.append_only:
        raise ValueError(f"{spec.key} is append-only: write it with append_rows, not {how}")



# -- retention -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DroppedPartition:
    """A child partition that retention removed, and what it held just before."""

    name: str
    lower: date
    upper: date
    rows: int
    bytes: int


def months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` whole months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def child_partitions(conn: psycopg.Connection[Any], spec: TableSpec) -> list[tuple[str, date, date]]:
    """The children of ``spec``'s table as the catalog bounds them: (name, lower, upper), oldest
    first. A child whose bound is not a plain date range (``DEFAULT``, ``MINVALUE``) is left out."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = %s AND p.relname = %s",
        (spec.schema, spec.name),
    ).fetchall()
    children = []
    for name, bound in rows:
        match = RANGE_BOUND.match(bound or "")
        if match:
            children.append((name, date.fromisoformat(match[1]), date.fromisoformat(match[2])))
    return sorted(children, key=lambda child: child[1])


def drop_partitions_before(conn: psycopg.Connection[Any], spec: TableSpec, cutoff: date,
                           dry_run: bool = False) -> list[DroppedPartition]:
    """Detach and drop every child whose upper bound is on or before ``cutoff``, one transaction
    per child. A child straddling the cutoff is kept whole: rows are never deleted one by one.
    Rows are counted exactly just before each drop (one scan of a child that is about to go, once
    a month); ``bytes`` is the child's size with its indexes. ``dry_run`` counts and drops nothing.
    """
    _require_autocommit(conn)
    if spec.partition_column is None:
        raise ValueError(f"{spec.key} is not partitioned: retention drops whole monthly or yearly "
                         "children, and this table has none")
    if spec.append_only:
        raise ValueError(f"{spec.key} is append-only: what it records is kept, never dropped")
    _ensure_slice_log(conn)
    dropped = []
    for name, lower, upper in child_partitions(conn, spec):
        if upper > cutoff:
            continue
        child = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(name))
        rows = scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(child))
        size = scalar(conn, "SELECT pg_total_relation_size(%s::regclass)", (f"{spec.schema}.{name}",))
        if not dry_run:
            with conn.transaction():
                conn.execute(_lock_key(spec))  # no writer is creating children meanwhile
                conn.execute(sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(spec.ident, child))
                conn.execute(sql.SQL("DROP TABLE {}").format(child))
                _log_slice(conn, spec, lower, upper)
            log.info("dropped %s.%s [%s, %s): %d rows, %d bytes", spec.schema, name, lower, upper,
                     rows, size)
        dropped.append(DroppedPartition(name, lower, upper, rows, size))
    return dropped
