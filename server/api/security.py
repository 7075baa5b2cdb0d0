"""Authentication (a middleware: 401 before any body is read) and role guards (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.api.state import AnyConnection, AppState
from server.domain.auth import Caller, require_device, require_role
from server.domain.errors import NotAuthenticated
from server.domain.masterdata import Role
from server.services import auth

PUBLIC = "public"


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: AnyConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            raise NotAuthenticated(
                "this needs a login: send 'Authorization: Bearer <token>' "
                "(POST /api/auth/token gives one)"
            )
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
        state = AppState.of(connection)
        caller = await auth.authenticate(state.uow(), value.strip(), datetime.now(UTC))
        return AuthenticationResult(user=caller, auth=None)


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


async def device_only(connection: AnyConnection, _: BaseRouteHandler) -> None:
    require_device(caller_of(connection))
