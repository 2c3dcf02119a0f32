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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

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
        layout = detect_layout(header, layout_name)
        names = _normalise(header)
        index = {name: i for i, name in enumerate(names)}
        i_date, i_open, i_high, i_low, i_close, i_volume = (
            index[layout.date], index[layout.open], index[layout.high], index[layout.low],
            index[layout.close], index[layout.volume])
        i_value = index.get(layout.value) if layout.value else None
        i_code = next((index[c] for c in layout.code_columns if c in index), None)
        fixed_code = code or (None if i_code is not None else code_from_name(path))
        if fixed_code is None and i_code is None:
            raise PriceFileError(
                f"{path}: no stock code — add a code column ({', '.join(layout.code_columns)}), "
                "name the file after the code (e.g. 005930.csv) or pass --code"
            )
        width = len(names)
        name = path.name
        dates: dict[str, date | None] = {}
        codes: dict[str, str] = {}
        for line, cells in enumerate(_lines(reader), start=2):
            if len(cells) < width:
                if cells and any(cell.strip() for cell in cells):
                    yield Rejected(f"{name}:{line}", f"expected {width} columns, found {len(cells)}",
                                   ",".join(cells))
                continue
            if fixed_code is not None:
                stock_code = fixed_code
            else:
                raw_code = cells[i_code]  # type: ignore[index]
                stock_code = codes.get(raw_code)  # type: ignore[assignment]
                if stock_code is None:
                    candidate = raw_code.strip().upper()
                    if not STOCK_CODE.match(candidate):
                        yield Rejected(f"{name}:{line}", f"stock code {candidate!r} is not 6 characters "
                                       "[0-9A-Z]", ",".join(cells))
                        continue
                    stock_code = codes[raw_code] = candidate
            text = cells[i_date]
            trade_date = dates.get(text, False)
            if trade_date is False:
                try:
                    trade_date = parse_date(text)
                except ValueError:
                    trade_date = None
                dates[text] = trade_date
            if trade_date is None:
                yield Rejected(f"{name}:{line}", f"date {text!r} is not YYYYMMDD or YYYY-MM-DD",
                               ",".join(cells))
                continue
            o, h, lo, c, v = cells[i_open], cells[i_high], cells[i_low], cells[i_close], cells[i_volume]
            label = "open"
            f_open: float
            f_high: float
            f_low: float
            f_close: float
            try:
                if (o.isdigit() and h.isdigit() and lo.isdigit() and c.isdigit() and v.isdigit()
                        and (o + h + lo + c + v).isascii()):
                    open_, high, low, close = o, h, lo, c  # the common case: plain integers
                    f_open, f_high, f_low, f_close, volume = int(o), int(h), int(lo), int(c), int(v)
                else:
                    label = "open"
                    open_, f_open = _number(o)
                    label = "high"
                    high, f_high = _number(h)
                    label = "low"
                    low, f_low = _number(lo)
                    label = "close"
                    close, f_close = _number(c)
                    label = "volume"
                    volume = int(v) if v.isdigit() else int(_number(v)[1])
                value = None
                if i_value is not None and cells[i_value].strip():
                    label = "traded value"
                    value = int(_number(cells[i_value])[1])
            except (ValueError, OverflowError):
                position = {"open": i_open, "high": i_high, "low": i_low, "close": i_close,
                            "volume": i_volume, "traded value": i_value}[label]
                yield Rejected(f"{name}:{line}", f"{label} {cells[position]!r} is not a number",  # type: ignore[index]
                               ",".join(cells), (stock_code, trade_date))
                continue
            problem = bar_problem(f_open, f_high, f_low, f_close, volume)
            if problem:
                yield Rejected(f"{name}:{line}", problem, ",".join(cells), (stock_code, trade_date))
            elif is_halt(f_open, f_high, f_low, volume):
                yield _row(PriceRow, (stock_code, trade_date, None, None, None, close, 0, value, line))
            else:
                yield _row(PriceRow, (stock_code, trade_date, open_, high, low, close, volume, value, line))


# PriceRow(...) runs a Python-level __new__; building the tuple directly is what it does, faster
_row = tuple.__new__


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
