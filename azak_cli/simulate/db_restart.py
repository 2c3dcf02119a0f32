"""``--fault db-restart``: the simulation's own embedded PostgreSQL stopped while a run is in flight
and started again, with the real API (uvicorn, over HTTP) asked ``GET /health`` during the outage
and after it.

The outage starts once the chosen run's first step has started (it holds its pool slot then) and
lasts until the run's execution ends (at least :data:`DOWN_AT_LEAST_S`, at most
:data:`DOWN_AT_MOST_S`): the Dagster instance lives in the same cluster, so the run cannot even
record its failure; the engine marks it failed once the cluster answers again, and retries it as
the platform's run retries say (``dagster.yaml``).
"""

import contextlib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from azak_cli.runtime.postgres import EmbeddedPostgres, wait_until_ready
from azak_cli.simulate.engine import ATTEMPT_TAG

PROBE = "/health"  # touches PostgreSQL on every request (503 naming it when it is down)
DOWN_AT_LEAST_S = 2.0  # real seconds: the probe is answered during the outage whatever the run does
DOWN_AT_MOST_S = 120.0  # real seconds: the cluster comes back even if the run in flight hangs on it
STEP_WAIT_S = 600.0  # how long the run may take to reach its first step (a loaded machine)
API_START_S = 300.0  # how long the API may take to answer its first request (imports on a loaded machine)
UP_AGAIN_S = 60.0  # how long the API may take to answer 200 once the cluster is back


def probe(api: str) -> int:
    """The status of ``GET {api}/health`` (0 when nothing answered)."""
    try:
        with urllib.request.urlopen(api + PROBE, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


@contextlib.contextmanager
def serve_api(env: dict[str, str], logs: Path) -> Iterator[str]:
    """The real app under uvicorn, started as ``azak serve`` starts it (:class:`Supervisor`) on a
    free port of 127.0.0.1 with ``env``, logging into ``logs``; stopped afterwards."""
    from azak_cli.runtime.services import Endpoint, Supervisor

    with socket.socket() as probe_socket:  # a port nothing listens on now
        probe_socket.bind(("127.0.0.1", 0))
        port = int(probe_socket.getsockname()[1])
    endpoint = Endpoint("API", "AZAK_API_PORT", port, "127.0.0.1", "AZAK_BIND_HOST")
    supervisor = Supervisor(env=env, logs=logs)
    try:
        supervisor.start_api(endpoint)
        supervisor.wait_ready("API", f"{endpoint.url}{PROBE}", API_START_S)
        yield endpoint.url
    finally:
        supervisor.stop()


class Outage:
    """One restart of ``cluster`` during the run tagged ``token``: a thread stops the cluster once the
    run's first step has started and starts it again when the run has ended; ``seen`` counts what
    happened and the statuses the API answered."""

    def __init__(self, cluster: EmbeddedPostgres, api: str, instance: dg.DagsterInstance, token: str,
                 seen: Counter[str]):
        self.cluster, self.api, self.instance, self.token, self.seen = cluster, api, instance, token, seen
        self.ended = threading.Event()
        self.run_id = ""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._guarded, name="db-restart", daemon=True)

    def __enter__(self) -> "Outage":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ended.set()
        self.thread.join()
        if self.error is not None:  # the simulation must not go on against a stopped database
            raise RuntimeError(f"the db-restart fault could not bring PostgreSQL back: {self.error}") from self.error

    def _guarded(self) -> None:
        try:
            self._restart()
        except BaseException as error:  # raised again by __exit__, in the simulation's thread
            self.error = error
            if not self.cluster.is_running():
                self.cluster.start()  # a last attempt; its own error, if any, ends the thread

    def _restart(self) -> None:
        if not self._first_step():
            self.seen["runs that ended before a step started"] += 1
            return
        self.cluster.stop()
        stopped = time.monotonic()
        self.seen["stopped"] += 1
        self.seen[f"API {probe(self.api)} while down"] += 1
        self.ended.wait(max(0.0, DOWN_AT_LEAST_S - (time.monotonic() - stopped)))
        self.ended.wait(max(0.0, DOWN_AT_MOST_S - (time.monotonic() - stopped)))
        self.seen[f"API {probe(self.api)} while down"] += 1
        self.seen["down while the run was in flight" if self.ended.is_set() else "started while the run hung"] += 1
        self.cluster.start()
        wait_until_ready(self.cluster.url("postgres"))
        self.seen["started"] += 1
        deadline, status = time.monotonic() + UP_AGAIN_S, 0
        while status != 200 and time.monotonic() < deadline:
            status = probe(self.api)
            self.seen[f"API {status} after"] += 1
            if status != 200:
                time.sleep(0.5)

    def _first_step(self) -> bool:
        deadline = time.monotonic() + STEP_WAIT_S
        while not self.ended.is_set() and time.monotonic() < deadline:
            runs = self.instance.get_runs(dg.RunsFilter(tags={ATTEMPT_TAG: self.token}), limit=1)
            self.run_id = runs[0].run_id if runs else ""
            if self.run_id and self.instance.all_logs(self.run_id, of_type=dg.DagsterEventType.STEP_START):
                return True
            time.sleep(0.05)
        return False

