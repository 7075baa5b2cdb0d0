"""Who is calling (set by `server.auth.http.middleware`) and the role guards (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.handlers.base import BaseRouteHandler

from server.api.state import AnyConnection
from server.domain.auth import READ_BOOKS, READ_DOCUMENTS, Caller, require_device, require_role
from server.domain.errors import NotAuthenticated
from server.domain.masterdata import Role

PUBLIC = "public"


def caller_of(connection: AnyConnection) -> Caller:
    caller = connection.scope.get("user")
    if not isinstance(caller, Caller):
        raise NotAuthenticated("this needs a login")
    return caller


# Async: Litestar runs a sync guard in a worker thread, a thread hop per request.
Guard = Callable[[AnyConnection, BaseRouteHandler], Awaitable[None]]


def roles(*allowed: Role) -> Guard:
    """Only users with one of these roles (admins always). Devices get 403."""
    allowed_set = frozenset(allowed)

    async def guard(connection: AnyConnection, _: BaseRouteHandler) -> None:
        require_role(caller_of(connection), allowed_set)

    return guard


def any_user() -> Guard:
    return roles(Role.COUNTER, Role.SUPERVISOR)


def reads_documents() -> Guard:
    """Supervisors and finance: a count's Quantity Adjustment and Stock Transfer."""
    return roles(*READ_DOCUMENTS)


def reads_books() -> Guard:
    """Any user, finance too: journal transactions, their GL, Inventory History."""
    return roles(*READ_BOOKS)


async def device_only(connection: AnyConnection, _: BaseRouteHandler) -> None:
    require_device(caller_of(connection))
