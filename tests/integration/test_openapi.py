"""OpenAPI at the framework's default path covers every endpoint, with its schemas."""

from __future__ import annotations

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
            assert expected <= set(responses), (where, expected - set(responses))
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
