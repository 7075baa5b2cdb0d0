"""The OpenAPI pages under /schema, whole without a network beyond the server itself.

Litestar's render plugins load their scripts, styles and favicon from CDNs by default, so
on a warehouse network with no way out `/schema/swagger` is a blank page. Here Swagger
UI's dist files come from a PyPI package (`swagger-ui-bundle-v2`, installed with the
server) and are served by the app under `/schema/assets/`; the plugins point at them.
Only the renderers whose assets we ship are offered: Swagger UI (also the page at
`/schema`), and the document itself as JSON and YAML, completed where Litestar leaves
gaps (server/api/openapi_document.py).
"""

from __future__ import annotations

from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from server.api.openapi_document import CompletedJson, CompletedYaml, Completion

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/assets"
SWAGGER_UI_DIR = Path(str(swagger_ui_path))


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """The first plugin is the page at /schema itself."""
    favicon = f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>"
    completion = Completion()  # the document completed once (server.api.openapi_document)
    return [
        SwaggerRenderPlugin(
            js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
            path="/swagger",
            favicon=favicon,
        ),
        CompletedJson(completion, favicon=favicon),
        CompletedYaml(completion, favicon=favicon),
    ]


def assets_router() -> Router:
    """Swagger UI's files, read from the installed package, cached by browsers a day."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[SWAGGER_UI_DIR],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=86_400),
        opt={"exclude_from_auth": True},
    )
