"""HTTP caching for clients: ``ETag`` and ``Cache-Control`` on every read, 304 on ``If-None-Match``,
and gzip above a size.

The validator is a weak ETag (``W/"<length>-<checksums>"``) of the uncompressed JSON answer: the same answer
gzipped or not is the same representation to a client, and gzip output carries a time stamp, so
hashing it would give a new tag every second. The ETag layer therefore sits *inside* Litestar's
compression middleware (``CompressionConfig(middleware_class=...)``, its documented extension
point): it sees the answer before it is compressed, and a 304 has no body to compress. Litestar's
response cache sits outside both and stores the finished messages, ETag included, keyed by the
negotiated encoding (``cache.cache_key``); a cached answer keeps the tag it was computed with.

``Cache-Control`` is ``private`` (every route but the documents needs a token): ``max-age`` is the
route's response-cache time to live (``AZAK_CACHE_TTLS``), ``no-cache`` (revalidate each time) for
routes without one. ``Vary: Authorization, Cookie`` keeps shared caches from mixing callers.
"""

import zlib
from collections.abc import Iterable

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

MAX_AGE = "http_max_age"  # opt key filled by declare_max_ages(): seconds a client may reuse an answer
COMPRESS_ABOVE = 1024  # bytes: below this gzip saves too little to be worth a client's CPU


def declare_max_ages(app: Litestar, ttls: dict[str, int]) -> None:
    """Record on each read handler how long a client may reuse its answer: the route's
    response-cache time to live (0: revalidate every time)."""
    for route in app.routes:
        for handler, _ in getattr(route, "route_handler_map", {}).values():
            handler.opt[MAX_AGE] = ttls.get(handler.opt.get("cache", ""), 0) if handler.cache else 0


def etag_of(body: bytes) -> str:
    """The answer's length, CRC-32 and Adler-32: a changed answer keeps its tag only if it has the
    same length and both checksums collide. A weak validator needs no more (RFC 9110 even allows a
    modification time), and a cryptographic digest is not free: SHA-256 over the 100 KB price
    document was the largest single item of an uncached request's CPU in the worker's profile."""
    return f'W/"{len(body):x}-{zlib.crc32(body):08x}{zlib.adler32(body):08x}"'


def matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` (a list of tags, or ``*``) with ``etag``."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return "*" in tags or any(tag.removeprefix("W/") == bare for tag in tags)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    return next((value.decode("latin-1") for key, value in headers if key.lower() == name), None)


class ConditionalGet:
    """ETag, Cache-Control and 304 for successful GETs answered in one body message."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        answer = _Validated(send, _header(scope.get("headers", ()), b"if-none-match"),
                            handler.opt.get(MAX_AGE, 0) if handler is not None else 0)
        await self.app(scope, receive, answer.send)


class _Validated:
    """One answer's messages: the start of a 200 is held until its body is known."""

    def __init__(self, send: Send, asked: str | None, max_age: int):
        self.forward = send
        self.asked = asked
        self.max_age = max_age
        self.start: HTTPResponseStartEvent | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            self.start = message
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.forward(message)
            return
        start, self.start = self.start, None
        if message.get("more_body"):  # a stream: no tag
            await self.forward(start)
            await self.forward(message)
            return
        headers = MutableScopeHeaders(start)
        if "no-store" in (headers.get("cache-control") or ""):  # a public preview: kept nowhere, not revalidated
            await self.forward(start)
            await self.forward(message)
            return
        etag = headers.get("etag") or etag_of(message.get("body", b""))
        headers["etag"] = etag
        headers["cache-control"] = f"private, max-age={self.max_age}" if self.max_age else "private, no-cache"
        headers.extend_header_value("vary", "Authorization, Cookie")
        if self.asked is not None and matches(self.asked, etag):
            for name in ("content-length", "content-type", "content-encoding"):
                if name in headers:
                    del headers[name]
            start["status"] = 304
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await self.forward(start)
        await self.forward(message)


class CompressingConditionalGet(CompressionMiddleware):
    """Litestar's compression around :class:`ConditionalGet` (so the tag is of the plain answer)."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        super().__init__(app=ConditionalGet(app), config=config)


def compression_config() -> CompressionConfig:
    return CompressionConfig(backend="gzip", minimum_size=COMPRESS_ABOVE, gzip_compress_level=6,
                             middleware_class=CompressingConditionalGet)
