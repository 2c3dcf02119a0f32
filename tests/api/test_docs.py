"""The documentation pages load nothing an outsider can swap: every script, style sheet and icon is
served by the API itself, or pinned to one release with a Subresource Integrity hash."""

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from tests.api.conftest import settings_for

# swagger-ui-dist 5.31.0 from the npm registry (`npm pack swagger-ui-dist@5.31.0`): the bytes /docs must serve
SWAGGER_UI = {
    "swagger-ui-bundle.js": "sha384-cxafBeQ+zYROeFafGFxtFbnp1ICqeS9mG7+f0WWSHzhnrUvwg9Za5CCw6wgrHA7K",
    "swagger-ui-standalone-preset.js": "sha384-6DNyIQAo3wcTAtOv9yarCKSm1Vhxwkg5ZHgsQ9Y4gD1NuzRgK4+HmCyRbEKkpJ66",
    "swagger-ui.css": "sha384-KX9Rx9vM1AmUNAn07bPAiZhFD4C8jdNgG6f5MRNvR+EfAxs2PmMFtUUazui7ryZQ",
    "favicon-32x32.png": "sha384-vCPruBEcPmxk2uv19KNJCkWttTDv8oQxBAzSuTndOepjsIyiKHSoLNlWOcQMpXdL",
}
# dist/browser/standalone.js of `npm pack @scalar/api-reference@1.76.4`
SCALAR = ("https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.4/dist/browser/standalone.js",
          "sha384-hwB9WroDTpZaI38gr+u9CXA6ksz5gUYgD2GxXazKl/agT1L2GWUiRFWGJYNiFu4Q")
LOADED = re.compile(r"<(script|link)\b([^>]*)>")


@pytest.fixture
async def docs_client() -> AsyncIterator[AsyncTestClient]:
    """The app, never connecting to its database (the pages need none)."""
    settings = settings_for("postgresql://postgres@127.0.0.1:5432/azak_docs_unused", auto_migrate=False)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def loaded(page: str) -> list[dict[str, str]]:
    """Every script and linked file the page loads, with its attributes."""
    found = []
    for _, attributes in LOADED.findall(page):
        parsed = dict(re.findall(r"""([\w-]+)=["']([^"']*)["']""", attributes))
        if "src" in parsed or "href" in parsed:
            found.append(parsed)
    return found


def sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_swagger_ui_is_served_from_the_api_itself_byte_for_byte_the_pinned_release(docs_client):
    page = await docs_client.get("/docs")
    assert page.status_code == 200
    files = loaded(page.text)
    assert {f.get("src") or f.get("href") for f in files} == {f"/docs/assets/swagger-ui/{name}" for name in SWAGGER_UI}
    for name, expected in SWAGGER_UI.items():
        served = await docs_client.get(f"/docs/assets/swagger-ui/{name}")
        assert served.status_code == 200, name
        assert sri(served.content) == expected, name


async def test_scalar_loads_one_release_with_its_integrity_and_nothing_else_from_outside(docs_client):
    page = await docs_client.get("/docs/scalar")
    assert page.status_code == 200 and "@latest" not in page.text
    outside = [f for f in loaded(page.text) if not (f.get("src") or f.get("href", "")).startswith("/")]
    assert outside == [{"src": SCALAR[0], "integrity": SCALAR[1], "crossorigin": "anonymous"}]
    for inside in [f for f in loaded(page.text) if f not in outside]:
        assert (await docs_client.get(inside.get("src") or inside["href"])).status_code == 200
