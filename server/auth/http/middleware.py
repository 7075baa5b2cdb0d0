"""Authentication: a middleware that answers 401 before any body is read."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.api.state import AnyConnection, app_state, client_address
from server.auth import usecases as auth
from server.domain.errors import NotAuthenticated


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
        state = app_state(connection)
        caller = await auth.authenticate(
            state.uow(), value.strip(), datetime.now(UTC), client_address(connection)
        )
        return AuthenticationResult(user=caller, auth=None)
