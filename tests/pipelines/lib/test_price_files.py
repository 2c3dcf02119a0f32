"""Price files: both layouts, every rejection reason, halts, and the real shared files."""

from datetime import date

import pytest

from azak_pipelines.lib.market.price_files import (
    PriceFileError,
    PriceRow,
    Rejected,
    codes_in_file,
    date_span,
    read_price_file,
)


def parse(tmp_path, name: str, text: str, **kwargs) -> list:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(read_price_file(path, **kwargs))


def test_pykrx_korean_headers_with_iso_dates(tmp_path):
    [row] = parse(tmp_path, "005930.csv", "날짜,시가,고가,저가,종가,거래량,등락률\n"
                                          "2025-06-04,57200,57900,56800,57800,19649983,1.76\n")
    assert row == PriceRow("005930", date(2025, 6, 4), "57200", "57900", "56800", "57800",
                           19649983, None, 2)


def test_english_headers_with_a_code_column_and_yyyymmdd(tmp_path):
    rows = parse(tmp_path, "mixed.csv", "Date,Open,High,Low,Close,Volume,Ticker\n"
                                        "20250604,1000,1100,900,1050,10,005930\n"
                                        "20250604,2000,2100,1900,2050,20,000660\n")
    assert [(r.stock_code, r.close) for r in rows] == [("005930", "1050"), ("000660", "2050")]


def test_thousand_separators_and_decimals_are_exact(tmp_path):
    [row] = parse(tmp_path, "069500.csv", 'date,open,high,low,close,volume,value\n'
                                          '2025.06.04,"34,910.5","35,060.0",34775,34940,"6,310,580",1e9\n')
    assert (row.open, row.high, row.close, row.volume, row.value) == ("34910.5", "35060", "34940",
                                                                      6310580, 1_000_000_000)


@pytest.mark.parametrize(("line", "reason"), [
    ("2025-06-04,1,2,1,nan,5", "close 'nan' is not a number"),
    ("2025-06-04,1,2,1,inf,5", "close 'inf' is not a number"),
    ("2025-06-04,1,²,1,2,5", "high '²' is not a number"),
    ("2025-02-30,1,2,1,2,5", "date '2025-02-30' is not YYYYMMDD or YYYY-MM-DD"),
    ("04/06/2025,1,2,1,2,5", "date '04/06/2025' is not YYYYMMDD or YYYY-MM-DD"),
    ("2025-06-04,1,2,1,-2,5", "close must be a positive price, got -2"),
    ("2025-06-04,0,2,1,2,5", "open, high and low must be positive prices"),
    ("2025-06-04,1,2,3,2,5", "high 2 is below low 3"),
    ("2025-06-04,1,2,1,2", "expected 6 columns, found 5"),
])
def test_each_bad_row_has_a_reason_and_a_location(tmp_path, line, reason):
    [item] = parse(tmp_path, "005930.csv", "date,open,high,low,close,volume\n" + line + "\n")
    assert isinstance(item, Rejected)
    assert item.reason == reason and item.locator == "005930.csv:2"


def test_a_pykrx_halt_day_is_kept_without_ohlc(tmp_path):
    [row] = parse(tmp_path, "012450.csv", "날짜,시가,고가,저가,종가,거래량\n2024-08-29,0,0,0,295411,0\n")
    assert row.volume == 0 and row.open is None and row.close == "295411"


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path):
    rows = parse(tmp_path, "005930.csv", "date,open,high,low,close,volume\n\n20250604,1,2,1,2,3\n")
    assert rows[0].line == 3


def test_file_level_problems_fail_the_whole_file(tmp_path):
    with pytest.raises(PriceFileError, match="the file is empty"):
        parse(tmp_path, "005930.csv", "")
    with pytest.raises(PriceFileError, match="accepted layouts"):
        parse(tmp_path, "005930.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(PriceFileError, match="no stock code"):
        parse(tmp_path, "prices.csv", "date,open,high,low,close,volume\n20250604,1,2,1,2,3\n")
    with pytest.raises(PriceFileError, match="unknown format"):
        parse(tmp_path, "005930.csv", "date,open,high,low,close,volume\n", layout_name="csv")
    path = tmp_path / "005930.csv"
    path.write_bytes("날짜,시가,고가,저가,종가,거래량\n".encode("cp949"))
    with pytest.raises(PriceFileError, match="UTF-8"):
        list(read_price_file(path))


def test_codes_come_from_the_name_the_column_or_the_caller(tmp_path):
    named = tmp_path / "035420_D.csv"
    named.write_text("date,open,high,low,close,volume\n")
    assert codes_in_file(named) == {"035420"}
    column = tmp_path / "many.csv"
    column.write_text("date,open,high,low,close,volume,code\n1,1,1,1,1,1,005930\n1,1,1,1,1,1,0126Z0\n")
    assert codes_in_file(column) == {"005930", "0126Z0"}
    assert codes_in_file(column, code="000660") == {"000660"}


def test_the_date_span_reads_only_the_date_column(tmp_path):
    """What `azak import prices` chooses its run's range by: a row rejected for its prices still
    counts (the run rejects it and keeps the row stored for its day), a bad date does not."""
    path = tmp_path / "005930.csv"
    path.write_text("date,open,high,low,close,volume\n"
                    "20250103,100,110,90,105,1000\n"
                    "2025-13-01,100,110,90,105,1000\n"
                    "2025-01-02,100,80,90,85,1000\n"
                    "2025-01-07,100\n"
                    "\n")
    assert date_span(path) == (date(2025, 1, 2), date(2025, 1, 3))
    assert [r.trade_date for r in read_price_file(path) if isinstance(r, PriceRow)] == [date(2025, 1, 3)]
    path.write_text("date,open,high,low,close,volume\nsoon,1,2,1,2,3\n")
    assert date_span(path) is None
    nameless = tmp_path / "prices.csv"
    nameless.write_text("date,open,high,low,close,volume\n20250102,1,2,1,2,3\n")
    with pytest.raises(PriceFileError, match="--code"):
        date_span(nameless)
    assert date_span(nameless, code="005930") == (date(2025, 1, 2), date(2025, 1, 2))


def test_the_shared_vendor_files_parse_cleanly(shared_data):
    long = list(read_price_file(shared_data / "prices" / "daily_long" / "005930_D.csv"))
    assert len(long) == 8343 and all(isinstance(r, PriceRow) for r in long)
    halts = [r for r in long if r.volume == 0]
    assert date(2018, 5, 2) in {r.trade_date for r in halts}  # kept, with its prices
    recent = list(read_price_file(shared_data / "prices" / "daily_recent" / "012450.csv"))
    assert sum(1 for r in recent if r.open is None) == 18  # the 2024 halt, pykrx's zeros
