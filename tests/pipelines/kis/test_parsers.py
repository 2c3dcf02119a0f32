"""KIS payloads → records, against the portal's official examples and our own fixtures."""

import json
from datetime import date
from decimal import Decimal

import pytest

from azak_pipelines.lib.kis import parsers
from azak_pipelines.lib.kis.parsers import KisApiError, KisPayloadError


def load(shared_data, name: str) -> dict:
    return json.loads((shared_data / "api_samples" / "kis" / name).read_text())


def test_official_daily_chart_example_parses(shared_data):
    payload = load(shared_data, "FHKST03010100_inquire-daily-itemchartprice_000660_example.json")
    # the portal's example omits rt_cd; real answers carry rt_cd "0" (shared data README)
    assert "rt_cd" not in payload
    with pytest.raises(KisApiError):
        parsers.parse_daily_chart(payload, "000660")
    payload["rt_cd"] = "0"
    [bar] = parsers.parse_daily_chart(payload, "000660")
    assert bar.trade_date == date(2022, 5, 9)
    assert (bar.open, bar.high, bar.low, bar.close) == (
        Decimal(107000), Decimal(109000), Decimal(106500), Decimal(107500))
    assert bar.volume == 2203472 and bar.trading_value == 237914727500
    assert bar.change_sign == "3" and not bar.halted


def test_official_quote_example_parses_with_exact_numbers(shared_data):
    payload = load(shared_data, "FHKST01010100_inquire-price_000660_example.json")
    quote = parsers.parse_quote(payload)
    assert quote.price == Decimal(128500)
    assert quote.volume == 2669075 and quote.trading_value == 344570137500
    assert quote.per == Decimal("19.67") and quote.eps == Decimal("6532.00")
    assert quote.market_cap_100m_krw == 935483  # 억원: about 93.5 trillion KRW


def test_error_payload_becomes_a_typed_error():
    with pytest.raises(KisApiError) as caught:
        parsers.parse_daily_chart({"rt_cd": "1", "msg_cd": "EGW00205", "msg1": "잘못된 요청입니다"}, "005930")
    assert caught.value.msg_cd == "EGW00205" and caught.value.msg1 == "잘못된 요청입니다"
    assert "FHKST03010100" in str(caught.value)


def test_blank_fields_are_none_never_zero():
    payload = {"rt_cd": "0", "output": {"stck_prpr": "70000", "per": "", "pbr": " ", "acml_vol": ""}}
    quote = parsers.parse_quote(payload)
    assert quote.per is None and quote.pbr is None and quote.volume is None


def test_halt_day_with_zero_prices_has_no_ohlc():
    payload = {"rt_cd": "0", "output2": [{
        "stck_bsop_date": "20240829", "stck_oprc": "0", "stck_hgpr": "0", "stck_lwpr": "0",
        "stck_clpr": "295411", "acml_vol": "0", "acml_tr_pbmn": "0"}]}
    [bar] = parsers.parse_daily_chart(payload, "012450")
    assert bar.halted and bar.open is None and bar.high is None and bar.close == Decimal(295411)


def test_malformed_numbers_and_dates_are_named():
    with pytest.raises(KisPayloadError, match="stck_clpr is not a number"):
        parsers.parse_daily_chart({"rt_cd": "0", "output2": [
            {"stck_bsop_date": "20250102", "stck_clpr": "12a", "acml_vol": "1"}]}, "005930")
    with pytest.raises(KisPayloadError, match="YYYYMMDD"):
        parsers.parse_daily_chart({"rt_cd": "0", "output2": [
            {"stck_bsop_date": "2025-01-02", "stck_clpr": "1", "acml_vol": "1"}]}, "005930")


def test_volumes_beyond_32_bits_stay_exact():
    payload = {"rt_cd": "0", "output2": [{"stck_bsop_date": "20250102", "stck_clpr": "1000",
                                          "acml_vol": "5000000000", "acml_tr_pbmn": "5000000000000"}]}
    [bar] = parsers.parse_daily_chart(payload, "005930")
    assert bar.volume == 5_000_000_000 and bar.trading_value == 5_000_000_000_000


def test_padding_rows_are_ignored():
    payload = {"rt_cd": "0", "output": [{"stck_bsop_date": "20250102", "stck_clpr": "1"},
                                        {"stck_bsop_date": "", "stck_clpr": ""}]}
    assert len(parsers.parse_investor(payload, "005930")) == 1
