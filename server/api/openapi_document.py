"""The OpenAPI document completed where Litestar leaves gaps, in one pass over it:

- every operation lists the problem-details answers it can give, as
  application/problem+json (400 and 422 always, 503 when the database is busy; 401 and
  403 unless public; 404 (a code names nothing); 409 when it writes; 413 and 415 with a
  body; 426 on the sync routes; 429 with its Retry-After header where the throttle of
  failed sign-ins, enrollment codes and unknown tokens or credentials applies: the token
  and enrollment routes and every route that authenticates);
- the public routes (/health, /api/auth/token, /api/devices/enroll) say no security;
- `format` is an enum (csv or json) and those operations answer text/csv too;
- the paging parameters are described;
- an answer that is JSON or a CSV file documents its JSON, not `oneOf [{}, JSON]`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin

from server.api.errors import PROBLEM_JSON

PROBLEM_SCHEMA = "#/components/schemas/Problem"
PUBLIC = frozenset({"/health", "/api/auth/token", "/api/devices/enroll"})
_DESCRIPTIONS = {
    400: "The request does not parse or a field has the wrong type (problem details).",
    401: "No valid bearer token (problem details).",
    403: "The caller's role may not do this (problem details).",
    404: "No such resource (problem details).",
    409: "The request conflicts with the current state (problem details).",
    413: "The request body is larger than the server accepts (problem details).",
    415: "The body is in a media type this operation does not speak (problem details).",
    422: "A value is out of its range or breaks a business rule (problem details).",
    426: "The device speaks a sync protocol version this server does not (problem details).",
    429: (
        "Too many failed attempts (passwords, enrollment codes, unknown tokens or device "
        "credentials) for this user or from this client address: wait the Retry-After "
        "seconds, which grow with each failure (problem details)."
    ),
    503: "The database is busy with a concurrent change: retry (problem details).",
}
_RETRY_AFTER = {
    429: "Seconds to wait before the next attempt (at least 1).",
    503: "Seconds to wait before retrying (1).",
}
_PARAMETERS = {
    "format": "The answer's format: csv (text/csv) or json (the default, also by Accept).",
    "limit": "How many rows a page holds, 1 to 1000.",
    "cursor": "The next_cursor of the previous page: opaque; absent for the first page.",
}
_WRITES = frozenset({"post", "put", "patch", "delete"})
_METHODS = frozenset({"get", "head", "post", "put", "patch", "delete"})
_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI of a page explaining the problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["location", "message"],
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {400, 422, 503}
    if path not in PUBLIC:
        statuses |= {401, 403}
    elif path != "/health":
        statuses.add(401)  # a wrong password, an unknown enrollment code
    statuses.add(404)  # a path parameter, or a code in the body or query, names nothing
    if method in _WRITES:
        statuses |= {409, 413, 415}
    if path.startswith("/api/sync/"):
        statuses.add(426)
    statuses.add(429)  # an unknown token or credential counts too, on every route it reaches
    if path == "/health":
        statuses = {503}
    return statuses


def _drop_anything(content: dict[str, Any]) -> None:
    """`A | Response[bytes]` (JSON or CSV) comes out as oneOf [{}, A]: anything matches
    {}, so every A matched twice. The CSV is its own content type: A is the JSON."""
    schema = content.get("schema", {})
    one_of = schema.get("oneOf")
    if one_of and {} in one_of:
        kept = [s for s in one_of if s != {}]
        content["schema"] = kept[0] if len(kept) == 1 else {"oneOf": kept}


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            if path in PUBLIC:
                operation["security"] = []
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method, operation)):
                responses[str(status)] = {
                    "description": _DESCRIPTIONS.get(status, "Problem details"),
                    "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA}}},
                }
                if status in _RETRY_AFTER:
                    responses[str(status)]["headers"] = {
                        "Retry-After": {
                            "description": _RETRY_AFTER[status],
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    }
            for answer in responses.values():
                for content in answer.get("content", {}).values():
                    _drop_anything(content)
            for parameter in operation.get("parameters", []):
                name = parameter.get("name")
                if name in _PARAMETERS and parameter.get("in") == "query":
                    parameter.setdefault("description", _PARAMETERS[name])
                if name == "format" and parameter.get("in") == "query":
                    parameter["schema"] = {"type": "string", "enum": ["csv", "json"]}
                    for code, answer in responses.items():
                        if code.startswith("2"):
                            answer.setdefault("content", {})["text/csv"] = {
                                "schema": {"type": "string"}
                            }
    return spec


class Completion:
    """Completes Litestar's document once per app (it caches the dict and hands the same
    one to every render plugin): shared by the JSON and YAML plugins below."""

    def __init__(self) -> None:
        self._done: set[int] = set()

    def __call__(self, openapi_schema: dict[str, Any]) -> dict[str, Any]:
        if id(openapi_schema) not in self._done:
            complete(openapi_schema)  # in place, once
            self._done.add(id(openapi_schema))
        return openapi_schema


class CompletedJson(JsonRenderPlugin):
    """/schema/openapi.json: Litestar's document, completed on the first request."""

    def __init__(self, completion: Completion, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._completion = completion

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._completion(openapi_schema))


class CompletedYaml(YamlRenderPlugin):
    """/schema/openapi.yaml: the same completed document."""

    def __init__(self, completion: Completion, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._completion = completion

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._completion(openapi_schema))
