"""Helpers every asset module uses: partition windows, the watch-list, closed-day notes."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

import dagster as dg
import psycopg

from azak_core import clock
from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar, utc_now
from azak_pipelines.lib.markdown import markdown_table
from azak_pipelines.lib.warehouse import TableSpec, table_exists

# run tags that make one run cover a range of partitions (single-run backfills)


if TYPE_CHECKING:
    AssetResult = dg.MaterializeResult[Any]
else:
    # Dagster recognises an asset's result by the bare class (``annotation in (MaterializeResult, ...)``
    # in dagster/_core/definitions/op_definition.py): a subscripted annotation fails for assets with
    # check specs, so what an asset's return annotation evaluates to must stay unsubscripted
    AssetResult = dg.MaterializeResult


class AssetOptions(TypedDict, total=False):
    """Keyword arguments a module shares among its ``@dg.asset`` calls.

    Typed (rather than ``dict[str, Any]``) so that ``**options`` cannot stand for ``dg.asset``'s
    positional ``compute_fn``, which would leave mypy unable to pick an overload.
    """

    group_name: str
    kinds: set[str]
    partitions_def: dg.PartitionsDefinition[str]
    backfill_policy: dg.BackfillPolicy
    automation_condition: dg.AutomationCondition[Any]
    pool: str


def asset_key(spec: TableSpec) -> dg.AssetKey:
    """The asset that writes a table: keys are ``[schema, table]``."""
    return dg.AssetKey([spec.schema, spec.name])


@dataclass(frozen=True)
class Window:
    """A half-open window of KST calendar days ``[start, end)``."""

    start: date
    end: date

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def trading_days(self) -> list[date]:
        return krx_calendar().sessions_between(self.start, self.end)

    def closed_days(self) -> dict[str, str]:
        calendar = krx_calendar()
        return {str(d): calendar.closure_reason(d) or "" for d in self.days()
                if not calendar.is_trading_day(d)}

    def replay_clock(self) -> datetime:
        """"Now" for replayed runs: the evening of the window's last day (never in the future)."""
        return min(datetime.combine(self.last, time(18, 0), KST), utc_now())

    def __str__(self) -> str:
        return f"{self.start} … {self.last}"


def window_of(context: dg.AssetExecutionContext) -> Window:
    span = context.partition_time_window
    return Window(span.start.astimezone(KST).date(), span.end.astimezone(KST).date())


def kst_today() -> date:
    return clock.kst_today()


def watchlist_codes(conn: psycopg.Connection[Any]) -> list[str]:
    if not table_exists(conn, "raw.stocks"):
        raise dg.Failure("raw.stocks does not exist yet: materialize raw/stocks first")
    codes = [row[0] for row in conn.execute(
        "SELECT code FROM raw.stocks WHERE is_watchlist ORDER BY code")]
    if not codes:
        raise dg.Failure("the watch-list is empty: nothing to collect")
    return codes


def closed_days_note(window: Window) -> dict[str, Any]:
    closed = window.closed_days()
    note: dict[str, Any] = {"trading_days": len(window.trading_days()), "closed_days": len(closed)}
    if closed and len(closed) <= 31:
        note["closed_day_reasons"] = closed
    return note


def preview(rows: list[tuple[Any, ...]], columns: list[str], limit: int = 5) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(columns, rows[:limit]) if rows else "no rows")
