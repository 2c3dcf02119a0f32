"""KIS OpenAPI response payloads → typed records. Pure functions, no I/O.

Numbers stay exact: prices are :class:`~decimal.Decimal`, volumes and values ``int`` (64-bit in the
database). A blank field becomes ``None`` — never zero. A payload whose ``rt_cd`` is not ``"0"``
raises :class:`KisApiError` with KIS's own ``msg_cd`` and ``msg1``.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from azak_core.market import KST

SUCCESS = "0"


class KisApiError(RuntimeError):
    """KIS answered with ``rt_cd != "0"``."""

    def __init__(self, msg_cd: str, msg1: str, tr_id: str = "", rt_cd: str = ""):
        super().__init__(f"KIS {tr_id or 'request'} failed: [{msg_cd}] {msg1}".strip())
        self.msg_cd = msg_cd
        self.msg1 = msg1
        self.tr_id = tr_id
        self.rt_cd = rt_cd


class KisPayloadError(ValueError):
    """A payload is not in the shape the TR documents (a field missing or malformed)."""


def check(payload: dict[str, Any], tr_id: str = "") -> dict[str, Any]:
    rt_cd = str(payload.get("rt_cd", ""))
    if rt_cd != SUCCESS:
        raise KisApiError(str(payload.get("msg_cd", "")), str(payload.get("msg1", "")).strip(),
                          tr_id, rt_cd)
    return payload


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def dec(value: Any, field: str) -> Decimal | None:
    if _blank(value):
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise KisPayloadError(f"{field} is not a number: {value!r}") from None


def integer(value: Any, field: str) -> int | None:
    number = dec(value, field)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise KisPayloadError(f"{field} is not a whole number: {value!r}")
    return int(number)


def yyyymmdd(value: Any, field: str) -> date:
    text = str(value or "").strip()
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        raise KisPayloadError(f"{field} is not a YYYYMMDD date: {value!r}") from None


def hhmmss(value: Any, field: str) -> time:
    text = str(value or "").strip().rjust(6, "0")
    try:
        return time(int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise KisPayloadError(f"{field} is not an HHMMSS time: {value!r}") from None


def output_rows(payload: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = payload.get(key)
    if rows is None:
        return []
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        raise KisPayloadError(f"{key} is not a list")
    # KIS pads some lists with empty objects past the last row
    return [row for row in rows if isinstance(row, dict) and any(not _blank(v) for v in row.values())]


# -- daily bars (FHKST03010100) ------------------------------------------------------------------


@dataclass(frozen=True)
class DailyBar:
    stock_code: str
    trade_date: date
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal
    volume: int
    trading_value: int | None
    change: Decimal | None
    change_sign: str | None

    @property
    def halted(self) -> bool:
        return self.volume == 0


def halt_adjusted(open_: Decimal | None, high: Decimal | None, low: Decimal | None,
                  volume: int) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """On a zero-volume day vendors print 0 for open/high/low: no trade happened, so no OHLC."""
    if volume == 0 and all(v in (None, Decimal(0)) for v in (open_, high, low)):
        return None, None, None
    return open_, high, low


def parse_daily_chart(payload: dict[str, Any], stock_code: str) -> list[DailyBar]:
    check(payload, "FHKST03010100")
    bars = []
    for row in output_rows(payload, "output2"):
        volume = integer(row.get("acml_vol"), "acml_vol")
        close = dec(row.get("stck_clpr"), "stck_clpr")
        if close is None or volume is None:
            raise KisPayloadError(f"daily bar for {stock_code} lacks stck_clpr or acml_vol: {row}")
        open_, high, low = halt_adjusted(dec(row.get("stck_oprc"), "stck_oprc"),
                                         dec(row.get("stck_hgpr"), "stck_hgpr"),
                                         dec(row.get("stck_lwpr"), "stck_lwpr"), volume)
        bars.append(DailyBar(
            stock_code=stock_code,
            trade_date=yyyymmdd(row.get("stck_bsop_date"), "stck_bsop_date"),
            open=open_, high=high, low=low, close=close, volume=volume,
            trading_value=integer(row.get("acml_tr_pbmn"), "acml_tr_pbmn"),
            change=dec(row.get("prdy_vrss"), "prdy_vrss"),
            change_sign=(row.get("prdy_vrss_sign") or None),
        ))
    return bars


# -- minute bars (FHKST03010200 today, FHKST03010230 past days) ------------------------------------


@dataclass(frozen=True)
class MinuteBar:
    stock_code: str
    trade_date: date
    bar_time: datetime  # aware, KST
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


def parse_minute_chart(payload: dict[str, Any], stock_code: str, tr_id: str) -> list[MinuteBar]:
    check(payload, tr_id)
    bars = []
    for row in output_rows(payload, "output2"):
        day = yyyymmdd(row.get("stck_bsop_date"), "stck_bsop_date")
        at = datetime.combine(day, hhmmss(row.get("stck_cntg_hour"), "stck_cntg_hour"), KST)
        values = [dec(row.get(f), f) for f in ("stck_oprc", "stck_hgpr", "stck_lwpr", "stck_prpr")]
        volume = integer(row.get("cntg_vol"), "cntg_vol")
        if any(v is None for v in values) or volume is None:
            raise KisPayloadError(f"minute bar for {stock_code} at {at} has blank fields: {row}")
        open_, high, low, close = values
        bars.append(MinuteBar(stock_code, day, at, open_, high, low, close, volume))  # type: ignore[arg-type]
    return bars


# -- quote + order book (FHKST01010100, FHKST01010200) ---------------------------------------------


@dataclass(frozen=True)
class Quote:
    price: Decimal
    change: Decimal | None
    change_sign: str | None
    change_rate: Decimal | None
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    volume: int | None
    trading_value: int | None
    per: Decimal | None
    pbr: Decimal | None
    eps: Decimal | None
    bps: Decimal | None
    market_cap_100m_krw: int | None  # hts_avls is in 억원


def parse_quote(payload: dict[str, Any]) -> Quote:
    check(payload, "FHKST01010100")
    out = payload.get("output")
    if not isinstance(out, dict):
        raise KisPayloadError("inquire-price output is missing")
    price = dec(out.get("stck_prpr"), "stck_prpr")
    if price is None:
        raise KisPayloadError("inquire-price output lacks stck_prpr")
    return Quote(
        price=price,
        change=dec(out.get("prdy_vrss"), "prdy_vrss"),
        change_sign=out.get("prdy_vrss_sign") or None,
        change_rate=dec(out.get("prdy_ctrt"), "prdy_ctrt"),
        open=dec(out.get("stck_oprc"), "stck_oprc"),
        high=dec(out.get("stck_hgpr"), "stck_hgpr"),
        low=dec(out.get("stck_lwpr"), "stck_lwpr"),
        volume=integer(out.get("acml_vol"), "acml_vol"),
        trading_value=integer(out.get("acml_tr_pbmn"), "acml_tr_pbmn"),
        per=dec(out.get("per"), "per"),
        pbr=dec(out.get("pbr"), "pbr"),
        eps=dec(out.get("eps"), "eps"),
        bps=dec(out.get("bps"), "bps"),
        market_cap_100m_krw=integer(out.get("hts_avls"), "hts_avls"),
    )


@dataclass(frozen=True)
class OrderBook:
    ask_prices: list[Decimal | None]
    ask_quantities: list[int | None]
    bid_prices: list[Decimal | None]
    bid_quantities: list[int | None]
    total_ask_quantity: int | None
    total_bid_quantity: int | None


def parse_orderbook(payload: dict[str, Any]) -> OrderBook:
    check(payload, "FHKST01010200")
    out = payload.get("output1")
    if not isinstance(out, dict):
        raise KisPayloadError("asking-price output1 is missing")
    levels = range(1, 11)
    return OrderBook(
        ask_prices=[dec(out.get(f"askp{i}"), f"askp{i}") for i in levels],
        ask_quantities=[integer(out.get(f"askp_rsqn{i}"), f"askp_rsqn{i}") for i in levels],
        bid_prices=[dec(out.get(f"bidp{i}"), f"bidp{i}") for i in levels],
        bid_quantities=[integer(out.get(f"bidp_rsqn{i}"), f"bidp_rsqn{i}") for i in levels],
        total_ask_quantity=integer(out.get("total_askp_rsqn"), "total_askp_rsqn"),
        total_bid_quantity=integer(out.get("total_bidp_rsqn"), "total_bidp_rsqn"),
    )


# -- investor flows (FHKST01010900) ----------------------------------------------------------------


@dataclass(frozen=True)
class InvestorFlow:
    stock_code: str
    trade_date: date
    close: Decimal | None
    individual_net_qty: int | None
    foreign_net_qty: int | None
    institution_net_qty: int | None
    individual_net_value: int | None  # millions of KRW, as KIS reports
    foreign_net_value: int | None
    institution_net_value: int | None


def parse_investor(payload: dict[str, Any], stock_code: str) -> list[InvestorFlow]:
    check(payload, "FHKST01010900")
    flows = []
    for row in output_rows(payload, "output"):
        flows.append(InvestorFlow(
            stock_code=stock_code,
            trade_date=yyyymmdd(row.get("stck_bsop_date"), "stck_bsop_date"),
            close=dec(row.get("stck_clpr"), "stck_clpr"),
            individual_net_qty=integer(row.get("prsn_ntby_qty"), "prsn_ntby_qty"),
            foreign_net_qty=integer(row.get("frgn_ntby_qty"), "frgn_ntby_qty"),
            institution_net_qty=integer(row.get("orgn_ntby_qty"), "orgn_ntby_qty"),
            individual_net_value=integer(row.get("prsn_ntby_tr_pbmn"), "prsn_ntby_tr_pbmn"),
            foreign_net_value=integer(row.get("frgn_ntby_tr_pbmn"), "frgn_ntby_tr_pbmn"),
            institution_net_value=integer(row.get("orgn_ntby_tr_pbmn"), "orgn_ntby_tr_pbmn"),
        ))
    return flows


# -- index daily (FHPUP02120000) -------------------------------------------------------------------


@dataclass(frozen=True)
class IndexBar:
    index_code: str
    trade_date: date
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal
    volume: int | None  # thousands of shares
    trading_value: int | None  # millions of KRW


def parse_index_daily(payload: dict[str, Any], index_code: str) -> list[IndexBar]:
    check(payload, "FHPUP02120000")
    bars = []
    for row in output_rows(payload, "output2"):
        close = dec(row.get("bstp_nmix_prpr"), "bstp_nmix_prpr")
        if close is None:
            raise KisPayloadError(f"index {index_code} row lacks bstp_nmix_prpr: {row}")
        bars.append(IndexBar(
            index_code=index_code,
            trade_date=yyyymmdd(row.get("stck_bsop_date"), "stck_bsop_date"),
            open=dec(row.get("bstp_nmix_oprc"), "bstp_nmix_oprc"),
            high=dec(row.get("bstp_nmix_hgpr"), "bstp_nmix_hgpr"),
            low=dec(row.get("bstp_nmix_lwpr"), "bstp_nmix_lwpr"),
            close=close,
            volume=integer(row.get("acml_vol"), "acml_vol"),
            trading_value=integer(row.get("acml_tr_pbmn"), "acml_tr_pbmn"),
        ))
    return bars


# -- after-hours daily (FHPST02320000) -------------------------------------------------------------


@dataclass(frozen=True)
class OvertimeBar:
    stock_code: str
    trade_date: date
    price: Decimal | None
    change: Decimal | None
    change_sign: str | None
    change_rate: Decimal | None
    volume: int | None
    trading_value: int | None


def parse_overtime_daily(payload: dict[str, Any], stock_code: str) -> list[OvertimeBar]:
    check(payload, "FHPST02320000")
    bars = []
    for row in output_rows(payload, "output2"):
        bars.append(OvertimeBar(
            stock_code=stock_code,
            trade_date=yyyymmdd(row.get("stck_bsop_date"), "stck_bsop_date"),
            price=dec(row.get("ovtm_untp_prpr"), "ovtm_untp_prpr"),
            change=dec(row.get("ovtm_untp_prdy_vrss"), "ovtm_untp_prdy_vrss"),
            change_sign=row.get("prdy_vrss_sign") or None,
            change_rate=dec(row.get("ovtm_untp_prdy_ctrt"), "ovtm_untp_prdy_ctrt"),
            volume=integer(row.get("acml_vol"), "acml_vol"),
            trading_value=integer(row.get("acml_tr_pbmn"), "acml_tr_pbmn"),
        ))
    return bars


# -- financial ratios (FHKST66430300) --------------------------------------------------------------


@dataclass(frozen=True)
class FinancialRatio:
    stock_code: str
    period: str  # YYYYMM
    period_kind: str  # annual | quarterly
    revenue_growth: Decimal | None
    operating_income_growth: Decimal | None
    net_income_growth: Decimal | None
    roe: Decimal | None
    eps: Decimal | None
    bps: Decimal | None
    debt_ratio: Decimal | None
    reserve_ratio: Decimal | None

    @property
    def period_end(self) -> date:
        year, month = int(self.period[:4]), int(self.period[4:6])
        return date(year + (month == 12), month % 12 + 1, 1)


def parse_financial_ratio(payload: dict[str, Any], stock_code: str, period_kind: str) -> list[FinancialRatio]:
    check(payload, "FHKST66430300")
    ratios = []
    for row in output_rows(payload, "output"):
        period = str(row.get("stac_yymm", "")).strip()
        if len(period) != 6 or not period.isdigit() or not 1 <= int(period[4:]) <= 12:
            raise KisPayloadError(f"stac_yymm is not YYYYMM: {period!r}")
        ratios.append(FinancialRatio(
            stock_code=stock_code, period=period, period_kind=period_kind,
            revenue_growth=dec(row.get("grs"), "grs"),
            operating_income_growth=dec(row.get("bsop_prfi_inrt"), "bsop_prfi_inrt"),
            net_income_growth=dec(row.get("ntin_inrt"), "ntin_inrt"),
            roe=dec(row.get("roe_val"), "roe_val"),
            eps=dec(row.get("eps"), "eps"),
            bps=dec(row.get("bps"), "bps"),
            debt_ratio=dec(row.get("lblt_rate"), "lblt_rate"),
            reserve_ratio=dec(row.get("rsrv_rate"), "rsrv_rate"),
        ))
    return ratios


# -- product info (CTPF1604R) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProductInfo:
    stock_code: str
    product_name: str | None
    classification: str | None
    product_type: str | None
    risk_grade: str | None
    first_registered_on: date | None


def parse_product_info(payload: dict[str, Any], stock_code: str) -> ProductInfo:
    check(payload, "CTPF1604R")
    out = payload.get("output")
    if not isinstance(out, dict):
        raise KisPayloadError("search-info output is missing")
    registered = str(out.get("frst_erlm_dt") or "").strip()
    return ProductInfo(
        stock_code=stock_code,
        product_name=(out.get("prdt_name") or "").strip() or None,
        classification=(out.get("prdt_clsf_name") or "").strip() or None,
        product_type=(out.get("ivst_prdt_type_cd_name") or "").strip() or None,
        risk_grade=(out.get("prdt_risk_grad_cd") or "").strip() or None,
        first_registered_on=yyyymmdd(registered, "frst_erlm_dt") if registered else None,
    )
