"""Logging in, and who am I."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, get, post
from litestar.params import JSONBody

from schemas.auth import Caller as CallerOut
from schemas.auth import LoginRequest, Token, User
from server.api.deps import CurrentCaller, CurrentSettings, Now, Uow
from server.api.security import PUBLIC
from server.api.state import AnyRequest, client_address
from server.auth import usecases as auth


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post("/auth/token", opt={"exclude_from_auth": True}, status_code=200, security=[])
    async def login(
        self,
        request: AnyRequest,
        data: JSONBody[LoginRequest],
        uow: Uow,
        settings: CurrentSettings,
        now: Now,
    ) -> Token:
        """Exchange a username and password for a bearer token. Failed logins are counted
        per user and per client address: past a few, 429 with Retry-After, each wait longer."""
        issued = await auth.login(
            uow,
            data.username,
            data.password,
            now,
            timedelta(hours=settings.token_ttl_hours),
            client_address(request),
        )
        return Token(
            token=issued.token,
            expires_at=issued.expires_at,
            user=User(username=issued.user.username, role=issued.user.role.value),
        )

    @get("/me")
    async def me(self, caller: CurrentCaller) -> CallerOut:
        """The user or device this request is authenticated as."""
        return CallerOut(
            kind=caller.kind.value,
            name=caller.name,
            role=caller.role.value if caller.role else None,
            device_id=caller.device_id,
            location=caller.location_code,
        )


_ = PUBLIC
