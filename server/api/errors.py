"""Every error answer is RFC 9457 problem details, mapped here and nowhere else.

StockcountError (domain)      -> its status (422, 404, 409, 401, 403), its code
ValidationException           -> 400 bad-request, naming the first bad field
HTTPException                 -> its status: 400 unparsable body, 404, 405, 413, ...
a value the database cannot   -> 400 bad-request (a number past 64 bits, a NUL in
  hold (driver or SQLSTATE 22)    text): the client sent it, the server did not fail
anything else                 -> 500 internal, logged with its traceback
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import msgspec
from litestar import MediaType, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import StatementError

from schemas.common import FieldProblem, Problem
from server.api.state import AnyRequest
from server.domain.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StockcountError,
    TooManyAttempts,
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
    TooManyAttempts: 429,
}
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    503: "Service busy",
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
    response = problem_response(
        request,
        status,
        exc.message,
        exc.code,
        [FieldProblem(location=p.location, message=p.message) for p in exc.details],
    )
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _validation(request: AnyRequest, exc: ValidationException) -> Response[bytes]:
    errors: list[FieldProblem] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for entry in extra:
        if isinstance(entry, dict):
            where = str(entry.get("key") or entry.get("source") or "body")
            message = str(entry.get("message", ""))
            if where == "data" and message == "'data'":
                # Litestar's way of saying the handler's body parameter got nothing.
                message = "the request has no body: send a JSON object"
            errors.append(FieldProblem(location=where, message=message))
    detail = exc.detail or "the request is not valid"
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        where = "" if first.location == "data" else f"{first.location}: "
        detail = f"{where}{first.message}{more}"
    return problem_response(request, 400, detail, "bad-request", errors)


def _unparsable_body(request: AnyRequest, exc: HTTPException) -> str:
    content_type = request.headers.get("content-type", "")
    reason = exc.detail or "it does not parse"
    if content_type and not content_type.split(";")[0].strip().endswith("json"):
        return (
            f"the request body must be JSON (Content-Type: application/json), "
            f"not {content_type}: {reason}"
        )
    return f"the request body is not valid JSON: {reason}"


def _http(request: AnyRequest, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    code = _CODES.get(status, "error")
    if isinstance(exc, NotAuthorizedException):
        code = "unauthenticated"
    elif isinstance(exc, PermissionDeniedException):
        code = "forbidden"
    detail = exc.detail or _TITLES.get(status, "error")
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        detail = _unparsable_body(request, exc)
    elif status == 404 and detail == "Not Found":
        detail = f"no such resource: {request.method} {request.url.path}"
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    elif status == 413:
        state = request.app.state.get("stockcount")
        limit = getattr(getattr(state, "settings", None), "max_body_bytes", None)
        accepted = f" ({limit} bytes, STOCKCOUNT_MAX_BODY_BYTES)" if limit else ""
        detail = f"the request body is larger than this server accepts{accepted}"
    return problem_response(request, status, detail, code)


def _not_utf8(request: AnyRequest, exc: UnicodeDecodeError) -> Response[bytes]:
    # Litestar's JSON decoder lets this through for a string with invalid UTF-8 in it.
    return problem_response(
        request,
        400,
        f"the request body is not valid JSON: not UTF-8 at byte {exc.start}",
        "bad-request",
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        nxt = current.__cause__ or (orig if isinstance(orig, BaseException) else None)
        current = nxt or current.__context__


# SQLSTATEs that mean "this text cannot be stored": NUL bytes, untranslatable characters.
_BAD_TEXT_SQLSTATES = frozenset({"22021", "22P05"})


def _unstorable_value(exc: BaseException) -> str | None:
    """Why the database driver refused a value from the request; None if it did not."""
    for link in _causes(exc):
        if isinstance(link, OverflowError):
            return "a number in the request is too large (at most 64 bits)"
        if getattr(link, "sqlstate", None) in _BAD_TEXT_SQLSTATES:
            return "text in the request holds a character that cannot be stored (such as NUL)"
        # asyncpg refuses a parameter it cannot encode before it reaches the server.
        if isinstance(link, ValueError) and type(link).__module__.startswith("asyncpg"):
            if "out of int64 range" in str(link):
                return "a number in the request is too large (at most 64 bits)"
            return f"a value in the request cannot be stored: {link}"
    return None


# A unique or foreign key violation that a concurrent transaction caused after this one
# checked: the request lost a race, it is not a server fault.
_CONFLICT_SQLSTATES = frozenset({"23505", "23503"})
# Serialization failure, deadlock, lock not available: the database asks for a retry.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def _lost_race(exc: BaseException) -> str | None:
    """'conflict' or 'busy' when the database refused because of a concurrent writer."""
    for link in _causes(exc):
        sqlstate = getattr(link, "sqlstate", None)
        if sqlstate in _CONFLICT_SQLSTATES or (
            type(link).__name__ == "IntegrityError" and "UNIQUE constraint failed" in str(link)
        ):
            return "conflict"
        if sqlstate in _RETRY_SQLSTATES or "database is locked" in str(link):
            return "busy"
    return None


def _database_refused_value(request: AnyRequest, exc: Exception) -> Response[bytes]:
    race = _lost_race(exc)
    if race == "conflict":
        log.info("lost a race on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            request,
            409,
            "a concurrent request stored a conflicting record first; this request changed "
            "nothing: reload and try again",
            "concurrent-change",
        )
    if race == "busy":
        log.info("database busy on %s %s: %s", request.method, request.url.path, exc)
        response = problem_response(
            request,
            503,
            "the database is busy with a concurrent change; this request changed nothing: "
            "retry in a moment",
            "busy",
        )
        response.headers["Retry-After"] = "1"
        return response
    reason = _unstorable_value(exc)
    if reason is None:
        return _unexpected(request, exc)
    log.info("refused a value on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(request, 400, reason, "bad-request")


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
    StatementError: _database_refused_value,
    OverflowError: _database_refused_value,
    UnicodeDecodeError: _not_utf8,
    Exception: _unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem_response"]
