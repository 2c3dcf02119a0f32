"""The news sites as recorded: a handler that answers Naver Finance, the RSS feeds and OpenDART
from ``sample_data/news`` the way the live sites do (pages in EUC-KR, ``ETag``/``304`` for
conditional requests, DART's ``status`` codes and paging). Replay mode uses it through httpx;
live-mode tests serve it over real HTTP (see :mod:`azak_pipelines.lib.replay_http`)."""

import gzip
import hashlib
import json
import math
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from azak_core.market import is_stock_code
from azak_pipelines.lib.replay_http import Answer

RSS_PATHS = {"/feed/finance": "hankyung", "/rss/50200011": "maeil", "/rss/50200011/": "maeil"}
DART_PAGE_LIMIT = 100
SAFE_NAME = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9]+)*$")  # a file name: no separators, no ".."


def _is_day(value: str) -> bool:
    try:
        return len(value) == 8 and datetime.strptime(value, "%Y%m%d") is not None
    except ValueError:
        return False


def _bad_request(reason: str) -> Answer:
    return 400, {"content-type": "text/plain; charset=utf-8"}, reason.encode()


@lru_cache(maxsize=512)
def _read_version(path: Path, mtime_ns: int) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _read(path: Path) -> bytes:
    return _read_version(path, path.stat().st_mtime_ns)  # a rewritten recording is re-read


class NewsSites:
    def __init__(self, fixtures: Path, dart_key: str | None = None):
        self.fixtures = fixtures
        self.dart_key = dart_key  # when set, other keys get status 010 like DART does
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.user_agents: list[str] = []
        self.dart_faults: list[str] = []

    def _file(self, *parts: str) -> bytes | None:
        if not all(SAFE_NAME.match(part) for part in parts):
            raise ValueError(f"not a recording name: {'/'.join(parts)!r}")
        for suffix in (".gz", ""):
            path = self.fixtures.joinpath(*parts[:-1], parts[-1] + suffix)
            if path.exists():
                return _read(path)
        return None

    def _page(self, data: bytes | None, content_type: str, headers: dict[str, str]) -> Answer:
        if data is None:
            return 404, {"content-type": "text/plain"}, b"no recording"
        etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
        if headers.get("if-none-match") == etag:
            return 304, {"etag": etag}, b""
        return 200, {"content-type": content_type, "etag": etag}, data

    def handle(self, method: str, path: str, headers: dict[str, str], query: dict[str, str],
               body: bytes) -> Answer:
        headers = {k.lower(): v for k, v in headers.items()}
        self.requests.append((path, query))
        self.user_agents.append(headers.get("user-agent", ""))
        if path == "/news/news_list.naver":
            day = query.get("date", "")
            if not _is_day(day):
                return _bad_request(f"date must be a calendar day as YYYYMMDD, got {day[:20]!r}")
            return self._page(self._file("naver", "market", f"{day}.html"),
                              "text/html;charset=EUC-KR", headers)
        if path == "/item/news_news.naver":
            code = query.get("code", "")
            if not is_stock_code(code):
                return _bad_request(f"code must be a KRX stock code, got {code[:20]!r}")
            return self._page(self._file("naver", "stock", f"{code}.html"),
                              "text/html;charset=EUC-KR", headers)
        if path in RSS_PATHS:
            return self._page(self._file("rss", f"{RSS_PATHS[path]}.xml"),
                              "application/rss+xml; charset=UTF-8", headers)
        if path == "/api/corpCode.xml":
            if self.dart_key and query.get("crtfc_key") != self.dart_key:
                return 200, {}, {"status": "010", "message": "등록되지 않은 키입니다."}
            return self._page(self._file("dart", "corpCode.zip"), "application/x-msdownload", headers)
        if path == "/api/list.json":
            return self._dart_list(query)
        return 404, {"content-type": "text/plain"}, b"no such page"

    def _dart_list(self, query: dict[str, str]) -> Answer:
        if self.dart_faults:
            status = self.dart_faults.pop(0)
            return 200, {}, {"status": status, "message": f"injected status {status}"}
        if self.dart_key and query.get("crtfc_key") != self.dart_key:
            return 200, {}, {"status": "010", "message": "등록되지 않은 키입니다."}
        data = self._file("dart", "disclosures.json")
        rows: list[dict[str, Any]] = json.loads(data) if data else []
        try:
            if not (_is_day(query["bgn_de"]) and _is_day(query["end_de"])):
                raise ValueError("bgn_de and end_de must be YYYYMMDD")
            start = datetime.strptime(query["bgn_de"], "%Y%m%d").date()
            end = datetime.strptime(query["end_de"], "%Y%m%d").date()
            page_no = int(query.get("page_no", "1"))
            page_count = int(query.get("page_count", "10"))
            if page_no < 1:
                raise ValueError("page_no starts at 1")
        except (KeyError, ValueError):
            return 200, {}, {"status": "100", "message": "필드의 부적절한 값입니다."}
        if not 1 <= page_count <= DART_PAGE_LIMIT:
            return 200, {}, {"status": "100", "message": "page_count는 1~100 사이입니다."}
        corp = query.get("corp_code")
        selected = [r for r in rows if (not corp or r["corp_code"] == corp)
                    and f"{start:%Y%m%d}" <= r["rcept_dt"] <= f"{end:%Y%m%d}"]
        if not selected:
            return 200, {}, {"status": "013", "message": "조회된 데이타가 없습니다."}
        total_page = math.ceil(len(selected) / page_count)
        chunk = selected[(page_no - 1) * page_count:page_no * page_count]
        return 200, {}, {"status": "000", "message": "정상", "page_no": page_no,
                         "page_count": page_count, "total_count": len(selected),
                         "total_page": total_page, "list": chunk}
