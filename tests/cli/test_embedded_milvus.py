"""The embedded Milvus `azak` manages: start, reuse, status, stop, and clear errors."""

import os
import socket

import pytest

from azak_cli.runtime.milvus import EmbeddedMilvus
from azak_cli.runtime.postgres import DatabaseConfigError
from azak_core.vectors import milvus_client
from tests.conftest import free_port, run_azak


def test_start_reuse_and_stop(tmp_path):
    server = EmbeddedMilvus(tmp_path / "milvus", free_port())
    try:
        assert server.start() is True and server.is_running()
        assert server.start() is False  # already running: reused
        client = milvus_client(server.uri)
        assert client.list_collections() == []
        client.close()
        other = EmbeddedMilvus(tmp_path / "milvus", free_port())
        with pytest.raises(DatabaseConfigError, match="already runs on port"):
            other.start()
    finally:
        assert server.stop() is True
    assert not server.is_running() and server.stop() is False


def test_a_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedMilvus(tmp_path / "milvus", busy.getsockname()[1])
        with pytest.raises(DatabaseConfigError, match="AZAK_MILVUS_PORT"):
            server.start()


def test_the_milvus_commands(tmp_path):
    env = dict(os.environ, AZAK_HOME=str(tmp_path), AZAK_MILVUS_PORT=str(free_port()))
    assert run_azak("milvus", "status", env=env).returncode == 3
    started = run_azak("milvus", "start", env=env)
    try:
        assert started.returncode == 0 and "started" in started.stdout, started.stderr
        assert "running on http://127.0.0.1:" in run_azak("milvus", "status", env=env).stdout
    finally:
        assert run_azak("milvus", "stop", env=env).stdout.strip() == "stopped"
