"""The one HTTP client pattern every source uses.

:class:`HttpClient` wraps ``httpx.AsyncClient`` with an honest User-Agent, timeouts, bounded
concurrency, a pluggable rate limiter (per host in-process, or shared across processes), retries
with exponential backoff and jitter on transport errors, 5xx and 429 (honouring Retry-After), and
conditional requests (ETag / Last-Modified) where a server supports them. Replay mode swaps the
transport for one that answers from recorded fixtures; nothing else changes.
"""

import asyncio
import email.utils
import functools
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from azak_core import clock

USER_AGENT = "Azak/0.1 (Korean market data platform; +https://github.com/azak-platform/azak)"
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)

# query parameters that carry credentials (DART's crtfc_key, api keys, tokens, secrets)
_SECRET_PARAM = re.compile(
    r"(?i)\b([\w.-]*(?:key|secret|token|password|passwd|signature|crtfc)[\w.-]*)=([^&\s\"'#<>]+)")


def redact_secrets(text: str) -> str:
    """``…?crtfc_key=abc&corp_code=1`` → ``…?crtfc_key=REDACTED&corp_code=1``: for anything that
    is stored, shown in Dagit or logged (URLs in errors, quarantine locators, log lines)."""
    return _SECRET_PARAM.sub(r"\1=REDACTED", text)


class _RedactSecrets(logging.Filter):
    """httpx logs every request's full URL at INFO; keys in query strings must not reach the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, _RedactSecrets) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_RedactSecrets())


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...


class NoLimit:
    async def acquire(self) -> None:
        return None


class IntervalLimiter:
    """At most one request per ``interval`` seconds through this limiter (in this process)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class HostLimiter:
    """An :class:`IntervalLimiter` per host, for crawlers that visit several sites."""

    def __init__(self, interval: float):
        self.interval = interval
        self._limiters: dict[str, IntervalLimiter] = {}

    def for_host(self, host: str) -> IntervalLimiter:
        if host not in self._limiters:
            self._limiters[host] = IntervalLimiter(self.interval)
        return self._limiters[host]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = self.base_delay * (2.0 ** (attempt - 1))
        return min(self.max_delay, backoff * (0.5 + random.random()))


class HttpError(RuntimeError):
    """A request failed after its retries; carries what a person needs to act on it."""

    def __init__(self, message: str, url: str, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class ResponseTooLarge(HttpError):
    """An answer longer than the caller's cap: refused, never retried, never read whole."""


# the decoded body is handed over as is, so the headers describing its encoding no longer apply
_ENCODING_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


async def read_bounded(response: httpx.Response, max_bytes: int) -> httpx.Response:
    """``response`` (opened with ``stream=True``) read up to ``max_bytes`` decoded bytes; raises
    :class:`ResponseTooLarge` as soon as the body grows beyond them."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                url = redact_secrets(str(response.request.url))
                raise ResponseTooLarge(
                    f"{response.request.method} {url}: the answer is larger than the cap of "
                    f"{max_bytes:,} bytes, so it was refused; check the URL (or raise the cap)",
                    url, response.status_code)
            chunks.append(chunk)
    finally:
        await response.aclose()
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _ENCODING_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks),
                          request=response.request)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - clock.utc_now()).total_seconds())


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, as httpx builds it by default (the CA bundle, or
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``): httpx loads the bundle for every client otherwise, ~40 ms
    each, and a KIS run opens two clients per app key."""
    return httpx.create_ssl_context()


class HttpClient:
    """An async HTTP client with the project's politeness and resilience rules."""

    def __init__(
        self,
        *,
        base_url: str = "",
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        host_limiter: HostLimiter | None = None,
        concurrency: int = 4,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        validators: dict[str, tuple[str | None, str | None]] | None = None,
        on_send: Callable[[str, str], None] | None = None,
    ):
        """``validators`` (url → (ETag, Last-Modified)) turns on conditional GETs: the caller keeps
        the dict between runs; a ``304 Not Modified`` answer is returned as is."""
        self._client = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            verify=tls_context(),
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
            limits=httpx.Limits(max_connections=max(concurrency, 1) * 2,
                                max_keepalive_connections=max(concurrency, 1)),
        )
        self._limiter = limiter or NoLimit()
        self._host_limiter = host_limiter
        self._semaphore = asyncio.Semaphore(max(concurrency, 1))
        self._retry = retry
        self._sleep = sleep
        self._validators = validators
        self._on_send = on_send
        self.requests_sent = 0
        self.not_modified = 0

    async def __aenter__(self) -> "HttpClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        retry_when: Callable[[httpx.Response], float | None] | None = None,
        max_bytes: int | None = None,
        handled_when: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """Send with retries. ``retry_when`` may ask for a retry of a 200 answer (returns a delay);
        ``max_bytes`` caps the body (:class:`ResponseTooLarge` beyond it); ``handled_when`` marks an
        error answer the caller handles itself (returned, not retried, whatever its status)."""
        cache_key = str(httpx.URL(url, params=params)) if method == "GET" else ""
        extra = self._conditional(cache_key, headers)
        last_error = ""
        status: int | None = None
        for attempt in range(1, self._retry.attempts + 1):
            try:
                response = await self._send_in_turn(method, url, params, extra, json, max_bytes)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last_error = f"{type(exc).__name__}: {exc}".strip()
                status = None
                if attempt < self._retry.attempts:
                    await self._sleep(self._retry.delay(attempt))
                continue
            status = response.status_code
            if status == 304:
                self.not_modified += 1
                return response
            if status in RETRYABLE_STATUS and not (handled_when is not None and handled_when(response)):
                last_error = f"HTTP {status}"
                if attempt < self._retry.attempts:
                    await self._sleep(self._retry.delay(
                        attempt, parse_retry_after(response.headers.get("Retry-After"))))
                continue
            if retry_when is not None and status < 400:
                delay = retry_when(response)
                if delay is not None:
                    last_error = "the server asked us to slow down"
                    if attempt < self._retry.attempts:
                        await self._sleep(delay)
                    continue
            self._remember(cache_key, response)
            return response
        raise HttpError(
            redact_secrets(f"{method} {url} failed after {self._retry.attempts} attempts: {last_error}"),
            redact_secrets(url), status,
        )

    def _conditional(self, cache_key: str, headers: Mapping[str, str] | None) -> dict[str, str]:
        """``headers`` plus the validators of the last 200 answer to this GET, if kept."""
        extra = dict(headers or {})
        if self._validators is not None and cache_key in self._validators:
            etag, modified = self._validators[cache_key]
            if etag:
                extra["If-None-Match"] = etag
            if modified:
                extra["If-Modified-Since"] = modified
        return extra

    def _remember(self, cache_key: str, response: httpx.Response) -> None:
        if self._validators is not None and cache_key and response.status_code == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                self._validators[cache_key] = (etag, modified)

    async def _send_in_turn(self, method: str, url: str, params: Mapping[str, Any] | None,
                            headers: dict[str, str], json: Any, max_bytes: int | None) -> httpx.Response:
        # take a concurrency slot first, then the rate slot, then send at once: a rate slot is
        # never spent waiting in a queue, so the server sees the spacing we chose
        async with self._semaphore:
            await self._limiter.acquire()
            if self._host_limiter is not None:
                host = httpx.URL(url).host or httpx.URL(str(self._client.base_url)).host
                await self._host_limiter.for_host(host).acquire()
            self.requests_sent += 1
            if self._on_send is not None:
                self._on_send(method, url)
            return await self._send(method, url, params, headers, json, max_bytes)

    async def _send(self, method: str, url: str, params: Mapping[str, Any] | None,
                    headers: Mapping[str, str], json: Any, max_bytes: int | None) -> httpx.Response:
        if max_bytes is None:
            return await self._client.request(method, url, params=params, headers=headers, json=json)
        request = self._client.build_request(method, url, params=params, headers=headers, json=json)
        return await read_bounded(await self._client.send(request, stream=True), max_bytes)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)
