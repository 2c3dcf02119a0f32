"""OPTIONS answered for every path with an ``Allow`` header naming every method the path serves.

Litestar gives each path an automatic OPTIONS handler, but when a path's handlers are registered
in more than one step its ``Allow`` keeps listing only the first step's methods (2.25: ``DELETE,
OPTIONS`` on a path that also serves GET and PATCH). The finished route table is right, so this
middleware answers OPTIONS from it — plain ASGI and public route attributes, nothing patched.
CORS preflights never get here (Litestar's CORS middleware answers them first, when configured).
"""

from litestar import Litestar
from litestar.middleware import ASGIMiddleware
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send


class AllowHeaderMiddleware(ASGIMiddleware):
    def __init__(self) -> None:
        self.allow: dict[str, bytes] = {}

    def learn(self, app: Litestar) -> None:
        """Read each path's methods from the app's finished route table."""
        self.allow = {route.path_format: ", ".join(sorted(route.methods)).encode()
                      for route in app.routes if isinstance(route, HTTPRoute)}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        allow = self.allow.get(scope.get("path_template", "")) if scope.get("method") == "OPTIONS" else None
        if allow is None:
            await next_app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
