"""OpenAPI at the framework's default path covers every endpoint, with its schemas."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings


def _schema_refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                found |= _schema_refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _schema_refs(value)
    return found


async def test_openapi_lists_every_route_and_every_referenced_schema_exists(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths: dict[str, dict[str, Any]] = spec["paths"]
    expected: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        path = route.path_format or route.path
        for method in route.methods:
            if method in ("HEAD", "OPTIONS"):
                continue
            handler = route.route_handler_map[method][0]
            if not handler.resolve_include_in_schema():
                continue  # the web pages (server/web) and their static files
            expected.add((path, method.lower()))
    listed = {(p, m) for p, ops in paths.items() for m in ops if m != "parameters"}
    missing = expected - listed
    assert not missing, f"routes missing from OpenAPI: {sorted(missing)}"
    assert len(expected) > 60  # the API is not accidentally empty
    components = set(spec.get("components", {}).get("schemas", {}))
    dangling = _schema_refs(paths) - components
    assert not dangling, f"schemas referenced but not defined: {sorted(dangling)}"
    # Every operation with a JSON body says what the body is.
    for path, ops in paths.items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert body.get("schema"), f"{method.upper()} {path} has a body without a schema"


def test_app_factory_builds_without_a_database_listing_the_core_paths() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///unused.sqlite3"))
    paths = app.openapi_schema.to_schema()["paths"]
    for core in ("/api/auth/token", "/api/items", "/api/counts", "/api/sync/push"):
        assert core in paths


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node["$ref"]
    assert ref.startswith("#/components/schemas/")
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def test_openapi_describes_the_sync_push_and_pull_bodies_and_answers() -> None:
    """The push and pull read their bodies themselves (gzip, MessagePack): the document
    still says what they take and answer, in JSON and MessagePack, and their problems."""
    spec = create_app(
        Settings(database_url="sqlite+aiosqlite:///unused.sqlite3")
    ).openapi_schema.to_schema()
    for path, request, answer, fields in (
        ("/api/sync/push", "PushRequest", "PushResponse", {"acks", "high_water"}),
        ("/api/sync/pull", "PullRequest", "PullResponse", {"cursor", "has_more", "counts"}),
    ):
        operation = spec["paths"][path]["post"]
        body = operation["requestBody"]
        assert body["required"] is True
        assert "gzip" in body["description"] and "MessagePack" in body["description"]
        for media in ("application/json", "application/x-msgpack"):
            assert body["content"][media]["schema"] == {"$ref": f"#/components/schemas/{request}"}
            ok = operation["responses"]["200"]["content"][media]["schema"]
            assert ok == {"$ref": f"#/components/schemas/{answer}"}
        assert {"protocol_version", "device_id", "install_id"} <= set(
            _resolve(spec, body["content"]["application/json"]["schema"])["properties"]
        )
        assert fields <= set(_resolve(spec, ok)["properties"])
        for status in ("400", "413", "415", "422", "426"):
            problem = operation["responses"][status]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    # The push's events are the tagged union of event kinds, each defined.
    event = spec["components"]["schemas"]["Event"]["properties"]["body"]
    kinds = {ref["$ref"].rsplit("/", 1)[-1] for ref in event["oneOf"]}
    assert {"BinOpened", "SerialScanned", "QuantityKeyed", "ScanUndone", "BinClosed"} <= kinds


_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


async def test_openapi_pages_load_every_asset_from_the_server_itself(
    client: AsyncTestClient[Litestar],
) -> None:
    """A warehouse network has no way out: no page under /schema names another host,
    and every script, style and icon it names is served by the app."""
    assets: set[str] = set()
    for page in ("/schema", "/schema/swagger"):
        response = await client.get(page)
        assert response.status_code == 200, page
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "://" not in html and "//cdn" not in html, f"{page} names another host"
        found = set(_ASSET.findall(html))
        assert all(url.startswith("/schema/assets/") for url in found), found
        assets |= found
    assert {
        "/schema/assets/swagger-ui-bundle.js",
        "/schema/assets/swagger-ui-standalone-preset.js",
        "/schema/assets/swagger-ui.css",
        "/schema/assets/favicon-32x32.png",
    } <= assets
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for url in sorted(assets):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert kinds[url[url.rindex(".") :]] in response.headers["content-type"], url
        assert len(response.content) > 500, url
    # The document the page renders, as JSON and YAML, and no renderer we do not ship.
    assert (await client.get("/schema/openapi.json")).status_code == 200
    assert (await client.get("/schema/openapi.yaml")).status_code == 200
    assert (await client.get("/schema/redoc")).status_code == 404
    assert (await client.get("/schema/assets/no-such-file.js")).status_code == 404


async def test_every_operation_documents_its_problems_and_the_public_routes_no_security(
    client: AsyncTestClient[Litestar],
) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    assert spec["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
    csv_operations = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            responses = op["responses"]
            expected = {"503"} if path == "/health" else {"400", "404", "422", "503"}
            if path not in {"/health", "/api/auth/token", "/api/devices/enroll"}:
                expected |= {"401", "403"}
                assert "security" not in op or op["security"], where
            else:
                assert op["security"] == [], where
            if method in {"post", "put", "patch", "delete"} and path != "/health":
                expected |= {"409", "413", "415"}
            if path.startswith("/api/sync/"):
                expected.add("426")
            if path != "/health":  # the throttle: sign-ins, codes, unknown tokens everywhere
                expected.add("429")
            assert expected <= set(responses), (where, expected - set(responses))
            for status in {"429", "503"} & expected:
                header = responses[status]["headers"]["Retry-After"]
                assert header["required"] and header["schema"]["type"] == "integer", where
            for status in expected:
                assert set(responses[status]["content"]) == {"application/problem+json"}, where
            for answer in responses.values():
                for content in answer.get("content", {}).values():
                    assert {} not in content.get("schema", {}).get("oneOf", []), where
            for parameter in op.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] in {"limit", "cursor"}:
                    assert parameter.get("description"), (where, parameter["name"])
                if parameter["in"] == "query" and parameter["name"] == "format":
                    csv_operations += 1
                    assert parameter["schema"]["enum"] == ["csv", "json"], where
                    ok = next(v for k, v in responses.items() if k.startswith("2"))
                    assert "text/csv" in ok["content"], where
    assert csv_operations >= 3


async def test_the_type_of_a_problem_resolves_to_a_page_that_explains_it(
    client: AsyncTestClient[Litestar],
) -> None:
    from server.api.problems import PROBLEMS

    refused = await client.get("/api/users")  # no token: a 401 problem
    problem_type = refused.json()["type"]
    page = await client.get(problem_type)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Not authenticated" in page.text and "sign in again" in page.text.lower()
    for code, (title, _) in PROBLEMS.items():
        answer = await client.get(f"/problems/{code}")
        assert answer.status_code == 200 and title in answer.text, code
    unknown = await client.get("/problems/no-such-kind")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
