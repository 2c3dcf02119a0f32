"""Screenshots of Dagit for docs/dagit.md, with headless Chromium against a running Dagit.

    .venv/bin/python scripts/dagit_screenshots.py --dagit http://127.0.0.1:3000 --out docs/img

It first asks Dagit's GraphQL what an analyst should see (the asset page's columns, owner, tags and
freshness; the leaderboard's reliability diagram) and fails when something is missing, then:
- screenshots asset pages with ``chromium --headless --screenshot`` (install it with
  ``apt-get install -y chromium``; ``--chromium`` names another binary);
- writes the reliability diagram exactly as the materialization carries it (the PNG inside its
  Markdown), since Dagit shows Markdown metadata behind a click that a plain screenshot cannot make.
"""

import argparse
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from PIL import Image

PAGES = {"dagit-asset-daily-prices.png": "raw/daily_prices", "dagit-asset-marts-daily-prices.png": "marts/daily_prices"}
LEADERBOARD = ["computed", "model_leaderboard"]

ASSET = """
query ($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) { ... on AssetNode {
  owners { ... on TeamAssetOwner { team } } tags { key value }
  metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name description } } }
                    ... on TextMetadataEntry { text } }
} } }
"""
MATERIALIZATION = """
query ($path: [String!]!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
  assetMaterializations(limit: 1) { metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } }
} } }
"""
PNG_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def graphql(dagit: str, query: str, variables: dict[str, object]) -> dict:
    request = urllib.request.Request(f"{dagit}/graphql", data=json.dumps({"query": query, "variables": variables})
                                     .encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        result = json.loads(response.read())
    if result.get("errors"):
        raise SystemExit(f"Dagit answered with errors: {result['errors']}")
    return dict(result["data"])


def check_asset_page(dagit: str, key: str) -> None:
    node = graphql(dagit, ASSET, {"path": key.split("/")})["assetNodeOrError"]
    entries = {e["label"]: e for e in node.get("metadataEntries", [])}
    columns = entries.get("dagster/column_schema", {}).get("schema", {}).get("columns", [])
    missing = [c["name"] for c in columns if not c["description"]]
    if not columns or missing or not node["owners"] or "azak/freshness" not in entries:
        raise SystemExit(f"{key}: columns {len(columns)} (undescribed {missing}), owners {node['owners']}, "
                         f"freshness {'azak/freshness' in entries}")


def reliability_png(dagit: str) -> bytes:
    asset = graphql(dagit, MATERIALIZATION, {"path": LEADERBOARD})["assetOrError"]
    events = asset.get("assetMaterializations") or []
    entries = {e["label"]: e for e in events[0]["metadataEntries"]} if events else {}
    match = PNG_URI.search(entries.get("reliability_diagram", {}).get("mdStr", ""))
    if not match:
        raise SystemExit("computed/model_leaderboard has no materialization with a reliability diagram: run the demo")
    return base64.b64decode(match.group(1))


def screenshot(chromium: str, url: str, path: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", "--window-size=1280,1000", "--virtual-time-budget=30000",
                        f"--screenshot={path}", url], check=True, capture_output=True, timeout=180)
    if not path.exists() or path.stat().st_size < 10_000:
        raise SystemExit(f"chromium wrote no usable screenshot of {url}")
    with Image.open(path) as picture:  # a UI has few colours: a palette keeps the file small
        picture.convert("RGB").quantize(colors=64).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dagit", default="http://127.0.0.1:3000")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args()
    if not args.chromium:
        raise SystemExit("no chromium found: apt-get install -y chromium, or pass --chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, key in PAGES.items():
        check_asset_page(args.dagit, key)
        screenshot(args.chromium, f"{args.dagit}/assets/{key}", args.out / name)
    (args.out / "dagit-reliability-diagram.png").write_bytes(reliability_png(args.dagit))
    print(f"wrote {', '.join([*PAGES, 'dagit-reliability-diagram.png'])} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
