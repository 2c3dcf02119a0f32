"""The one Dagit GraphQL client (azak_core/dagit.py) against a local server that answers what a
misconfigured proxy or a wrong address answers: each is "Dagit unavailable" (a 503 in the API, a
message in the CLI), never a crash."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from azak_core.dagit import DagitUnavailable, graphql

ANSWERS = {
    "/html/graphql": (b"<html>sign in</html>", "text/html"),
    "/list/graphql": (b"[1, 2]", "application/json"),
    "/nodata/graphql": (json.dumps({"extensions": {}}).encode(), "application/json"),
    "/errors/graphql": (json.dumps({"errors": ["not an object"]}).encode(), "application/json"),
    "/ok/graphql": (json.dumps({"data": {"version": "1"}}).encode(), "application/json"),
}


class Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body, kind = ANSWERS[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("path", ["html", "list", "nodata", "errors"])
async def test_an_answer_that_is_not_dagits_is_unavailable(server, path):
    with pytest.raises(DagitUnavailable):
        await graphql(f"{server}/{path}", "{ version }", {})


async def test_a_graphql_answer_gives_its_data(server):
    assert await graphql(f"{server}/ok", "{ version }", {}) == {"version": "1"}
