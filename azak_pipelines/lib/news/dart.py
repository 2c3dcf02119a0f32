"""OpenDART (금융감독원 전자공시) → items. Pure: corp-code list and ``list.json`` payloads in.

``list.json`` wants the 8-digit ``corp_code`` (not the 6-digit stock code), resolved here from
DART's ``corpCode.xml`` (served as a ZIP). Its ``status`` field is the error channel: ``000`` ok,
``013`` no data (an empty page, not an error), anything else a :class:`DartApiError`.
A filing's ``rcept_dt`` is a date without a time, so items have day precision.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from lxml import etree

from azak_core.market import KST
from azak_pipelines.lib.news.items import NewsItem, ParseResult, Rejected
from azak_pipelines.lib.news.text import clean_or_reason
from azak_pipelines.lib.zips import read_member

STATUS = {
    "000": "정상 (ok)",
    "010": "등록되지 않은 키 (unregistered API key)",
    "011": "사용할 수 없는 키 (API key not usable)",
    "012": "접근할 수 없는 IP (IP not allowed)",
    "013": "조회된 데이타가 없음 (no data)",
    "014": "파일이 존재하지 않음 (file not found)",
    "020": "요청 제한 초과 (daily request limit exceeded)",
    "021": "조회 가능한 회사 개수 초과 (too many companies)",
    "100": "필드의 부적절한 값 (invalid field value)",
    "101": "부적절한 접근 (inappropriate access)",
    "800": "시스템 점검 (maintenance)",
    "900": "정의되지 않은 오류 (undefined error)",
    "901": "사용자 계정의 개인정보 보유기간 만료 (account expired)",
}
REMARKS = {"유": "KOSPI market division", "코": "KOSDAQ market division", "채": "bond-listed",
           "넥": "KONEX", "공": "filed with the FTC", "연": "consolidated", "정": "amended",
           "철": "withdrawn"}
# corpCode.xml lists every company DART knows (about 100,000, a few hundred bytes each, some tens of
# MiB inflated and a few MiB zipped): the caps leave several times that before refusing
CORP_CODES_ZIP_MAX_BYTES = 32 * 2**20
CORP_CODES_MAX_BYTES = 128 * 2**20
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


class DartApiError(RuntimeError):
    def __init__(self, status: str, message: str):
        meaning = STATUS.get(status, "unknown status")
        super().__init__(f"DART answered status {status} ({meaning}): {message}")
        self.status = status
        self.message = message


class DartQuotaExceeded(DartApiError):
    """Status 020: the key's daily quota is used up; stop until tomorrow."""


@dataclass(frozen=True)
class Corp:
    corp_code: str
    corp_name: str
    stock_code: str


def parse_corp_codes(data: bytes) -> dict[str, Corp]:
    """corpCode.xml (zipped or not) → listed companies by 6-character stock code."""
    if data[:2] == b"PK":
        member = read_member(data, lambda name: name.lower().endswith(".xml"), CORP_CODES_MAX_BYTES)
        if member is None:
            raise ValueError("the corp-code archive holds no XML file")
        data = member
    root = etree.fromstring(data, _PARSER)
    corps = {}
    for node in root.iter("list"):
        stock = (node.findtext("stock_code") or "").strip()
        code = (node.findtext("corp_code") or "").strip()
        if stock and len(code) == 8 and code.isdigit():
            corps[stock] = Corp(code, (node.findtext("corp_name") or "").strip(), stock)
    return corps


@dataclass
class DartPage:
    result: ParseResult
    page_no: int
    total_page: int


def _reject(result: ParseResult, row: dict[str, Any], locator: str, field: str, reason: str) -> None:
    """Count the broken field and quarantine the row as DART sent it."""
    result.lack(field)
    result.rejected.append(Rejected(locator, reason, json.dumps(row, ensure_ascii=False)))


def parse_list(data: bytes) -> DartPage:
    try:
        payload: dict[str, Any] = json.loads(data)
    except ValueError:
        raise DartApiError("900", f"not JSON: {data[:120]!r}") from None
    status = str(payload.get("status", ""))
    result = ParseResult(container="list[]")
    if status == "013":
        return DartPage(result, 1, 0)
    if status != "000":
        error = DartQuotaExceeded if status == "020" else DartApiError
        raise error(status, str(payload.get("message", "")))
    for row in payload.get("list") or []:
        result.rows_seen += 1
        rcept_no = str(row.get("rcept_no", "")).strip()
        locator = f"dart:{rcept_no or '?'}"
        if len(rcept_no) != 14 or not rcept_no.isdigit():
            _reject(result, row, locator, "rcept_no", f"rcept_no is not 14 digits: {rcept_no!r}")
            continue
        title, problem = clean_or_reason(row.get("report_nm"))
        if not title or problem:
            _reject(result, row, locator, "report_nm", f"report_nm {problem or 'is empty'}")
            continue
        day_text = str(row.get("rcept_dt", "")).strip()
        try:
            day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:8]))
        except (ValueError, IndexError):
            _reject(result, row, locator, "rcept_dt", f"rcept_dt is not YYYYMMDD: {day_text!r}")
            continue
        corp = clean_or_reason(row.get("corp_name"))[0]
        filer = clean_or_reason(row.get("flr_nm"))[0]
        remark = str(row.get("rm", "")).strip()
        stock = str(row.get("stock_code", "")).strip() or None
        summary = f"{corp} 공시" + (f" (제출인 {filer})" if filer and filer != corp else "")
        result.items.append(NewsItem(
            source="dart", item_key=f"dart:{rcept_no}", title=title, summary=summary,
            url=f"https://dart.fss.or.kr/dsaf001/main.do?rcpNo={rcept_no}", press="DART",
            published_at=datetime.combine(day, time(0), KST), published_precision="day",
            content_type="disclosure", stock_code_hint=stock,
            extra={"rcept_no": rcept_no, "corp_code": row.get("corp_code"), "corp_name": corp,
                   "corp_cls": row.get("corp_cls"), "filer": filer, "remark": remark,
                   "remark_meaning": ", ".join(REMARKS.get(ch, ch) for ch in remark)},
        ))
    return DartPage(result, int(payload.get("page_no") or 1), int(payload.get("total_page") or 1))
