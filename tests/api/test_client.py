"""A generated TypeScript client proves the committed OpenAPI document: openapi-typescript (the
version package-lock.json pins) writes the types, ``tsc --noEmit`` checks a script calling the
stock page, the quote and the market overview against them, and node runs it against the served
API. Skipped, saying so, only where node is not installed."""

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from azak_api.app import create_app
from tests.api.conftest import serving, settings_for
from tests.api.test_frontend import EVENING, new_credentials
from tests.conftest import PROJECT_ROOT

CLIENT = PROJECT_ROOT / "clients" / "typescript"
NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="node is not installed: the TypeScript client cannot be generated or run")


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The script and its config beside a client generated from docs/openapi.json."""
    if not (NODE_BIN / "tsc").exists() or not (NODE_BIN / "openapi-typescript").exists():
        pytest.fail("node is installed but the npm packages are not: run `make install` (npm ci)")
    out = tmp_path_factory.mktemp("ts_client")
    for name in ("stock_page.ts", "tsconfig.json"):
        shutil.copy(CLIENT / name, out / name)
    (out / "package.json").write_text('{"type": "module"}\n')
    _run([str(NODE_BIN / "openapi-typescript"), str(PROJECT_ROOT / "docs" / "openapi.json"),
          "-o", str(out / "schema.d.ts")])
    return out


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_script_type_checks_against_the_generated_client(client_dir):
    checked = _run([str(NODE_BIN / "tsc"), "--noEmit", "-p", "."], cwd=client_dir)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_type_check_catches_a_field_the_schema_does_not_have(client_dir, tmp_path):
    wrong = tmp_path / "wrong"
    shutil.copytree(client_dir, wrong)
    script = wrong / "stock_page.ts"
    script.write_text(script.read_text().replace("quote.best_bid", "quote.bestBid"))
    checked = _run([str(NODE_BIN / "tsc"), "--noEmit", "-p", "."], cwd=wrong)
    assert checked.returncode != 0 and "bestBid" in checked.stdout


def test_the_compiled_script_runs_against_the_served_api(client_dir, predicted_warehouse):
    built = _run([str(NODE_BIN / "tsc"), "-p", "."], cwd=client_dir)
    assert built.returncode == 0, built.stdout + built.stderr
    app = create_app(settings_for(predicted_warehouse), clock=lambda: EVENING)
    with serving(settings_for(predicted_warehouse), app) as base:
        token = httpx.post(f"{base}/api/auth/login", json=new_credentials(predicted_warehouse)).json()["access_token"]
        ran = _run(["node", str(client_dir / "dist" / "stock_page.js"), "005930"], cwd=client_dir,
                   env={"PATH": "/usr/bin:/bin", "AZAK_API_URL": base, "AZAK_TOKEN": token})
    assert ran.returncode == 0, ran.stderr
    shown = json.loads(ran.stdout)
    assert shown["code"] == "005930" and shown["status"] == "closed" and shown["synthetic"] is True
    assert shown["asks"] == 10 and sorted(shown["models"]) == ["baseline", "momentum"]
    assert shown["predictions"] > 0 and shown["news"] and shown["gainers"] and shown["foreignBuyers"]
