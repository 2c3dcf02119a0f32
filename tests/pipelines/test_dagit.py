"""Dagit (the Dagster webserver) serves the project's lineage over GraphQL."""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from tests.conftest import BIN, PROJECT_ROOT, free_port

ASSET_NODES = """
{ assetNodes { assetKey { path } groupName dependencyKeys { path } isPartitioned } }
"""


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_webserver_serves_asset_nodes_and_their_dependencies(dagster_home, db_url, tmp_path):
    port = free_port()
    log = (tmp_path / "webserver.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-w", str(PROJECT_ROOT / "workspace.yaml"),
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        nodes = None
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            try:
                result = graphql(port, ASSET_NODES)
                nodes = result.get("data", {}).get("assetNodes")
                if nodes:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert nodes, "the webserver never answered with asset nodes"
        deps = {
            "/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]}
            for n in nodes
        }
        groups = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}
        assert deps["staging/stg_krx__stocks"] == {"raw/stocks"}
        assert deps["marts/stocks"] == {"staging/stg_krx__stocks"}
        assert deps["staging/stg_krx__trading_days"] == {"raw/trading_calendar"}
        assert groups["raw/stocks"] == groups["marts/stocks"] == "reference"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
