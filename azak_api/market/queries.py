"""SQL over the market tables the API reads: ``staging.stg_kis__quote_snapshots`` /
``stg_kis__overtime_prices`` / ``stg_kis__financial_ratios`` / ``stg_kis__investor_flows`` (views
over the raw KIS tables, renamed and cast), ``marts.trading_days``, ``marts.daily_prices``,
``marts.index_daily``, and the model outputs in ``computed``. A table the pipelines have not
created yet reads as empty."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import row_as, rows_as, table_exists
from azak_api.json_sql import document_row
from azak_core.sql_files import load_queries

SQL = load_queries(Path(__file__).with_name("queries.sql"))
Number = Decimal | float | int


class QuoteRow(NamedTuple):
    captured_at: datetime
    price: Number
    change: Number | None
    change_rate: Number | None
    open: Number | None
    high: Number | None
    low: Number | None
    volume: int | None
    trading_value: int | None
    per: Number | None
    pbr: Number | None
    eps: Number | None
    bps: Number | None
    market_cap_krw: Number | None
    ask_prices: list[Number] | None
    ask_quantities: list[int] | None
    bid_prices: list[Number] | None
    bid_quantities: list[int] | None
    total_ask_quantity: int | None
    total_bid_quantity: int | None
    source: str


class OvertimeRow(NamedTuple):
    trade_date: date
    price: Number | None
    change: Number | None
    change_rate: Number | None
    volume: int | None


class SessionRow(NamedTuple):
    first_day: date | None
    last_day: date | None
    open_at: datetime | None
    close_at: datetime | None


class RatioRow(NamedTuple):
    period: str
    period_kind: str
    eps: Number | None
    bps: Number | None
    source: str


class CloseRow(NamedTuple):
    trade_date: date
    close: Number
    listed_shares: int | None


async def latest_quote(conn: AsyncConnection, code: str, now: datetime) -> QuoteRow | None:
    """The newest snapshot taken by ``now``."""
    if not await table_exists(conn, "staging.stg_kis__quote_snapshots"):
        return None
    return row_as(QuoteRow, (await conn.execute(text(
        "SELECT * FROM staging.stg_kis__quote_snapshots WHERE stock_code = :code AND captured_at <= :now "
        "ORDER BY captured_at DESC LIMIT 1"), {"code": code, "now": now})).first())


async def latest_after_hours(conn: AsyncConnection, code: str, through: date) -> OvertimeRow | None:
    """The newest after-hours result of a session up to ``through`` (a finished session)."""
    if not await table_exists(conn, "staging.stg_kis__overtime_prices"):
        return None
    return row_as(OvertimeRow, (await conn.execute(text(
        "SELECT * FROM staging.stg_kis__overtime_prices WHERE stock_code = :code AND price IS NOT NULL "
        "AND trade_date <= :through ORDER BY trade_date DESC LIMIT 1"), {"code": code, "through": through})).first())


async def session_of(conn: AsyncConnection, day: date) -> SessionRow:
    """That KST day's session (none on a holiday) and the span the calendar covers."""
    return rows_as(SessionRow, (await conn.execute(text(SQL["session_of"]), {"day": day})).all())[0]


# the latest close by :day, with the listed shares (a valuation's price; in stocks.queries.detail)
LAST_CLOSE = ("SELECT p.trade_date, p.close, s.listed_shares FROM marts.daily_prices p "
              "LEFT JOIN marts.stocks s ON s.stock_code = p.stock_code "
              "WHERE p.stock_code = :code AND p.trade_date <= :day ORDER BY p.trade_date DESC LIMIT 1")
RATIOS, QUOTES = "staging.stg_kis__financial_ratios", "staging.stg_kis__quote_snapshots"
KIS_FIGURES = ("per", "pbr", "eps", "bps", "market_cap_krw", "source")  # what a valuation reads of a quote


class KisFigures(NamedTuple):
    per: Number | None
    pbr: Number | None
    eps: Number | None
    bps: Number | None
    market_cap_krw: Number | None
    source: str


async def valuation_inputs(conn: AsyncConnection, code: str, day: date, has_ratios: bool,
                           has_quotes: bool) -> tuple[RatioRow | None, KisFigures | None]:
    """The newest financial ratios published by ``day`` (point in time: see the SQL) and the day's
    last quote if it carries KIS's own valuation figures (live quotes do), in one round trip; a
    table the pipelines have not created yet (``has_…`` false) reads as no row, and none is asked."""
    if not has_ratios and not has_quotes:
        return None, None
    ratios = SQL["ratios_known_on"] if has_ratios else (
        "SELECT NULL::text AS period, NULL::text AS period_kind, NULL::numeric AS eps, NULL::numeric AS bps, "
        "NULL::text AS source WHERE FALSE")
    quote = (f"SELECT {', '.join(KIS_FIGURES)} FROM {QUOTES} WHERE stock_code = :code AND trade_date = :day "
             "AND (per IS NOT NULL OR pbr IS NOT NULL) ORDER BY captured_at DESC LIMIT 1" if has_quotes else
             "SELECT " + ", ".join(f"NULL::numeric AS {n}" for n in KIS_FIGURES[:-1]) + ", NULL::text AS source "
             "WHERE FALSE")
    row = await document_row(conn, (
        f"SELECT r.found, {', '.join(f'r.{n}' for n in RatioRow._fields)}, "
        f"q.found, {', '.join(f'q.{n}' for n in KIS_FIGURES)} FROM (SELECT 1) AS one "
        f"LEFT JOIN LATERAL (SELECT TRUE AS found, * FROM ({ratios}) AS x) r ON TRUE "
        f"LEFT JOIN LATERAL (SELECT TRUE AS found, * FROM ({quote}) AS x) q ON TRUE"),
        {"code": code, "day": day}, text_as_bytes=False)
    assert row is not None  # one row, with or without matches
    ratio_end = 1 + len(RatioRow._fields)
    return (RatioRow(*row[1:ratio_end]) if row[0] else None,
            KisFigures(*row[ratio_end + 1:]) if row[ratio_end] else None)


async def rows(conn: AsyncConnection, name: str, needs: str, params: dict[str, Any]) -> list[Any]:
    """The rows of the named query, or none when the table it reads (``needs``) does not exist yet."""
    if not await table_exists(conn, needs):
        return []
    return list((await conn.execute(text(SQL[name]), params)).all())
