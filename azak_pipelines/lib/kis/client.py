"""KIS OpenAPI (한국투자증권) client: one token and one rate limit per app key, shared by all processes.

Every call goes through :meth:`KisClient._call`: rate limit → bounded concurrency → timeout →
retries (5xx, 429, transport errors, KIS's per-second throttle ``EGW00201``) → ``rt_cd`` check.
An expired token (``EGW00123``/``EGW00121``) is refreshed once. Paging follows each TR's rules:
date windows for daily series, time windows for minute bars, ``tr_cont`` where KIS pages by header.
"""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import httpx

from azak_core.redact import redacted_repr
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.http import HttpClient, RateLimiter, RetryPolicy
from azak_pipelines.lib.kis import market_wide, parsers
from azak_pipelines.lib.kis.parsers import KisApiError

HOSTS = {
    "real": "https://openapi.koreainvestment.com:9443",
    "paper": "https://openapivts.koreainvestment.com:29443",
}
# KIS allows 20 requests/s per app key on real accounts; paper (모의투자) accounts far fewer.
DEFAULT_RATE = {"real": 19.0, "paper": 2.0}
THROTTLED = "EGW00201"  # 초당 거래건수를 초과하였습니다
TOKEN_EXPIRED = {"EGW00123", "EGW00121"}  # 기간이 만료된 token / 유효하지 않은 token
TOKEN_THROTTLED = "EGW00133"  # 접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)


@dataclass(frozen=True)
class Tr:
    tr_id: str
    path: str
    real_only: bool = False


Q = "/uapi/domestic-stock/v1/quotations"
DAILY_CHART = Tr("FHKST03010100", f"{Q}/inquire-daily-itemchartprice")
MINUTE_TODAY = Tr("FHKST03010200", f"{Q}/inquire-time-itemchartprice")
MINUTE_PAST = Tr("FHKST03010230", f"{Q}/inquire-time-dailychartprice", real_only=True)
QUOTE = Tr("FHKST01010100", f"{Q}/inquire-price")
ORDERBOOK = Tr("FHKST01010200", f"{Q}/inquire-asking-price-exp-ccn")
INVESTOR = Tr("FHKST01010900", f"{Q}/inquire-investor")
INDEX_DAILY = Tr("FHPUP02120000", f"{Q}/inquire-index-daily-price", real_only=True)
OVERTIME_DAILY = Tr("FHPST02320000", f"{Q}/inquire-daily-overtimeprice")
FINANCIAL_RATIO = Tr("FHKST66430300", "/uapi/domestic-stock/v1/finance/financial-ratio")
PRODUCT_INFO = Tr("CTPF1604R", f"{Q}/search-info", real_only=True)
INDEX_PRICE = Tr("FHPUP02100000", f"{Q}/inquire-index-price", real_only=True)
RANKING_FLUCTUATION = Tr("FHPST01700000", "/uapi/domestic-stock/v1/ranking/fluctuation", real_only=True)
RANKING_VOLUME = Tr("FHPST01710000", f"{Q}/volume-rank", real_only=True)
# the rise/fall ranking's sort codes (fid_rank_sort_cls_code)
RANKING_SORT = {market_wide.RISE: "0", market_wide.FALL: "1"}

DAILY_PAGE = 100  # FHKST03010100 and FHPUP02120000 return at most 100 rows per call
MINUTE_TODAY_PAGE = 30
MINUTE_PAST_PAGE = 120


class KisConfigError(ValueError):
    """KIS settings are incomplete or inconsistent."""


class KisUnsupported(RuntimeError):
    """The TR is not offered for this account type (e.g. real-only TRs on a paper account)."""


class KisTokenError(RuntimeError):
    """A token could not be issued."""


@dataclass(frozen=True)
class KisConfig:
    app_key: str
    app_secret: str
    env: str = "paper"  # real | paper
    base_url: str | None = None  # overrides the host for env (a local KIS server in tests)
    rate_per_second: float | None = None
    concurrency: int = 4
    timeout_seconds: float = 20.0

    __repr__ = redacted_repr  # the app key and secret stay out of logs and tracebacks

    def __post_init__(self) -> None:
        if self.env not in HOSTS:
            raise KisConfigError(f"AZAK_KIS_ENV must be 'real' or 'paper', got {self.env!r}")
        if not self.app_key or not self.app_secret:
            raise KisConfigError("AZAK_KIS_APP_KEY and AZAK_KIS_APP_SECRET are both required for live KIS")

    @property
    def host(self) -> str:
        return (self.base_url or HOSTS[self.env]).rstrip("/")

    @property
    def rate(self) -> float:
        return self.rate_per_second or DEFAULT_RATE[self.env]

    @property
    def key_id(self) -> str:
        """A stable, non-secret identifier of the app key (for shared token and limit rows)."""
        return hashlib.sha256(f"{self.host}|{self.app_key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime  # aware

    __repr__ = redacted_repr


class TokenProvider(Protocol):
    async def token(self, issue: Callable[[], Awaitable[IssuedToken]]) -> str: ...

    async def invalidate(self, stale: str) -> None: ...


class MemoryTokenStore:
    """One token per client process, with the same refresh and once-a-minute rules (replay, tests)."""

    def __init__(self) -> None:
        self._token: IssuedToken | None = None
        self._lock = asyncio.Lock()
        self.issued = 0

    async def token(self, issue: Callable[[], Awaitable[IssuedToken]]) -> str:
        async with self._lock:
            if self._token is None or self._token.expires_at - timedelta(minutes=5) <= utc_now():
                self._token = await issue()
                self.issued += 1
            return self._token.access_token

    async def invalidate(self, stale: str) -> None:
        async with self._lock:
            if self._token is not None and self._token.access_token == stale:
                self._token = None


@dataclass
class AppKey:
    """One app key's share of a client: KIS limits and issues tokens per app key, so each key has
    its own token, its own rate limiter and its own connections."""

    config: KisConfig
    tokens: TokenProvider
    http: HttpClient
    auth: HttpClient  # token issuance, apart: it must not consume the per-second quota


class KisClient:
    """KIS for one account type, through one or several app keys: calls are dealt to the keys in
    turn, so that ``n`` keys go ``n`` times as fast as one (``more_keys``: their configs, token
    stores and limiters; ``config`` is the first key's)."""

    def __init__(self, config: KisConfig, tokens: TokenProvider, limiter: RateLimiter,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 on_send: Callable[[str, str], None] | None = None,
                 more_keys: Sequence[tuple[KisConfig, TokenProvider, RateLimiter]] = ()):
        self.config = config
        self._sleep = sleep
        envs = {config.env, *(c.env for c, _, _ in more_keys)}
        if len(envs) > 1:
            raise KisConfigError(f"every app key of a client must be of one account type, got {sorted(envs)}")

        def app_key(key: KisConfig, tokens: TokenProvider, limiter: RateLimiter) -> AppKey:
            return AppKey(key, tokens, HttpClient(
                base_url=key.host, transport=transport, limiter=limiter, concurrency=key.concurrency,
                timeout=httpx.Timeout(key.timeout_seconds, connect=10.0),
                retry=RetryPolicy(attempts=5, base_delay=0.5, max_delay=20.0), sleep=sleep,
                headers={"content-type": "application/json; charset=utf-8"}, on_send=on_send,
            ), HttpClient(base_url=key.host, transport=transport, concurrency=1,
                          retry=RetryPolicy(attempts=3), sleep=sleep))

        self.keys = [app_key(config, tokens, limiter), *(app_key(*more) for more in more_keys)]
        self._turn = 0

    async def __aenter__(self) -> "KisClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        for key in self.keys:
            await key.http.aclose()
            await key.auth.aclose()

    @property
    def concurrency(self) -> int:
        """How many requests can be in flight at once, over every app key."""
        return sum(key.config.concurrency for key in self.keys)

    @property
    def requests_sent(self) -> int:
        return sum(key.http.requests_sent for key in self.keys)

    # -- token ----------------------------------------------------------------------------------

    async def issue_token(self, key: AppKey | None = None) -> IssuedToken:
        """A new token for ``key`` (the first app key by default)."""
        key = key or self.keys[0]
        response = await key.auth.post("/oauth2/tokenP", json={
            "grant_type": "client_credentials", "appkey": key.config.app_key,
            "appsecret": key.config.app_secret,
        })
        body = _json(response)
        if response.status_code != 200 or "access_token" not in body:
            code = str(body.get("error_code") or body.get("msg_cd") or response.status_code)
            message = str(body.get("error_description") or body.get("msg1") or response.text[:200])
            if code == TOKEN_THROTTLED or "1분당 1회" in message:
                raise KisApiError(TOKEN_THROTTLED, message, "tokenP")
            raise KisTokenError(f"KIS refused to issue a token: [{code}] {message}")
        expires_in = int(body.get("expires_in") or 86400)
        return IssuedToken(body["access_token"], utc_now() + timedelta(seconds=expires_in))

    # -- the one call path ----------------------------------------------------------------------

    def _next_key(self) -> AppKey:
        key = self.keys[self._turn % len(self.keys)]
        self._turn += 1
        return key

    async def _call(self, tr: Tr, params: dict[str, str], tr_cont: str = "") -> tuple[dict[str, Any], str]:
        if tr.real_only and self.config.env != "real":
            raise KisUnsupported(f"{tr.tr_id} is only offered on real accounts (AZAK_KIS_ENV=real)")
        key = self._next_key()
        for attempt in range(2):
            token = await key.tokens.token(lambda: self.issue_token(key))
            headers = {
                "authorization": f"Bearer {token}", "appkey": key.config.app_key,
                "appsecret": key.config.app_secret, "tr_id": tr.tr_id, "custtype": "P",
                "tr_cont": tr_cont,
            }
            response = await key.http.get(tr.path, params=params, headers=headers,
                                          retry_when=_kis_throttle, handled_when=_token_rejected)
            payload = _json(response)
            msg_cd = str(payload.get("msg_cd", ""))
            if msg_cd in TOKEN_EXPIRED and attempt == 0:
                await key.tokens.invalidate(token)
                continue
            if response.status_code >= 400 and payload.get("rt_cd") in (None, "", "0"):
                raise KisApiError(msg_cd or str(response.status_code),
                                  str(payload.get("msg1") or response.text[:200]), tr.tr_id)
            parsers.check(payload, tr.tr_id)
            return payload, response.headers.get("tr_cont", "")
        raise KisTokenError("KIS rejected a freshly issued token")

    # -- TRs --------------------------------------------------------------------------------------

    async def daily_bars(self, code: str, start: date, end: date, adjusted: bool = True) -> list[parsers.DailyBar]:
        """Daily bars in ``[start, end]`` (inclusive), newest-first pages walked back to ``start``."""
        bars: dict[date, parsers.DailyBar] = {}
        window_end = end
        while window_end >= start:
            payload, _ = await self._call(DAILY_CHART, {
                "FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code,
                "FID_INPUT_DATE_1": f"{start:%Y%m%d}", "FID_INPUT_DATE_2": f"{window_end:%Y%m%d}",
                "FID_PERIOD_DIV_CODE": "D", "FID_ORG_ADJ_PRC": "0" if adjusted else "1",
            })
            page = parsers.parse_daily_chart(payload, code)
            for bar in page:
                if start <= bar.trade_date <= end:
                    bars[bar.trade_date] = bar
            if len(page) < DAILY_PAGE:
                break
            window_end = min(bar.trade_date for bar in page) - timedelta(days=1)
        return sorted(bars.values(), key=lambda b: b.trade_date)

    async def minute_bars_today(self, code: str, until: time, since: time | None = None) -> list[parsers.MinuteBar]:
        """Today's one-minute bars up to ``until``, walked back 30 at a time (to ``since``)."""
        bars: dict[datetime, parsers.MinuteBar] = {}
        cursor = until
        while True:
            payload, _ = await self._call(MINUTE_TODAY, {
                "FID_ETC_CLS_CODE": "", "FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code,
                "FID_INPUT_HOUR_1": f"{cursor:%H%M%S}", "FID_PW_DATA_INCU_YN": "Y",
            })
            page = parsers.parse_minute_chart(payload, code, MINUTE_TODAY.tr_id)
            for bar in page:
                bars[bar.bar_time] = bar
            if len(page) < MINUTE_TODAY_PAGE:
                break
            earliest = min(bar.bar_time for bar in page)
            if since is not None and earliest.time() <= since:
                break
            cursor = (earliest - timedelta(minutes=1)).time()
        return sorted(bars.values(), key=lambda b: b.bar_time)

    async def minute_bars_past(self, code: str, day: date) -> list[parsers.MinuteBar]:
        """One-minute bars of a past session (real accounts; about a year is kept)."""
        bars: dict[datetime, parsers.MinuteBar] = {}
        cursor = time(15, 30)
        while True:
            payload, _ = await self._call(MINUTE_PAST, {
                "FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code,
                "FID_INPUT_DATE_1": f"{day:%Y%m%d}", "FID_INPUT_HOUR_1": f"{cursor:%H%M%S}",
                "FID_PW_DATA_INCU_YN": "Y", "FID_FAKE_TICK_INCU_YN": "",
            })
            page = [b for b in parsers.parse_minute_chart(payload, code, MINUTE_PAST.tr_id)
                    if b.trade_date == day]
            for bar in page:
                bars[bar.bar_time] = bar
            if len(page) < MINUTE_PAST_PAGE:
                break
            cursor = (min(bar.bar_time for bar in page) - timedelta(minutes=1)).time()
        return sorted(bars.values(), key=lambda b: b.bar_time)

    async def quote(self, code: str) -> parsers.Quote:
        payload, _ = await self._call(QUOTE, {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code})
        return parsers.parse_quote(payload)

    async def orderbook(self, code: str) -> parsers.OrderBook:
        payload, _ = await self._call(ORDERBOOK, {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code})
        return parsers.parse_orderbook(payload)

    async def investor_flows(self, code: str) -> list[parsers.InvestorFlow]:
        """The last 30 sessions of investor net buying (KIS keeps no longer history here)."""
        payload, _ = await self._call(INVESTOR, {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code})
        return parsers.parse_investor(payload, code)

    async def index_daily(self, index_code: str, start: date, end: date) -> list[parsers.IndexBar]:
        bars: dict[date, parsers.IndexBar] = {}
        window_end = end
        while window_end >= start:
            payload, _ = await self._call(INDEX_DAILY, {
                "FID_PERIOD_DIV_CODE": "D", "FID_COND_MRKT_DIV_CODE": "U",
                "FID_INPUT_ISCD": index_code, "FID_INPUT_DATE_1": f"{window_end:%Y%m%d}",
            })
            page = parsers.parse_index_daily(payload, index_code)
            for bar in page:
                if start <= bar.trade_date <= end:
                    bars[bar.trade_date] = bar
            if len(page) < DAILY_PAGE:
                break
            window_end = min(bar.trade_date for bar in page) - timedelta(days=1)
        return sorted(bars.values(), key=lambda b: b.trade_date)

    async def overtime_daily(self, code: str) -> list[parsers.OvertimeBar]:
        """After-hours single-price results of the last 30 sessions."""
        payload, _ = await self._call(OVERTIME_DAILY, {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code})
        return parsers.parse_overtime_daily(payload, code)

    async def financial_ratios(self, code: str, period_kind: str) -> list[parsers.FinancialRatio]:
        """Annual (``annual``) or quarterly (``quarterly``) ratios, following ``tr_cont`` pages."""
        division = {"annual": "0", "quarterly": "1"}[period_kind]
        ratios: list[parsers.FinancialRatio] = []
        tr_cont = ""
        for _ in range(50):  # a runaway-paging guard; real answers take one or two pages
            payload, more = await self._call(FINANCIAL_RATIO, {
                "FID_DIV_CLS_CODE": division, "fid_cond_mrkt_div_code": "J", "fid_input_iscd": code,
            }, tr_cont=tr_cont)
            ratios.extend(parsers.parse_financial_ratio(payload, code, period_kind))
            if more not in ("M", "F"):
                break
            tr_cont = "N"
        return ratios

    async def product_info(self, code: str) -> parsers.ProductInfo:
        payload, _ = await self._call(PRODUCT_INFO, {"PDNO": code, "PRDT_TYPE_CD": "300"})
        return parsers.parse_product_info(payload, code)

    async def index_price(self, index_code: str) -> market_wide.IndexLevel:
        """An index's level now (a sector or a composite; real accounts only)."""
        payload, _ = await self._call(INDEX_PRICE, {"FID_COND_MRKT_DIV_CODE": "U", "FID_INPUT_ISCD": index_code})
        return market_wide.parse_index_price(payload, index_code)

    async def ranking(self, ranking: str) -> list[market_wide.RankedStock]:
        """KIS's market-wide ranking now, all KRX stocks (``0000``), up to the 30 rows KIS
        returns: ``rise`` and ``fall`` by change from the previous close (FHPST01700000),
        ``volume`` by shares traded (FHPST01710000). Real accounts only."""
        if ranking == market_wide.VOLUME:
            payload, _ = await self._call(RANKING_VOLUME, {
                "FID_COND_MRKT_DIV_CODE": "J", "FID_COND_SCR_DIV_CODE": "20171", "FID_INPUT_ISCD": "0000",
                "FID_DIV_CLS_CODE": "0", "FID_BLNG_CLS_CODE": "0", "FID_TRGT_CLS_CODE": "111111111",
                "FID_TRGT_EXLS_CLS_CODE": "0000000000", "FID_INPUT_PRICE_1": "", "FID_INPUT_PRICE_2": "",
                "FID_VOL_CNT": "", "FID_INPUT_DATE_1": "",
            })
            return market_wide.parse_ranking(payload, ranking, RANKING_VOLUME.tr_id)
        payload, _ = await self._call(RANKING_FLUCTUATION, {
            "fid_cond_mrkt_div_code": "J", "fid_cond_scr_div_code": "20170", "fid_input_iscd": "0000",
            "fid_rank_sort_cls_code": RANKING_SORT[ranking], "fid_input_cnt_1": "0", "fid_prc_cls_code": "0",
            "fid_input_price_1": "", "fid_input_price_2": "", "fid_vol_cnt": "", "fid_trgt_cls_code": "0",
            "fid_trgt_exls_cls_code": "0", "fid_div_cls_code": "0", "fid_rsfl_rate1": "", "fid_rsfl_rate2": "",
        })
        return market_wide.parse_ranking(payload, ranking, RANKING_FLUCTUATION.tr_id)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _token_rejected(response: httpx.Response) -> bool:
    """KIS answers an expired or unknown token with HTTP 500 (``EGW00123``/``EGW00121``): not a
    server fault to retry as is, but the token to refresh (once, in :meth:`KisClient._call`)."""
    head = response.content[:400]
    return any(code.encode() in head for code in TOKEN_EXPIRED)


def _kis_throttle(response: httpx.Response) -> float | None:
    """KIS reports its per-second throttle inside a normal-looking answer: back off and retry."""
    if b"EGW00201" in response.content[:400]:
        return 1.0
    return None
