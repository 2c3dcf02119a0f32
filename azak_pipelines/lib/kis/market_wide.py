"""Market-wide KIS answers → typed records: the rankings (FHPST01700000 rise/fall, FHPST01710000
volume) and an index's current level (FHPUP02100000). Pure functions, no I/O; the same rules as
``parsers``: exact numbers, a blank is ``None``, an error answer raises ``KisApiError``."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from azak_pipelines.lib.kis.parsers import KisPayloadError, check, dec, integer, output_rows

RISE, FALL, VOLUME = "rise", "fall", "volume"


@dataclass(frozen=True)
class RankedStock:
    ranking: str  # rise | fall | volume
    rank: int
    stock_code: str
    stock_name: str
    price: Decimal
    change: Decimal | None
    change_sign: str | None
    change_rate: Decimal | None  # % versus the previous close
    volume: int | None
    trading_value: int | None  # KRW (the volume ranking reports it; the rise/fall ranking does not)


def parse_ranking(payload: dict[str, Any], ranking: str, tr_id: str) -> list[RankedStock]:
    """One ranking answer. The rise/fall TR names the code ``stck_shrn_iscd``, the volume TR
    ``mksc_shrn_iscd``; both number their rows in ``data_rank``."""
    check(payload, tr_id)
    ranked = []
    for row in output_rows(payload, "output"):
        code = str(row.get("stck_shrn_iscd") or row.get("mksc_shrn_iscd") or "").strip()
        price = dec(row.get("stck_prpr"), "stck_prpr")
        rank = integer(row.get("data_rank"), "data_rank")
        if not code or price is None or rank is None:
            raise KisPayloadError(f"{tr_id} row lacks a code, data_rank or stck_prpr: {row}")
        ranked.append(RankedStock(
            ranking=ranking, rank=rank, stock_code=code, stock_name=str(row.get("hts_kor_isnm") or "").strip(),
            price=price, change=dec(row.get("prdy_vrss"), "prdy_vrss"),
            change_sign=str(row.get("prdy_vrss_sign") or "").strip() or None,
            change_rate=dec(row.get("prdy_ctrt"), "prdy_ctrt"), volume=integer(row.get("acml_vol"), "acml_vol"),
            trading_value=integer(row.get("acml_tr_pbmn"), "acml_tr_pbmn")))
    return ranked


@dataclass(frozen=True)
class IndexLevel:
    index_code: str
    level: Decimal
    change: Decimal | None
    change_sign: str | None
    change_rate: Decimal | None
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    volume: int | None  # thousands of shares, as KIS reports index volume
    trading_value: int | None  # millions of KRW
    advancing: int | None  # constituents up on the day
    declining: int | None


def parse_index_price(payload: dict[str, Any], index_code: str) -> IndexLevel:
    check(payload, "FHPUP02100000")
    rows = output_rows(payload, "output")
    level = dec(rows[0].get("bstp_nmix_prpr"), "bstp_nmix_prpr") if rows else None
    if level is None:
        raise KisPayloadError(f"index {index_code}: the answer lacks bstp_nmix_prpr")
    row = rows[0]
    return IndexLevel(
        index_code=index_code, level=level, change=dec(row.get("bstp_nmix_prdy_vrss"), "bstp_nmix_prdy_vrss"),
        change_sign=str(row.get("prdy_vrss_sign") or "").strip() or None,
        change_rate=dec(row.get("bstp_nmix_prdy_ctrt"), "bstp_nmix_prdy_ctrt"),
        open=dec(row.get("bstp_nmix_oprc"), "bstp_nmix_oprc"), high=dec(row.get("bstp_nmix_hgpr"), "bstp_nmix_hgpr"),
        low=dec(row.get("bstp_nmix_lwpr"), "bstp_nmix_lwpr"), volume=integer(row.get("acml_vol"), "acml_vol"),
        trading_value=integer(row.get("acml_tr_pbmn"), "acml_tr_pbmn"),
        advancing=integer(row.get("ascn_issu_cnt"), "ascn_issu_cnt"),
        declining=integer(row.get("down_issu_cnt"), "down_issu_cnt"))
