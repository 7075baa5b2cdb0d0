"""Every error answer is RFC 9457 problem details, mapped here and nowhere else."""

from __future__ import annotations

import logging

import msgspec
from litestar import MediaType, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from schemas.common import FieldProblem, Problem
from server.api.state import AnyRequest
from server.domain.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StockcountError,
    ValidationFailed,
)

log = logging.getLogger("stockcount.api")
PROBLEM_JSON = "application/problem+json"

_STATUS = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    NotAuthenticated: 401,
    PermissionDenied: 403,
}
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
}
_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
}


def problem_response(
    request: AnyRequest | None,
    status: int,
    detail: str,
    code: str,
    errors: list[FieldProblem] | None = None,
) -> Response[bytes]:
    body = Problem(
        type=f"/problems/{code}",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=str(request.url.path) if request is not None else "",
        code=code,
        errors=errors or [],
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _domain(request: AnyRequest, exc: StockcountError) -> Response[bytes]:
    status = _STATUS.get(type(exc), 400)
    for cls, mapped in _STATUS.items():
        if isinstance(exc, cls):
            status = mapped
    return problem_response(
        request,
        status,
        exc.message,
        exc.code,
        [FieldProblem(location=p.location, message=p.message) for p in exc.details],
    )


def _validation(request: AnyRequest, exc: ValidationException) -> Response[bytes]:
    errors: list[FieldProblem] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for entry in extra:
        if isinstance(entry, dict):
            where = str(entry.get("key") or entry.get("source") or "body")
            errors.append(FieldProblem(location=where, message=str(entry.get("message", ""))))
    detail = exc.detail or "the request is not valid"
    if "JSON is malformed" in detail or "malformed" in detail.lower():
        detail = f"the request body is not valid JSON: {detail}"
    return problem_response(request, 400, detail, "bad-request", errors)


def _http(request: AnyRequest, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    code = _CODES.get(status, "error")
    if isinstance(exc, NotAuthorizedException):
        code = "unauthenticated"
    elif isinstance(exc, PermissionDeniedException):
        code = "forbidden"
    detail = exc.detail or _TITLES.get(status, "error")
    if status == 413:
        detail = "the request body is larger than this server accepts"
    return problem_response(request, status, detail, code)


def _unexpected(request: AnyRequest, exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "the server failed on this request; it has been logged. Nothing was changed.",
        "internal",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    StockcountError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem_response"]
