"""Dagit (the Dagster webserver) serves the project's lineage over GraphQL, and what an analyst
reads on an asset's page: columns with descriptions, an owner, tags, a code link, a freshness rule."""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from tests.conftest import BIN, PROJECT_ROOT, free_port

ASSET_NODES = """
{ assetNodes {
    assetKey { path } groupName dependencyKeys { path } isPartitioned isMaterializable
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    tags { key value }
    internalFreshnessPolicy { __typename }
    assetChecksOrError { ... on AssetChecks { checks { name description } } }
    metadataEntries {
      label
      ... on TableSchemaMetadataEntry { schema { columns { name description } } }
      ... on TextMetadataEntry { text }
      ... on CodeReferencesMetadataEntry { codeReferences { __typename } }
    }
} }
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
        # the code location loads in ~30 s on an idle laptop; several minutes on a loaded 2-core CI box
        deadline = time.monotonic() + 300
        nodes = None
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            try:
                result = graphql(port, ASSET_NODES)
                assert not result.get("errors"), result["errors"]
                nodes = (result.get("data") or {}).get("assetNodes")
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
        assert_what_analysts_read({"/".join(n["assetKey"]["path"]): n for n in nodes})
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _entries(node: dict) -> dict[str, dict]:
    return {entry["label"]: entry for entry in node["metadataEntries"]}


def assert_what_analysts_read(nodes: dict[str, dict]) -> None:
    """Every asset: described columns (or why there are none), an owner, domain/layer/source tags,
    a link to its code, a freshness rule (or why there is none); the rule's check for each rule."""
    problems = []
    for key, node in sorted(nodes.items()):
        entries = _entries(node)
        columns = entries.get("dagster/column_schema", {}).get("schema", {}).get("columns")
        if columns is None and "azak/columns" not in entries:
            problems.append(f"{key}: no columns and no reason")
        problems += [f"{key}.{c['name']}: no description" for c in columns or [] if not c["description"]]
        if not any(owner.get("team") for owner in node["owners"]):
            problems.append(f"{key}: no team owner")
        if not {"domain", "layer", "source"} <= {tag["key"] for tag in node["tags"]}:
            problems.append(f"{key}: tags {node['tags']}")
        # an external asset (the API's watch-list) has no code of ours that writes it
        if node["isMaterializable"] and not entries.get("dagster/code_references", {}).get("codeReferences"):
            problems.append(f"{key}: no code reference")
        freshness = entries.get("azak/freshness", {}).get("text")
        if not freshness:
            problems.append(f"{key}: no freshness rule and no reason")
        elif not freshness.startswith("no rule: "):
            checks = {c["name"] for c in node["assetChecksOrError"].get("checks", [])}
            if "fresh" not in checks:
                problems.append(f"{key}: a freshness rule without its check")
        if freshness and freshness.endswith("any day") and not node["internalFreshnessPolicy"]:
            problems.append(f"{key}: a calendar-free rule without Dagster's freshness policy")
    assert not problems, "\n".join(problems)
