"""Daily price files (CSV) → validated rows, streamed. Pure: no database, no Dagster.

Accepted layouts (detected from the header, or forced):

* ``english`` — ``date, open, high, low, close, volume`` (any case, extra columns ignored), with the
  stock code in a ``code``/``ticker``/``symbol`` column or at the start of the file name
  (``005930.csv``, ``005930_D.csv``);
* ``pykrx`` — pykrx's Korean export ``날짜, 시가, 고가, 저가, 종가, 거래량`` (``등락률``, ``거래대금``
  optional), code as above (``종목코드`` column or file name).

Dates may be ``YYYYMMDD`` or ``YYYY-MM-DD`` (``.`` and ``/`` separators too). A bad row is not fatal:
it is yielded as a :class:`Rejected` with file, line and reason. A zero-volume day is kept (a trading
halt); when a vendor prints 0 for its open/high/low, those become empty — there was no trade.
"""

import csv
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from azak_core.market import STOCK_CODE, bar_problem, is_halt
from azak_pipelines.lib.quarantine import Rejected

CODE_IN_NAME = re.compile(r"^([0-9][0-9A-Z]{5})(?:[_.\-].*)?$")  # KRX codes start with a digit


@dataclass(frozen=True)
class Layout:
    name: str
    date: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    value: str | None
    code_columns: tuple[str, ...]


LAYOUTS = {
    "english": Layout("english", "date", "open", "high", "low", "close", "volume", "value",
                      ("code", "ticker", "symbol", "stock_code")),
    "pykrx": Layout("pykrx", "날짜", "시가", "고가", "저가", "종가", "거래량", "거래대금", ("종목코드",)),
}


class PriceFileError(ValueError):
    """The file as a whole cannot be imported (unknown layout, no stock code, unreadable)."""


def accepted_layouts() -> str:
    return "; ".join(
        f"{layout.name}: {', '.join([layout.date, layout.open, layout.high, layout.low, layout.close, layout.volume])}"
        for layout in LAYOUTS.values()
    )


class PriceRow(NamedTuple):
    """A valid bar. Prices keep the file's own digits: exact, no float round trip."""

    stock_code: str
    trade_date: date
    open: str | None
    high: str | None
    low: str | None
    close: str
    volume: int
    value: int | None
    line: int


def _normalise(header: list[str]) -> list[str]:
    return [h.strip().lstrip("\ufeff").lower() for h in header]


def detect_layout(header: list[str], forced: str = "auto") -> Layout:
    columns = set(_normalise(header))
    if forced != "auto":
        if forced not in LAYOUTS:
            raise PriceFileError(f"unknown format {forced!r}; accepted layouts: {accepted_layouts()}")
        candidates = [LAYOUTS[forced]]
    else:
        candidates = list(LAYOUTS.values())
    for layout in candidates:
        needed = {layout.date, layout.open, layout.high, layout.low, layout.close, layout.volume}
        if needed <= columns:
            return layout
    raise PriceFileError(
        f"header {header!r} matches no accepted layout; accepted layouts: {accepted_layouts()}"
    )


def parse_date(text: str) -> date:
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    if len(text) >= 10 and text[4] in "-./" and text[7] == text[4]:
        return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    raise ValueError


# date texts parsed so far, shared by every file (``None``: not a date): the files of one import
# repeat the same few hundred sessions, each row its own text; a safety bound on junk texts
_DATES: dict[str, date | None] = {}
_DATES_BOUND = 100_000


def _cached_date(text: str) -> date | None:
    """:func:`parse_date` of ``text`` once per distinct text; ``None`` when it is not a date."""
    if len(_DATES) >= _DATES_BOUND:
        _DATES.clear()
    try:
        _DATES[text] = parse_date(text)
    except ValueError:
        _DATES[text] = None
    return _DATES[text]


def _number(text: str) -> tuple[str, float]:
    """A price cell → (canonical digits, value). Plain digits take the fast path."""
    if text.isascii() and text.isdigit():
        return text, int(text)
    cleaned = text.strip().replace(",", "")
    if not cleaned.isascii():
        raise ValueError  # e.g. superscript or non-Latin digits: not what PostgreSQL reads
    value = float(cleaned)  # raises ValueError for anything that is not a number
    if not math.isfinite(value):
        raise ValueError
    if cleaned.endswith(".0"):
        cleaned = cleaned[:-2]
    return cleaned, value


def code_from_name(path: Path) -> str | None:
    match = CODE_IN_NAME.match(path.stem.upper())
    return match.group(1) if match else None


def read_price_file(path: Path, layout_name: str = "auto", code: str | None = None) -> Iterator[PriceRow | Rejected]:
    """Stream the rows of one file. Raises :class:`PriceFileError` only for file-level problems."""
    with _csv_rows(path) as (header, rows):
        parser = _RowParser(path, _columns(path, header, layout_name), code)
        for line, cells in enumerate(rows, start=2):
            row = parser.parse(line, cells)
            if row is not None:
                yield row


@contextmanager
def _csv_rows(path: Path) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """The header and the rows after it; a file that cannot be read as CSV text is refused."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise PriceFileError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise PriceFileError(f"{path}: the file is empty") from None
        except UnicodeDecodeError:
            raise PriceFileError(f"{path}: not UTF-8 text (save the CSV as UTF-8)") from None
        yield header, _lines(reader)


class _Columns(NamedTuple):
    """Where each field of a layout stands in one file's rows."""

    date: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    value: int | None
    code: int | None
    width: int
    code_columns: tuple[str, ...]


def _columns(path: Path, header: list[str], layout_name: str) -> _Columns:
    layout = detect_layout(header, layout_name)
    names = _normalise(header)
    index = {name: i for i, name in enumerate(names)}
    return _Columns(index[layout.date], index[layout.open], index[layout.high], index[layout.low],
                    index[layout.close], index[layout.volume],
                    index.get(layout.value) if layout.value else None,
                    next((index[c] for c in layout.code_columns if c in index), None), len(names),
                    layout.code_columns)


class _RowParser:
    """One file's rows → :class:`PriceRow` or :class:`Rejected`; dates are parsed once per distinct
    text across files, codes once per file (a file repeats its code on every row)."""

    def __init__(self, path: Path, columns: _Columns, code: str | None) -> None:
        self.name, self.columns = path.name, columns
        self.fixed_code = code or (None if columns.code is not None else code_from_name(path))
        if self.fixed_code is None and columns.code is None:
            raise PriceFileError(
                f"{path}: no stock code — add a code column ({', '.join(columns.code_columns)}), "
                "name the file after the code (e.g. 005930.csv) or pass --code"
            )
        self.codes: dict[str, str] = {}

    def parse(self, line: int, cells: list[str]) -> PriceRow | Rejected | None:
        """The row on ``line``; ``None`` for a blank line."""
        i_date, i_open, i_high, i_low, i_close, i_volume, i_value, i_code, width, _ = self.columns
        if len(cells) < width:
            if cells and any(cell.strip() for cell in cells):
                return self.reject(line, f"expected {width} columns, found {len(cells)}", cells)
            return None
        stock_code = self.fixed_code or self.code(cells[i_code])  # type: ignore[index]
        if stock_code is None:
            candidate = cells[i_code].strip().upper()  # type: ignore[index]
            return self.reject(line, f"stock code {candidate!r} is not 6 characters [0-9A-Z]", cells)
        text = cells[i_date]
        trade_date = _DATES[text] if text in _DATES else _cached_date(text)
        if trade_date is None:
            return self.reject(line, f"date {cells[i_date]!r} is not YYYYMMDD or YYYY-MM-DD", cells)
        o, h, lo, c, v = cells[i_open], cells[i_high], cells[i_low], cells[i_close], cells[i_volume]
        if (o.isdigit() and h.isdigit() and lo.isdigit() and c.isdigit() and v.isdigit()
                and (o + h + lo + c + v).isascii()):  # the common case: plain integers
            value = None if i_value is None else self.value(cells)
            if isinstance(value, str):
                return self.reject(line, value, cells, (stock_code, trade_date))
            i_o, i_h, i_lo, i_c, volume = int(o), int(h), int(lo), int(c), int(v)
            if volume and i_c and i_o and 0 < i_lo <= i_h:
                # traded, every price positive, low ≤ high: what bar_problem passes, and no halt
                return _row(PriceRow, (stock_code, trade_date, o, h, lo, c, volume, value, line))
            bar: tuple[Any, ...] | str = (o, h, lo, c, volume, value, i_o, i_h, i_lo, i_c)
        else:
            bar = self.bar(o, h, lo, c, v, cells)
        if isinstance(bar, str):
            return self.reject(line, bar, cells, (stock_code, trade_date))
        open_, high, low, close, volume, value, f_open, f_high, f_low, f_close = bar
        problem = bar_problem(f_open, f_high, f_low, f_close, volume)
        if problem:
            return self.reject(line, problem, cells, (stock_code, trade_date))
        if is_halt(f_open, f_high, f_low, volume):
            return _row(PriceRow, (stock_code, trade_date, None, None, None, close, 0, value, line))
        return _row(PriceRow, (stock_code, trade_date, open_, high, low, close, volume, value, line))

    def reject(self, line: int, reason: str, cells: list[str],
               key: tuple[str, date] | None = None) -> Rejected:
        """The line rejected; ``key`` (code, day) when both were read, so that the row stored for
        that key is kept rather than replaced."""
        return Rejected(f"{self.name}:{line}", reason, ",".join(cells), key)

    def code(self, raw: str) -> str | None:
        """The cell's stock code; ``None`` when it is not one."""
        stock_code = self.codes.get(raw)
        if stock_code is None:
            candidate = raw.strip().upper()
            if not STOCK_CODE.match(candidate):
                return None
            stock_code = self.codes[raw] = candidate
        return stock_code

    def bar(self, o: str, h: str, lo: str, c: str, v: str, cells: list[str]) -> tuple[Any, ...] | str:
        """Open, high, low, close as the file's digits, volume, traded value, then the four prices
        as numbers; or why a cell is not a number."""
        numbers = []
        for label, text in (("open", o), ("high", h), ("low", lo), ("close", c)):
            try:
                numbers.append(_number(text))
            except (ValueError, OverflowError):
                return f"{label} {text!r} is not a number"
        try:
            volume = int(v) if v.isdigit() else int(_number(v)[1])
        except (ValueError, OverflowError):
            return f"volume {v!r} is not a number"
        value = self.value(cells)
        if isinstance(value, str):
            return value
        digits, floats = zip(*numbers, strict=True)
        return (*digits, volume, value, *floats)

    def value(self, cells: list[str]) -> int | str | None:
        """The traded value when the layout has one and the cell is not empty."""
        if self.columns.value is None or not cells[self.columns.value].strip():
            return None
        text = cells[self.columns.value]
        try:
            return int(_number(text)[1])
        except (ValueError, OverflowError):
            return f"traded value {text!r} is not a number"


# PriceRow(...) runs a Python-level __new__; building the tuple directly is what it does, faster
_row = tuple.__new__


def date_span(path: Path, layout_name: str = "auto", code: str | None = None) -> tuple[date, date] | None:
    """The first and last date a file's rows give, reading only its date column (``None`` when no
    row has a date): what a command needs to choose a run's range before the run parses every
    row. A row rejected for another reason still counts, so the span may be wider than the valid
    rows'. File-level problems raise :class:`PriceFileError` as :func:`read_price_file` does."""
    with _csv_rows(path) as (header, rows):
        columns = _columns(path, header, layout_name)
        _RowParser(path, columns, code)  # a file without a stock code is refused here too
        texts = {cells[columns.date] for cells in rows if len(cells) >= columns.width}
    days = [day for day in (_DATES[t] if t in _DATES else _cached_date(t) for t in texts) if day is not None]
    return (min(days), max(days)) if days else None


def codes_in_file(path: Path, layout_name: str = "auto", code: str | None = None) -> set[str]:
    """The stock codes a file holds, without parsing its rows (file name, --code or the column)."""
    if code:
        return {code}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise PriceFileError(f"{path}: the file is empty")
        layout = detect_layout(header, layout_name)
        index = {name: i for i, name in enumerate(_normalise(header))}
        column = next((index[c] for c in layout.code_columns if c in index), None)
        if column is None:
            named = code_from_name(path)
            if named is None:
                raise PriceFileError(
                    f"{path}: no stock code — add a code column ({', '.join(layout.code_columns)}), "
                    "name the file after the code (e.g. 005930.csv) or pass --code")
            return {named}
        return {row[column].strip().upper() for row in reader
                if len(row) > column and STOCK_CODE.match(row[column].strip().upper())}


def _lines(reader: "csv._reader") -> Iterator[list[str]]:  # type: ignore[name-defined]
    try:
        yield from reader
    except csv.Error as exc:
        raise PriceFileError(f"malformed CSV: {exc}") from None
