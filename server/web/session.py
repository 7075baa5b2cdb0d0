"""Who is signed in to the pages, and what their role lets them reach.

The session is the API's own: signing in runs the same `login` use case as
`POST /api/auth/token` and keeps the user token it issues in an HttpOnly cookie, so the
pages and the API share users, roles, expiry (`STOCKCOUNT_TOKEN_TTL_HOURS`) and
deactivation. Signing out deletes the token. Every page but the sign-in page passes
`signed_in` (the web router's guard), which puts the `Caller` where the API's
middleware puts it, so the `caller` dependency and the role guards work as in the API.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from litestar import Response
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler

from server.api.security import Guard, caller_of
from server.api.state import AnyConnection, app_state, client_address
from server.auth import usecases as auth
from server.domain.auth import READ_BOOKS, READ_DOCUMENTS, Caller, CallerKind, require_role
from server.domain.errors import NotAuthenticated, PermissionDenied
from server.domain.masterdata import Role

SESSION_COOKIE = "stockcount_session"
PUBLIC = "web_public"  # a handler's opt key: no sign-in needed (the sign-in page itself)


def session_token(connection: AnyConnection) -> str | None:
    return connection.cookies.get(SESSION_COOKIE) or None


async def signed_in(connection: AnyConnection, handler: BaseRouteHandler) -> None:
    """The web router's guard: the session cookie's user, or NotAuthenticated (which the
    pages answer with a redirect to the sign-in page)."""
    if handler.opt.get(PUBLIC):
        return
    token = session_token(connection)
    if token is None:
        raise NotAuthenticated("sign in to continue")
    caller = await auth.authenticate(
        app_state(connection).uow(), token, datetime.now(UTC), client_address(connection)
    )
    if caller.kind is not CallerKind.USER:
        raise NotAuthenticated("sign in with a user name and password")
    connection.scope["user"] = caller


def allowed(caller: Caller, roles: Collection[Role]) -> bool:
    """What `require_role` would let through: for showing a link only where it leads."""
    try:
        require_role(caller, frozenset(roles))
    except PermissionDenied:
        return False
    return True


COUNT_READERS = frozenset({Role.COUNTER, Role.SUPERVISOR})  # as the API reads counts


def home(role: Role | None) -> str:
    """The first page after signing in: the counts, or the documents for finance."""
    return "/documents" if role is Role.FINANCE else "/counts"


def page_roles(*roles: Role) -> list[Guard]:
    """Only users of these roles (admins always), as the API's `roles` guard."""
    wanted = frozenset(roles)

    async def guard(connection: AnyConnection, _: BaseRouteHandler) -> None:
        require_role(caller_of(connection), wanted)

    return [guard]


# The pages' rights, the API's sets (server.domain.auth) for the same reads and writes.
SUPERVISE = page_roles(Role.SUPERVISOR)
DOCUMENTS = page_roles(*READ_DOCUMENTS)
COUNTS = page_roles(*COUNT_READERS)
BOOKS = page_roles(*READ_BOOKS)


def with_session(response: Response[Any], token: str, expires_at: datetime, secure: bool) -> None:
    """Set the session cookie on `response`: HttpOnly, SameSite=Lax (a link from another
    site still opens a page, no other site can post a form with it), Secure over TLS, and
    gone when the token expires."""
    max_age = max(0, int((expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    )


def without_session(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
