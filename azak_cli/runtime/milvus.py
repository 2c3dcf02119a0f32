"""The embedded Milvus: milvus-lite run as a local gRPC server, data under ``AZAK_HOME/milvus``.

milvus-lite serves one data directory from one process (DESIGN §9), so ``azak`` starts it as a
server that Dagster's processes, the API and ``azak similar`` all connect to, the way it starts
the embedded PostgreSQL. It listens on 127.0.0.1 only; its pid file says which process to stop.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from azak_cli.runtime.postgres import DatabaseConfigError, folder_lock, port_is_free

BIN = Path(sys.executable).parent


class EmbeddedMilvus:
    """A milvus-lite server for ``root/data`` on 127.0.0.1:``port``."""

    def __init__(self, root: Path, port: int):
        self.root = root
        self.port = port
        self.data_dir = root / "data"
        self.pid_file = root / "milvus.pid"
        self.log_file = root / "milvus.log"

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _pid(self) -> int | None:
        try:
            pid, port = self.pid_file.read_text().split()
            os.kill(int(pid), 0)
        except (OSError, ValueError):
            return None
        return int(pid) if int(port) == self.port else -int(port)

    def is_running(self) -> bool:
        pid = self._pid()
        return pid is not None and pid > 0 and _answers(self.port)

    def start(self, timeout: float = 60.0) -> bool:
        """Start the server unless it runs. Returns True if it was started now."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            pid = self._pid()
            if pid is not None and pid < 0:
                raise DatabaseConfigError(
                    f"the embedded Milvus in {self.root} already runs on port {-pid}, not AZAK_MILVUS_PORT="
                    f"{self.port}; run `azak milvus stop` first")
            if pid is not None:
                self._wait_ready(timeout, pid)
                return False
            if not port_is_free(self.port):
                raise DatabaseConfigError(
                    f"port {self.port} on 127.0.0.1 is already in use, so the embedded Milvus cannot start; "
                    "set AZAK_MILVUS_PORT to a free port (or AZAK_MILVUS_URI to use an existing Milvus)")
            with self.log_file.open("ab") as log:
                process = subprocess.Popen(
                    [str(BIN / "milvus-lite"), "server", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                     "--port", str(self.port)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            self.pid_file.write_text(f"{process.pid} {self.port}\n")
            self._wait_ready(timeout, process.pid)
            return True

    def stop(self, timeout: float = 20.0) -> bool:
        with self._lock():
            pid = self._pid()
            if pid is None:
                self.pid_file.unlink(missing_ok=True)
                return False
            os.kill(abs(pid), signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _alive(abs(pid)):
                time.sleep(0.1)
            if _alive(abs(pid)):
                os.kill(abs(pid), signal.SIGKILL)
            self.pid_file.unlink(missing_ok=True)
            return True

    def _wait_ready(self, timeout: float, pid: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                raise DatabaseConfigError(f"the embedded Milvus exited at start-up (see {self.log_file}):\n"
                                          f"{self._log_tail()}")
            if _answers(self.port):
                return
            time.sleep(0.2)
        raise DatabaseConfigError(f"the embedded Milvus did not answer on port {self.port} within {timeout:.0f} s "
                                  f"(see {self.log_file})")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False
