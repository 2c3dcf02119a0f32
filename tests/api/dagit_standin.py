"""A stand-in for Dagit's GraphQL API on 127.0.0.1: it answers the two calls the API makes
(``launchRun`` and ``runOrError``, azak_api/analysis/dagster.py) in Dagit's response shape, and
keeps every launch it received, so tests can count launches and read their tags."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Launch:
    run_id: str
    job: str
    run_config: dict[str, Any]
    tags: dict[str, str]


@dataclass
class DagitStandIn:
    """What the stand-in received, and how it answers: ``launch_delay`` seconds per launch (Dagit
    takes a moment: parallel requests overlap), ``refuse`` launches refused with a PythonError."""

    base_url: str = ""
    launch_delay: float = 0.0
    refuse: int = 0
    launches: list[Launch] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def launch(self, params: dict[str, Any]) -> dict[str, Any]:
        time.sleep(self.launch_delay)
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return {"__typename": "PythonError", "message": "the code location is not loaded"}
            tags = {t["key"]: t["value"] for t in params["executionMetadata"]["tags"]}
            launch = Launch(str(uuid.uuid4()), params["selector"]["jobName"], params["runConfigData"], tags)
            self.launches.append(launch)
        return {"__typename": "LaunchRunSuccess", "run": {"runId": launch.run_id}}

    def run(self, run_id: str) -> dict[str, Any]:
        with self.lock:
            found = next((r for r in self.launches if r.run_id == run_id), None)
        if found is None:
            return {"__typename": "RunNotFoundError", "message": f"Run {run_id} could not be found."}
        return {"__typename": "Run", "runId": run_id, "status": "QUEUED", "jobName": found.job,
                "startTime": None, "endTime": None,
                "tags": [{"key": k, "value": v} for k, v in found.tags.items()]}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        query, variables = request["query"], request.get("variables") or {}
        if "launchRun(" in query:
            return {"data": {"launchRun": self.launch(variables["params"])}}
        if "runOrError(" in query:
            return {"data": {"runOrError": self.run(variables["id"])}}
        return {"errors": [{"message": "the stand-in knows launchRun and runOrError only"}]}


def _handler(dagit: DagitStandIn) -> type[BaseHTTPRequestHandler]:
    class GraphQL(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/graphql":
                self.send_error(404)
                return
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(dagit.answer(request)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:  # quiet
            pass

    return GraphQL


@contextmanager
def dagit_standin(launch_delay: float = 0.0) -> Iterator[DagitStandIn]:
    """The stand-in, served on a free loopback port until the block ends."""
    dagit = DagitStandIn(launch_delay=launch_delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(dagit))
    dagit.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="dagit-standin", daemon=True)
    thread.start()
    try:
        yield dagit
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
