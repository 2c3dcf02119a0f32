"""`azak serve`: publishing the API (AZAK_BIND_HOST) never publishes Dagit, which has no login and
launches any job with any config. Dagit binds AZAK_DAGIT_BIND_HOST, 127.0.0.1 unless set."""

import ipaddress
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from azak_cli.runtime import services
from tests.conftest import BIN, PROJECT_ROOT, free_port

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def listening_addresses(port: int) -> set[str]:
    """The local addresses the kernel has a listening TCP socket on for ``port`` (any process)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != LISTEN or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(packed)))
    return found


def serve_until(process: subprocess.Popen[str], marker: str, timeout: float = 300) -> list[str]:
    """The lines `azak serve` prints until one starts with ``marker``; a silent or dead process
    fails the test at ``timeout`` (the lines are read in a thread, so the deadline always holds)."""
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, process.stdout or ()), lines.put(None)],
                     daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not (seen and seen[-1].startswith(marker)):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.rstrip())
    assert seen and seen[-1].startswith(marker), "\n".join(seen[-40:])
    return seen


@pytest.mark.slow
def test_publishing_the_api_leaves_dagit_on_the_loopback(database, milvus_server, tmp_path):
    """The attack: an operator publishes the API with AZAK_BIND_HOST=0.0.0.0. The real `azak serve`
    starts both servers; the kernel's socket table shows Dagit listening on 127.0.0.1 only."""
    dagit_port, api_port = free_port(), free_port()
    kept = {"AZAK_REDIS_URL", "AZAK_REQUIRE_REDIS"}
    env = {k: v for k, v in os.environ.items() if k in kept or not k.startswith(("AZAK_", "DAGSTER_"))}
    env |= {"PYTHONUNBUFFERED": "1", "AZAK_HOME": str(tmp_path / "home"), "AZAK_DATABASE_URL": database.render(),
            "AZAK_MILVUS_URI": milvus_server, "AZAK_EMBEDDER": "offline", "AZAK_BIND_HOST": "0.0.0.0",
            "AZAK_DAGIT_PORT": str(dagit_port), "AZAK_API_PORT": str(api_port)}
    process = subprocess.Popen([str(BIN / "azak"), "serve"], env=env, cwd=PROJECT_ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = serve_until(process, "API:")
        assert listening_addresses(api_port) == {"0.0.0.0"}  # the API is published, as asked
        assert listening_addresses(dagit_port) == {"127.0.0.1"}
        notice = next(line for line in lines if "AZAK_DAGIT_BIND_HOST" in line)
        assert "no login" in notice and f"127.0.0.1:{dagit_port}" in notice
    finally:
        process.send_signal(signal.SIGTERM)  # the reader thread drains its output
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_dagit_binds_its_own_setting_never_the_apis(monkeypatch):
    monkeypatch.setenv("AZAK_BIND_HOST", "0.0.0.0")
    monkeypatch.delenv("AZAK_DAGIT_BIND_HOST", raising=False)
    dagit, api = services.endpoints()
    assert (dagit.host, api.host) == ("127.0.0.1", "0.0.0.0")
    assert "stays on 127.0.0.1" in str(services.exposure_notice(dagit, api))
    monkeypatch.setenv("AZAK_DAGIT_BIND_HOST", "0.0.0.0")  # only when asked for by name
    dagit, api = services.endpoints()
    assert dagit.host == "0.0.0.0"
    assert str(services.exposure_notice(dagit, api)).startswith("WARNING: Dagit listens on 0.0.0.0")
    monkeypatch.delenv("AZAK_BIND_HOST")
    monkeypatch.delenv("AZAK_DAGIT_BIND_HOST")
    assert services.exposure_notice(*services.endpoints()) is None  # nothing to say on the loopback
