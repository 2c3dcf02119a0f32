"""A local HTTP server that speaks the Telegram Bot API (the parts Azak uses).

``/bot{token}/{method}`` with JSON or form bodies, answers ``{"ok": true, "result": …}`` or
Telegram's error shape (``error_code``, ``description``, ``parameters.retry_after``). Tests queue
updates for ``getUpdates`` and scripted failures per chat for ``sendMessage``, and read back every
message sent with the time it arrived.
"""

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token-for-the-local-bot-api"
ERRORS = {
    400: "Bad Request: can't parse entities: Unsupported start tag",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class Sent:
    chat_id: int
    text: str
    parse_mode: str | None
    message_id: int
    at: float  # time.monotonic() on arrival


class BotApi:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[int, deque[tuple[int, int]]] = defaultdict(deque)  # chat → (code, retry_after)
        self.updates: deque[dict[str, Any]] = deque()
        self.update_id = 1000
        self.message_id = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "BotApi":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- scripting -----------------------------------------------------------------------------

    def fail(self, chat_id: int, *codes: int, retry_after: int = 1) -> None:
        """The next sendMessage calls to ``chat_id`` answer these HTTP codes, in order."""
        for code in codes:
            self.failures[chat_id].append((code, retry_after))

    def user_says(self, chat_id: int, text: str, username: str = "investor") -> None:
        """Queue a private-chat message for getUpdates (a command when it starts with /)."""
        with self.lock:
            self.update_id += 1
            self.message_id += 1
            message: dict[str, Any] = {
                "message_id": self.message_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private", "username": username},
                "from": {"id": chat_id, "is_bot": False, "first_name": username, "username": username},
            }
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            self.updates.append({"update_id": self.update_id, "message": message})

    def texts(self, chat_id: int) -> list[str]:
        return [s.text for s in self.sent if s.chat_id == chat_id]

    # -- the protocol --------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls.append((method, params))
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 123456, "is_bot": True, "first_name": "Azak",
                                                 "username": "azak_test_bot", "can_join_groups": False,
                                                 "can_read_all_group_messages": False,
                                                 "supports_inline_queries": False}}
        if method in {"deleteWebhook", "setMyCommands", "setWebhook"}:
            return 200, {"ok": True, "result": True}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._updates(params)}
        if method == "sendMessage":
            return self._send(params)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.2)
        while True:
            with self.lock:
                while self.updates and self.updates[0]["update_id"] < offset:
                    self.updates.popleft()
                if self.updates or time.monotonic() >= deadline:
                    return list(self.updates)
            time.sleep(0.01)

    def _send(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = int(params["chat_id"])
        text = str(params["text"])
        with self.lock:
            if self.failures[chat_id]:
                code, retry_after = self.failures[chat_id].popleft()
                body: dict[str, Any] = {"ok": False, "error_code": code,
                                        "description": ERRORS.get(code, "Too Many Requests: retry later")}
                if code == 429:
                    body["description"] = f"Too Many Requests: retry after {retry_after}"
                    body["parameters"] = {"retry_after": retry_after}
                return code, body
            if len(text) > 4096:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
            self.message_id += 1
            self.sent.append(Sent(chat_id, text, params.get("parse_mode"), self.message_id, time.monotonic()))
            return 200, {"ok": True, "result": {
                "message_id": self.message_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": 123456, "is_bot": True, "first_name": "Azak"}}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                prefix = f"/bot{api.token}/"
                if not self.path.startswith(prefix):
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("content-type", "")
                params: dict[str, Any] = {}
                if raw and "json" in kind:
                    params = json.loads(raw)
                elif raw:
                    params = dict(parse_qsl(raw.decode()))
                code, body = api.handle(self.path[len(prefix):].split("?")[0], params)
                self._reply(code, body)

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
