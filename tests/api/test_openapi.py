"""The API a frontend team builds on: the committed OpenAPI document is the served one, the docs'
route table lists exactly the schema's routes, and every list has the one pagination shape."""

import json
import re
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from tests.api.conftest import settings_for
from tests.conftest import PROJECT_ROOT

SCHEMA_FILE = PROJECT_ROOT / "docs" / "openapi.json"
API_PAGE = PROJECT_ROOT / "docs" / "api.md"
REGENERATE = "run `.venv/bin/python scripts/export_openapi.py` and review the diff"
PAGED = {"items", "total", "total_is_estimate", "page", "page_size", "pages"}
# registries an admin keeps by hand (a few rows each): whole lists, not pages
WHOLE_LISTS = {"listModels", "listAbTests"}
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|", re.MULTILINE)


@pytest.fixture
async def served() -> AsyncIterator[dict]:
    """The document the app serves (no database needed)."""
    settings = settings_for("postgresql://postgres@127.0.0.1:5432/azak_docs_unused", auto_migrate=False)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/docs/openapi.json")
        assert response.status_code == 200
        yield response.json()


async def test_the_committed_schema_is_the_served_one(served):
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    changed = sorted(set(served["paths"]) ^ set(committed["paths"]))
    assert not changed, f"routes added or removed since docs/openapi.json was written: {changed}; {REGENERATE}"
    assert served == committed, f"the served OpenAPI document differs from docs/openapi.json: {REGENERATE}"


async def test_the_docs_route_table_lists_exactly_the_schema_routes(served):
    documented = set(ROW.findall(API_PAGE.read_text(encoding="utf-8")))
    routes = {(method.upper(), path) for path, item in served["paths"].items() for method in item
              if method in {"get", "post", "put", "patch", "delete"}}
    assert documented - routes == set(), f"docs/api.md lists routes the API does not serve; {REGENERATE}"
    assert routes - documented == set(), f"docs/api.md lacks routes the API serves; {REGENERATE}"
    for needed in ("/api/predictions", "/api/runs/{run_id}", "/api/stocks/{code}/analysis/refresh",
                   "/api/models", "/api/admin/telegram/subscribers", "/api/stocks/{code}/page"):
        assert any(path == needed for _, path in documented), needed


def _response_schema(served: dict, operation: dict) -> dict:
    content = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    if "$ref" in schema:
        schema = served["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_every_list_is_a_page_of_one_shape(served):
    """A route that pages (``page``/``page_size``) answers the one page shape; no other list
    route answers a bare array. Top-k answers (``k``: search, similar news) are rankings, not lists."""
    pages, whole = [], []
    for item in served["paths"].values():
        operation = item.get("get")
        if operation is None:
            continue
        schema = _response_schema(served, operation)
        names = {p["name"] for p in operation.get("parameters", [])}
        if schema.get("type") == "array":
            whole.append(operation["operationId"])
        if "page" in names:
            pages.append(operation["operationId"])
            assert set(schema.get("required", [])) >= PAGED, (operation["operationId"], sorted(schema))
            assert "page_size" in names, operation["operationId"]
    assert set(whole) == WHOLE_LISTS, "a list route answers a bare array: answer a page (azak_api.pages.Paged)"
    expected = {"listStocks", "listNews", "listPredictions", "listEvaluations", "listStockReports", "listUsers"}
    assert set(pages) >= expected
