"""Long-running processes: the Dagster webserver and daemon, and the API."""

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from azak_cli.runtime.environment import PROJECT_ROOT, Runtime
from azak_cli.runtime.postgres import DatabaseConfigError, port_is_free
from azak_core import settings_registry

BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same clean shutdown as Ctrl-C


def stop_on_signals() -> None:
    """Ctrl-C (even when started in the background) and SIGTERM stop the command cleanly."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


@dataclass(frozen=True)
class Endpoint:
    name: str
    variable: str
    port: int
    host: str
    host_variable: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name other than localhost: assume it is reachable
            return False


def _port(variable: str, default: int) -> int:
    raw = settings_registry.read_or(variable, "")
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DatabaseConfigError(f"{variable} must be a port number (1-65535), got {raw!r}")
    return int(raw)


def _endpoint(name: str, variable: str, default_port: int, host_variable: str) -> Endpoint:
    host = settings_registry.read_or(host_variable, LOOPBACK)
    return Endpoint(name, variable, _port(variable, default_port), host, host_variable)


def endpoints() -> tuple[Endpoint, Endpoint]:
    """Dagit and the API. Each has its own bind address: publishing the API (AZAK_BIND_HOST)
    never publishes Dagit, which has no login and launches any job with any config."""
    return (
        _endpoint("Dagit", "AZAK_DAGIT_PORT", 3000, "AZAK_DAGIT_BIND_HOST"),
        _endpoint("API", "AZAK_API_PORT", 8000, "AZAK_BIND_HOST"),
    )


def exposure_notice(dagit: Endpoint, api: Endpoint) -> str | None:
    """What `azak serve` and `azak demo` say when a server listens beyond the loopback."""
    if not dagit.is_loopback:
        return (f"WARNING: Dagit listens on {dagit.host}:{dagit.port} ({dagit.host_variable}) and has no "
                "login: anyone who reaches it can launch any job with any config. Put an "
                f"authenticating proxy in front of it, or unset {dagit.host_variable} ({LOOPBACK}).")
    if not api.is_loopback:
        return (f"The API listens on {api.host}:{api.port} ({api.host_variable}); Dagit has no login "
                f"and stays on {dagit.host}:{dagit.port} ({dagit.host_variable}, never {api.host_variable}).")
    return None


def say_exposure(dagit: Endpoint, api: Endpoint) -> None:
    if notice := exposure_notice(dagit, api):
        print(notice, file=sys.stderr)


def check_ports_free(wanted: list[Endpoint]) -> None:
    for endpoint in wanted:
        if not port_is_free(endpoint.port, endpoint.host):
            raise DatabaseConfigError(
                f"port {endpoint.port} on {endpoint.host} is already in use, so the {endpoint.name} "
                f"cannot start; stop what uses it or set {endpoint.variable} to a free port"
            )


class Supervisor:
    """Starts child processes with the runtime's environment and stops them together."""

    def __init__(self, runtime: Runtime | None = None, env: dict[str, str] | None = None,
                 logs: Path | None = None):
        """Children get ``runtime``'s environment and log to its home, or ``env`` and ``logs``."""
        if runtime is not None:
            env, logs = runtime.child_env(), runtime.home / "logs"
        if env is None or logs is None:
            raise ValueError("a supervisor needs a runtime, or an environment and a log folder")
        self.env, self.logs = env, logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append((name, process))

    def start_dagit(self, endpoint: Endpoint) -> None:
        workspace = str(PROJECT_ROOT / "workspace.yaml")
        self.start("dagster-webserver", [str(BIN / "dagster-webserver"), "-w", workspace,
                                         "-h", endpoint.host, "-p", str(endpoint.port)])
        self.start("dagster-daemon", [str(BIN / "dagster-daemon"), "run", "-w", workspace])

    def start_api(self, endpoint: Endpoint) -> None:
        self.start("api", [str(BIN / "uvicorn"), "azak_api.app:create_app", "--factory",
                           "--host", endpoint.host, "--port", str(endpoint.port),
                           "--no-access-log", "--log-level", "warning",
                           # the client address is the API's decision (AZAK_TRUSTED_PROXIES), not uvicorn's
                           "--no-proxy-headers"])

    def start_telegram(self) -> None:
        """The Telegram bot and outbox delivery (only when AZAK_TELEGRAM_BOT_TOKEN is set)."""
        self.start("telegram", [str(BIN / "azak"), "serve", "telegram"])

    def start_telegram_if_configured(self) -> bool:
        """Start the bot when AZAK_TELEGRAM_BOT_TOKEN is set; returns whether it was."""
        if not settings_registry.read_or("AZAK_TELEGRAM_BOT_TOKEN", ""):
            return False
        self.start_telegram()
        return True

    def start_servers(self, dagit: Endpoint | None, api: Endpoint | None, dagster_url: str) -> None:
        """Start Dagit (with the daemon) and/or the API, then wait until each answers. The API
        launches on-demand runs through the Dagit at ``dagster_url`` (GraphQL)."""
        from azak_pipelines.runs import dagster_instance

        if dagit is not None:
            dagster_instance()  # the pools' limits, before the daemon launches runs
            self.start_dagit(dagit)
        if api is not None:
            self.env.setdefault("AZAK_DAGSTER_URL", dagster_url)
            self.start_api(api)
        if dagit is not None:
            self.wait_ready("Dagit", f"{dagit.url}/server_info")
        if api is not None:
            self.wait_ready("API", f"{api.url}/health")

    def wait_ready(self, name: str, url: str, timeout: float = 300.0) -> None:
        # a loaded machine (load 20 on two cores) took over 120 s before Dagit answered
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child_name, process in self.children:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{child_name} exited with code {process.returncode}; "
                        f"see {self.logs / (child_name + '.log')}"
                    )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status < 500:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} did not answer at {url} within {timeout:.0f} s")

    def wait(self) -> None:
        """Block until Ctrl-C, SIGTERM or until a child dies."""
        stop_on_signals()  # again: the demo's in-process Dagster runs replace the handlers
        try:
            while True:
                for name, process in self.children:
                    if process.poll() is not None:
                        print(f"{name} exited with code {process.returncode}; "
                              f"see {self.logs / (name + '.log')}", file=sys.stderr)
                        return
                time.sleep(1)
        except KeyboardInterrupt:
            print("\nstopping…")

    def stop(self) -> None:
        for _, process in self.children:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        # each child leads its own process group: what is left in it (a code server Dagit or the
        # daemon spawned while shutting down, orphaned by its parent's exit) goes too
        for _, process in self.children:
            _signal_group(process.pid, signal.SIGKILL)
        self.children.clear()


@contextlib.contextmanager
def supervised(runtime: Runtime) -> Iterator[Supervisor]:
    """A supervisor for ``runtime`` (after ``runtime.ensure_milvus()``: its children get the URI)
    whose children are stopped on the way out, whatever happens."""
    supervisor = Supervisor(runtime)
    try:
        yield supervisor
    finally:
        supervisor.stop()


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)
