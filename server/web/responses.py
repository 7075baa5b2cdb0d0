"""How the pages answer: a page from its template, a redirect after a POST (303), a refusal
shown on the page it came from, and the error pages (never a stack trace)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from litestar import Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from server.api.state import AnyConnection, AnyRequest
from server.domain.auth import READ_DOCUMENTS, Caller
from server.domain.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StockcountError,
    ValidationFailed,
)
from server.domain.masterdata import Role
from server.web.session import COUNT_READERS, allowed, home

log = logging.getLogger("stockcount.web")
T = TypeVar("T")


def page(request: AnyRequest, template: str, status_code: int = 200, **context: Any) -> Template:
    """`template` with the signed-in caller (if any), the notice and error a redirect
    carried in its query, and `context`."""
    caller = request.scope.get("user")
    base: dict[str, Any] = {
        "caller": caller if isinstance(caller, Caller) else None,
        "reach": reach(caller),
        "notice": request.query_params.get("notice"),
        "error": request.query_params.get("error"),
        "path": request.url.path,
    }
    return Template(template_name=template, context={**base, **context}, status_code=status_code)


def local(target: str | None, fallback: str = "/counts") -> str:
    """A redirect target of this site only (no scheme, no host, no '//'): the sign-in
    page's `next` must not send anyone elsewhere."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def see_other(path: str, **query: str | None) -> Redirect:
    """POST, then redirect (303) to a page, with a notice or error for it to show."""
    given = {k: v for k, v in query.items() if v}
    path = path.rstrip("?&")
    joint = "&" if "?" in path else "?"
    target = f"{path}{joint}{urlencode(given)}" if given else path
    return Redirect(path=target, status_code=303)


async def acted(action: Awaitable[T], back: str, done: str) -> Redirect:
    """Run a form's action; back to `back` with `done` as notice, or with the refusal's
    message (what is wrong and what to do, as the domain says it) as error. A refused
    action changed nothing: the use cases refuse before they write."""
    try:
        await action
    except (ValidationFailed, Conflict, NotFound, PermissionDenied) as exc:
        return see_other(back, error=str(exc))
    return see_other(back, notice=done)


_TITLES = {
    400: "Bad request",
    401: "Sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Refused",
    413: "Too large",
    422: "Invalid input",
    500: "Something went wrong",
}


def reach(caller: object) -> dict[str, Any]:
    """Which parts of the navigation lead somewhere for this caller."""
    if not isinstance(caller, Caller):
        return {}
    return {
        "counts": allowed(caller, COUNT_READERS),
        "documents": allowed(caller, READ_DOCUMENTS),
        "counters": allowed(caller, {Role.SUPERVISOR}),
        "sites": allowed(caller, {Role.ADMIN}),
        "home": home(caller.role),
    }


def _error_page(request: AnyConnection, status: int, message: str) -> Template:
    caller = request.scope.get("user")
    return Template(
        template_name="error.html",
        context={
            "caller": caller if isinstance(caller, Caller) else None,
            "reach": reach(caller),
            "title": _TITLES.get(status, "Error"),
            "message": message,
            "status": status,
            "notice": None,
            "error": None,
            "path": request.url.path,
        },
        status_code=status,
    )


def _unauthenticated(request: AnyRequest, exc: NotAuthenticated) -> Response[Any]:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = "/counts"
    query = {"next": target}
    if request.cookies.get("stockcount_session"):
        query["error"] = f"{exc.message}"
    return Redirect(path=f"/signin?{urlencode(query)}", status_code=303)


def _domain(request: AnyRequest, exc: StockcountError) -> Response[Any]:
    status = 400
    for cls, code in ((ValidationFailed, 422), (NotFound, 404), (Conflict, 409)):
        if isinstance(exc, cls):
            status = code
    if isinstance(exc, PermissionDenied):
        status = 403
    return _error_page(request, status, str(exc))


def _http(request: AnyRequest, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    message = exc.detail
    if isinstance(exc, PermissionDeniedException) and "CSRF" in exc.detail:
        message = (
            "this form was sent without its security token (or with an old one): "
            "open the page again and send the form from there"
        )
    if isinstance(exc, NotAuthorizedException):
        return Redirect(path="/signin", status_code=303)
    return _error_page(request, status, message)


def _internal(request: AnyRequest, exc: Exception) -> Response[Any]:
    log.exception("page %s %s failed", request.method, request.url.path, exc_info=exc)
    return _error_page(
        request,
        500,
        "the server could not show this page. Try again; if it keeps failing, tell your "
        "administrator the time it happened (the server's log has the details).",
    )


EXCEPTION_HANDLERS: Mapping[Any, Any] = {
    NotAuthenticated: _unauthenticated,
    StockcountError: _domain,
    HTTPException: _http,
    Exception: _internal,
}


def exception_handlers() -> ExceptionHandlersMap:
    return dict(EXCEPTION_HANDLERS)
