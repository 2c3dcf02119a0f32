"""A KIS OpenAPI server over recorded series: replay mode, and the peer live-mode tests talk to.

It speaks KIS's protocol — ``POST /oauth2/tokenP``, the ``/uapi/...`` GETs with ``tr_id`` headers,
``rt_cd``/``msg_cd``/``msg1`` answers, 100-row daily pages, 30/120-row minute pages, ``tr_cont``
continuation — and enforces KIS's limits: one token per minute per app key (``EGW00133``) and
20 requests per second (``EGW00201``). Answers come from fixture files in KIS's own response
shapes (see ``sample_data/kis``), cut to what the request asks for as of the server's clock.
"""

import gzip
import json
import re
import secrets
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from azak_core.market import KST, is_stock_code
from azak_pipelines.lib import replay_http
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.kis import client as kis

OK = {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "정상처리 되었습니다."}
Answer = tuple[int, dict[str, str], dict[str, Any]]
RANKING_ROWS = 30  # KIS's ranking TRs answer at most 30 rows
SESSION_CLOSE = dt_time(15, 30)


def _error(msg_cd: str, msg1: str, status: int = 200) -> Answer:
    return status, {}, {"rt_cd": "1", "msg_cd": msg_cd, "msg1": msg1}


@lru_cache(maxsize=512)
def _load(path: Path) -> Any:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return json.loads(raw)


class MissingRecording(LookupError):
    """The fixtures hold no recording for this request."""


class InvalidField(ValueError):
    """A query value KIS would refuse (not a code, not a date); never a path to read."""


SAFE_NAME = re.compile(r"^[A-Za-z0-9_]+$")  # recording names: codes, YYYYMMDD, folder names


def _code(query: dict[str, str], name: str, index: bool = False) -> str:
    value = query.get(name, "")
    valid = (len(value) == 4 and value.isdigit()) if index else is_stock_code(value)
    if not valid:
        raise InvalidField(f"{name} must be {'an index code (4 digits)' if index else 'a stock code'}: {value[:20]!r}")
    return value


def _yyyymmdd(value: str, name: str) -> date:
    try:
        if len(value) != 8:
            raise ValueError
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise InvalidField(f"{name} must be a date as YYYYMMDD: {value[:20]!r}") from None


class KisSimulator:
    def __init__(self, fixtures: Path, clock: Callable[[], datetime] = utc_now,
                 per_second: int = 20, token_interval: float = 60.0, token_ttl: int = 86400,
                 app_key: str | None = None, app_secret: str | None = None,
                 more_keys: dict[str, str] | None = None):
        self.fixtures = fixtures
        self.clock = clock
        self.per_second = per_second  # per app key, as KIS counts
        self.token_interval = token_interval
        self.token_ttl = token_ttl
        # the app keys it accepts (key -> secret); none: any
        self.app_keys = {**({app_key: app_secret or ""} if app_key else {}), **(more_keys or {})}
        self.tokens: dict[str, tuple[str, datetime]] = {}  # token -> (appkey, expires)
        self.token_attempts: dict[str, float] = {}
        self.tokens_issued = 0
        self.tokens_by_key: Counter[str] = Counter()
        self.token_requests = 0
        self.request_times: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=100_000))
        self.requests: list[tuple[float, str]] = []
        self.requests_by_key: Counter[str] = Counter()
        self.throttled = 0
        self._faults: dict[str, deque[int | str]] = {}
        self._lock = threading.Lock()

    # -- test controls ----------------------------------------------------------------------------

    def inject(self, tr_id: str, *faults: int | str) -> None:
        """Answer the next requests for ``tr_id`` with these HTTP statuses or KIS ``msg_cd``s."""
        self._faults.setdefault(tr_id, deque()).extend(faults)

    def transport(self) -> httpx.MockTransport:
        return replay_http.transport(self.handle)

    # -- protocol ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], query: dict[str, str],
               body: bytes) -> Answer:
        with self._lock:
            if method == "POST" and path == "/oauth2/tokenP":
                return self._issue(body)
            return self._query(path, {k.lower(): v for k, v in headers.items()}, query)

    def _issue(self, body: bytes) -> Answer:
        self.token_requests += 1
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return 400, {}, {"error_code": "EGW00002", "error_description": "잘못된 요청입니다."}
        appkey, secret = request.get("appkey", ""), request.get("appsecret", "")
        if not appkey or not secret or (self.app_keys and self.app_keys.get(appkey) != secret):
            return 403, {}, {"error_code": "EGW00103", "error_description": "유효하지 않은 AppKey입니다."}
        now = time.monotonic()
        last = self.token_attempts.get(appkey)
        self.token_attempts[appkey] = now
        if last is not None and now - last < self.token_interval:
            return 403, {}, {"error_code": kis.TOKEN_THROTTLED,
                             "error_description": "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)"}
        token = secrets.token_urlsafe(32)
        expires = utc_now() + timedelta(seconds=self.token_ttl)
        self.tokens[token] = (appkey, expires)
        self.tokens_issued += 1
        self.tokens_by_key[appkey] += 1
        return 200, {}, {
            "access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl,
            "access_token_token_expired": expires.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S"),
        }

    def _query(self, path: str, headers: dict[str, str], query: dict[str, str]) -> Answer:
        tr_id = headers.get("tr_id", "")
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        owner = self.tokens.get(token)
        if owner is None or owner[0] != headers.get("appkey"):
            return _error("EGW00121", "유효하지 않은 token 입니다.", 500)
        if owner[1] <= utc_now():
            return _error("EGW00123", "기간이 만료된 token 입니다.", 500)
        now = time.monotonic()
        times = self.request_times[owner[0]]
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= self.per_second:
            self.throttled += 1
            return _error(kis.THROTTLED, "초당 거래건수를 초과하였습니다.", 500)
        times.append(now)
        self.requests.append((now, tr_id))
        self.requests_by_key[owner[0]] += 1
        faults = self._faults.get(tr_id)
        if faults:
            fault = faults.popleft()
            if isinstance(fault, int):
                return fault, {}, {"rt_cd": "1", "msg_cd": "EGW00500", "msg1": "injected failure"}
            return _error(fault, f"injected {fault}")
        routes = {
            kis.DAILY_CHART: self._daily_chart, kis.MINUTE_TODAY: self._minute_today,
            kis.MINUTE_PAST: self._minute_past, kis.QUOTE: self._quote,
            kis.ORDERBOOK: self._orderbook, kis.INVESTOR: self._investor,
            kis.INDEX_DAILY: self._index_daily, kis.OVERTIME_DAILY: self._overtime,
            kis.FINANCIAL_RATIO: self._financial_ratio, kis.PRODUCT_INFO: self._product_info,
            kis.INDEX_PRICE: self._index_price, kis.RANKING_FLUCTUATION: self._fluctuation,
            kis.RANKING_VOLUME: self._volume_rank,
        }
        for tr, route in routes.items():
            if tr.path == path:
                if tr.tr_id != tr_id:
                    return _error("OPSQ0002", f"tr_id {tr_id!r} does not match {path}")
                try:
                    return route(query, headers)
                except MissingRecording as exc:
                    return _error("OPSQ0003", f"replay has no recording: {exc}")
                except InvalidField as exc:
                    return _error("OPSQ0005", f"invalid field: {exc}")
        return 404, {}, {"rt_cd": "1", "msg_cd": "OPSQ0001", "msg1": f"unknown path {path}"}

    # -- fixtures ---------------------------------------------------------------------------------

    def _file(self, *parts: str) -> Any:
        if not all(SAFE_NAME.match(part) for part in parts):
            raise InvalidField(f"not a recording name: {'/'.join(parts)!r}")
        for suffix in (".json.gz", ".json"):
            path = self.fixtures.joinpath(*parts[:-1], parts[-1] + suffix)
            if path.exists():
                return _load(path)
        raise MissingRecording("/".join(parts))

    def _today(self) -> date:
        return self.clock().astimezone(KST).date()

    def _until(self, raw: str | None) -> date:
        today = self._today()
        if not raw:
            return today
        return min(today, _yyyymmdd(raw, "date"))

    @staticmethod
    def _between(rows: list[dict[str, Any]], start: date | None, end: date) -> list[dict[str, Any]]:
        """The rows whose session (``stck_bsop_date``, YYYYMMDD) is in ``[start, end]``: compared
        as text, which orders as the dates do; parsing every date of a ten-year recording on each
        request cost the server 50 ms of a request's 53 ms budget at 19 a second."""
        low, high = f"{start:%Y%m%d}" if start else "", f"{end:%Y%m%d}"
        return [r for r in rows if low <= r["stck_bsop_date"] <= high]

    def _daily_chart(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        code = _code(q, "FID_INPUT_ISCD")
        basis = "daily" if q.get("FID_ORG_ADJ_PRC", "0") == "0" else "daily_raw"
        start = _yyyymmdd(q.get("FID_INPUT_DATE_1", ""), "FID_INPUT_DATE_1")
        recording = self._file(basis, code)
        end = self._until(q.get("FID_INPUT_DATE_2"))
        rows = self._between(recording["output2"], start, end)
        return 200, {}, {**OK, "output1": recording["output1"], "output2": rows[:kis.DAILY_PAGE]}

    def _index_daily(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        recording = self._file("index_daily", _code(q, "FID_INPUT_ISCD", index=True))
        end = self._until(q.get("FID_INPUT_DATE_1"))
        rows = self._between(recording["output2"], None, end)
        return 200, {}, {**OK, "output1": recording["output1"], "output2": rows[:kis.DAILY_PAGE]}

    def _last_sessions(self, folder: str, code: str, key: str) -> Answer:
        recording = self._file(folder, code)
        today = self._today()
        rows = self._between(recording[key], None, today)
        return 200, {}, {**OK, key: rows[:30]}

    def _investor(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        return self._last_sessions("investor", _code(q, "FID_INPUT_ISCD"), "output")

    def _overtime(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        status, headers, body = self._last_sessions("overtime", _code(q, "FID_INPUT_ISCD"), "output2")
        return status, headers, {**body, "output1": {}}

    def _minutes(self, code: str, day: date, until: str, page: int) -> Answer:
        recording = self._file("minute", code, f"{day:%Y%m%d}")
        rows = [r for r in recording["output2"] if r["stck_cntg_hour"] <= until]
        return 200, {}, {**OK, "output1": recording["output1"], "output2": rows[:page]}

    def _minute_today(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        now = self.clock().astimezone(KST)
        until = min(q.get("FID_INPUT_HOUR_1", "153000"), now.strftime("%H%M%S"))
        return self._minutes(_code(q, "FID_INPUT_ISCD"), now.date(), until, kis.MINUTE_TODAY_PAGE)

    def _minute_past(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        day = _yyyymmdd(q.get("FID_INPUT_DATE_1", ""), "FID_INPUT_DATE_1")
        if day > self._today():
            return _error("OPSQ0004", "the requested date is in the future")
        return self._minutes(_code(q, "FID_INPUT_ISCD"), day, q.get("FID_INPUT_HOUR_1", "153000"),
                             kis.MINUTE_PAST_PAGE)

    def capture_times(self, code: str, day: date) -> list[datetime]:
        """When the recorded quote snapshots of ``day`` were taken (replay of the 5-minute job)."""
        try:
            captures = self._file("quotes", code, f"{day:%Y%m%d}")
        except MissingRecording:
            return []
        return [datetime.fromisoformat(c["captured_at"]) for c in captures]

    def _capture(self, code: str) -> dict[str, Any]:
        now = self.clock()
        captures = self._file("quotes", code, f"{now.astimezone(KST):%Y%m%d}")
        earlier = [c for c in captures if datetime.fromisoformat(c["captured_at"]) <= now]
        if not earlier:
            raise MissingRecording(f"quotes/{code} before {now.isoformat()}")
        latest: dict[str, Any] = earlier[-1]
        return latest

    def _quote(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        return 200, {}, self._capture(_code(q, "FID_INPUT_ISCD"))["price"]

    def _orderbook(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        return 200, {}, self._capture(_code(q, "FID_INPUT_ISCD"))["orderbook"]

    def _financial_ratio(self, q: dict[str, str], headers: dict[str, str]) -> Answer:
        kind = {"0": "annual", "1": "quarterly"}.get(q.get("FID_DIV_CLS_CODE", ""), "")
        if not kind:
            raise InvalidField(f"FID_DIV_CLS_CODE must be 0 or 1: {q.get('FID_DIV_CLS_CODE', '')[:20]!r}")
        rows = self._file("financial_ratio", _code(q, "fid_input_iscd"))[kind]
        page_size = 10  # answer in pages so the client's tr_cont handling is exercised
        start = page_size if headers.get("tr_cont") == "N" else 0
        chunk = rows[start:start + page_size]
        more = "M" if start + page_size < len(rows) else "D"
        return 200, {"tr_cont": more}, {**OK, "output": chunk}

    def _product_info(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        return 200, {}, {**OK, "output": self._file("product_info", _code(q, "PDNO"))}

    # -- market-wide TRs over the generated recordings (lib/kis/generated.py) -------------------

    def _last_close(self, days: list[str]) -> str:
        """The newest recorded session (YYYYMMDD, ascending ``days``) closed by the clock: the
        generated recordings hold closing figures only, so a session counts once it is over."""
        now = self.clock().astimezone(KST)
        if not days or now.date() > _yyyymmdd(days[-1], "session"):
            raise MissingRecording(f"the recordings end before {now.date()}")
        # YYYYMMDD text sorts as the days do: the sessions before today are closed, today's once
        # its close is past (parsing each day instead cost a market-wide request 370 parses)
        today = now.strftime("%Y%m%d")
        closed = bisect_right(days, today) if now.time() >= SESSION_CLOSE else bisect_left(days, today)
        if not closed:
            raise MissingRecording(f"no recorded session closed by {now.isoformat()}")
        return days[closed - 1]

    def _ranked(self, name: str) -> list[dict[str, Any]]:
        sessions: dict[str, list[dict[str, Any]]] = self._file("ranking", name)["sessions"]
        return sessions[self._last_close(sorted(sessions))]

    def _fluctuation(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        expected = {"fid_cond_mrkt_div_code": "J", "fid_cond_scr_div_code": "20170", "fid_input_iscd": "0000"}
        _require(q, expected)
        order = q.get("fid_rank_sort_cls_code", "")
        if order not in ("0", "1"):
            raise InvalidField(f"fid_rank_sort_cls_code must be 0 (rise) or 1 (fall) here: {order[:20]!r}")
        rows = self._ranked("fluctuation")
        if order == "1":
            rows = [{**row, "data_rank": str(rank)} for rank, row in enumerate(reversed(rows), start=1)]
        return 200, {}, {**OK, "output": rows[:RANKING_ROWS]}

    def _volume_rank(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        _require(q, {"FID_COND_MRKT_DIV_CODE": "J", "FID_COND_SCR_DIV_CODE": "20171", "FID_INPUT_ISCD": "0000"})
        return 200, {}, {**OK, "output": self._ranked("volume")[:RANKING_ROWS]}

    def _index_price(self, q: dict[str, str], _: dict[str, str]) -> Answer:
        _require(q, {"FID_COND_MRKT_DIV_CODE": "U"})
        rows = self._file("index_daily", _code(q, "FID_INPUT_ISCD", index=True))["output2"]
        day = self._last_close(sorted(r["stck_bsop_date"] for r in rows))
        bar = next(r for r in rows if r["stck_bsop_date"] == day)
        fields = ("bstp_nmix_prpr", "bstp_nmix_prdy_vrss", "prdy_vrss_sign", "bstp_nmix_prdy_ctrt",
                  "bstp_nmix_oprc", "bstp_nmix_hgpr", "bstp_nmix_lwpr", "acml_vol", "acml_tr_pbmn")
        return 200, {}, {**OK, "output": {field: bar.get(field, "") for field in fields}}


def _require(query: dict[str, str], expected: dict[str, str]) -> None:
    for name, value in expected.items():
        if query.get(name) != value:
            raise InvalidField(f"{name} must be {value!r}: {query.get(name, '')[:20]!r}")


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    if at.tzinfo is None:
        raise ValueError("the replay clock needs an aware datetime")
    return lambda: at.astimezone(UTC)


@contextmanager
def serve(simulator: KisSimulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the simulator over real HTTP (for live-mode tests); yields its base URL."""
    with replay_http.serve(simulator.handle, host, port) as url:
        yield url
