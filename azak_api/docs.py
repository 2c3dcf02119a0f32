"""The API's documentation pages, with no script an outsider can swap.

``/docs`` (Swagger UI) loads its script, preset, style sheet and icon from this server: the files
of ``swagger-ui-dist`` 5.31.0, byte for byte, shipped by the pinned ``swagger-ui-bundle-v2``
wheel and served under ``/docs/assets/swagger-ui``, so the page works offline. ``/docs/scalar``
loads one exact Scalar release from jsDelivr with a Subresource Integrity hash (computed from the
npm package's ``dist/browser/standalone.js``): a browser refuses any other bytes. Litestar's
defaults load ``@latest`` and an icon and a style sheet from a moving branch, with no integrity.
"""

from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets/swagger-ui"
SCALAR_VERSION = "1.76.4"
SCALAR_JS = f"https://cdn.jsdelivr.net/npm/@scalar/api-reference@{SCALAR_VERSION}/dist/browser/standalone.js"
SCALAR_INTEGRITY = "sha384-hwB9WroDTpZaI38gr+u9CXA6ksz5gUYgD2GxXazKl/agT1L2GWUiRFWGJYNiFu4Q"
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>"


class PinnedScalarRenderPlugin(ScalarRenderPlugin):
    """Scalar's page with its script pinned by integrity, and nothing else from outside (the
    standalone script carries its own styles)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return f"""<!DOCTYPE html>
<html>
  <head>
    <title>{openapi_schema["info"]["title"]}</title>
    {self.style}
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    {self.favicon}
  </head>
  <body>
    <noscript>Scalar requires JavaScript to show the documentation.</noscript>
    <script id="api-reference" data-url="{self.get_openapi_json_route(request)}"></script>
    {self.render_options()}
    <script src="{self.js_url}" integrity="{SCALAR_INTEGRITY}" crossorigin="anonymous"></script>
  </body>
</html>""".encode()


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [
        SwaggerRenderPlugin(path="/", js_url=f"{ASSETS}/swagger-ui-bundle.js", css_url=f"{ASSETS}/swagger-ui.css",
                            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js", favicon=FAVICON),
        PinnedScalarRenderPlugin(path="/scalar", js_url=SCALAR_JS, favicon=FAVICON),
    ]


def swagger_assets() -> Router:
    """Swagger UI's files, public like the rest of ``/docs``."""
    return create_static_files_router(path=ASSETS, directories=[swagger_ui_path], include_in_schema=False)
