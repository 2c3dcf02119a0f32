"""Cross-site request forgery: a browser attaches the session cookie to requests other sites make.

A state-changing request (POST, PUT, PATCH, DELETE) that would authenticate by the cookie — it
carries the cookie and no ``Authorization`` header — must

- come from an allowed origin: its ``Origin`` (or, without one, its ``Referer``) is the API's own
  origin or one of ``AZAK_CORS_ORIGINS``; a request naming neither is refused, and
- send its body as ``application/json``, which a cross-site form or ``text/plain`` fetch cannot
  do without a CORS preflight the API would refuse.

SameSite=Lax alone lets a *same-site* page (another port on the host, e.g. Dagit) post with the
cookie; these two checks do not. Bearer clients are untouched: another site cannot make a browser
send our token.
"""

from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from azak_api.auth import COOKIE

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin(value: str) -> str | None:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class CsrfMiddleware(ASGIMiddleware):
    def __init__(self, allowed_origins: tuple[str, ...]):
        self.allowed = frozenset(origin.lower() for origin in allowed_origins)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") in UNSAFE:
            self.check(scope)
        await next_app(scope, receive, send)

    def check(self, scope: Scope) -> None:
        headers = Headers.from_scope(scope)
        if headers.get("authorization") or f"{COOKIE}=" not in headers.get("cookie", ""):
            return
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
        claimed = headers.get("origin") or headers.get("referer")
        origin = _origin(claimed) if claimed else None
        if origin is None or (origin != own and origin not in self.allowed):
            raise PermissionDeniedException(
                "a request authenticated by the session cookie must come from an allowed origin "
                "(Origin or Referer: this API or AZAK_CORS_ORIGINS); scripts should send "
                "'Authorization: Bearer <token>' instead of the cookie")
        has_body = headers.get("transfer-encoding") or headers.get("content-length", "0") not in {"", "0"}
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if has_body and media_type != "application/json":
            raise PermissionDeniedException(
                "a request authenticated by the session cookie must send its body as application/json")
