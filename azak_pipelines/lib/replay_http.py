"""Serving a recorded-protocol handler over httpx (replay mode) or real HTTP (live-mode tests).

A handler is a callable ``(method, path, headers, query, body) -> (status, headers, payload)``
where ``payload`` is a JSON-able value or raw ``bytes``.
"""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

Answer = tuple[int, dict[str, str], Any]
Handler = Callable[[str, str, dict[str, str], dict[str, str], bytes], Answer]


def _body(payload: Any, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    if isinstance(payload, bytes):
        return payload, headers
    data = json.dumps(payload, ensure_ascii=False).encode()
    return data, {"content-type": "application/json; charset=utf-8", **headers}


def transport(handler: Handler) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        status, headers, payload = handler(
            request.method, request.url.path, dict(request.headers),
            dict(parse_qsl(request.url.query.decode())), request.content)
        data, headers = _body(payload, headers)
        return httpx.Response(status, headers=headers, content=data)

    return httpx.MockTransport(answer)


@contextmanager
def serve(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``handler`` on a real socket; yields the base URL."""

    class Server(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = handler(
                self.command, parts.path, dict(self.headers.items()), dict(parse_qsl(parts.query)), body)
            data, headers = _body(payload, headers)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer((host, port), Server)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
