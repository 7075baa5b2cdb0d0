"""Users (admin only), and counters' PINs (admins and supervisors)."""

from __future__ import annotations

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from schemas.auth import (
    CounterPin,
    CounterPinRequest,
    NewUser,
    RevokedTokens,
    User,
    UserChange,
    UserPage,
)
from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.security import roles
from server.auth import usecases as auth
from server.domain.masterdata import Role


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]
    guards = [roles(Role.ADMIN)]

    @post("/")
    async def create_user(self, data: JSONBody[NewUser], uow: Uow, now: Now) -> User:
        """Create a user with a role: admin, supervisor or counter."""
        user = await auth.create_user(uow, data.username, data.password, Role(data.role), now)
        return User(username=user.username, role=user.role.value, active=user.active)

    @get("/")
    async def list_users(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> UserPage:
        limit = check_limit(limit)
        rows = await auth.list_users(uow, decode_cursor(cursor), limit)
        return UserPage(
            items=[User(username=u.username, role=u.role.value, active=u.active) for u in rows],
            next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
        )

    @post("/{username:str}/revoke-tokens", status_code=200)
    async def revoke_tokens(
        self, username: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> RevokedTokens:
        """Every token of the user stops working at once, in every server process (the
        tokens are deleted); the user logs in again."""
        removed = await auth.revoke_user_tokens(uow, caller, username, now)
        return RevokedTokens(username=username, revoked=removed)

    @patch("/{username:str}")
    async def change_user(
        self, username: FromPath[str], data: JSONBody[UserChange], uow: Uow, now: Now
    ) -> User:
        """Deactivate or reactivate a user (`{"active": false}`). A deactivated counter's
        PIN goes to no device any more, and a device's scans by them made after the
        deactivation are refused (kept, listed as rejected events)."""
        user = await auth.set_user_active(uow, username, data.active, now)
        return User(username=user.username, role=user.role.value, active=user.active)


class CounterPinController(Controller):
    path = "/api/users/{username:str}/pin"
    tags = ["users"]
    guards = [roles(Role.SUPERVISOR)]

    @put("/")
    async def set_pin(
        self,
        username: FromPath[str],
        data: JSONBody[CounterPinRequest],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> CounterPin:
        """Set the PIN (4 to 12 digits) a counter signs in with on the devices of the
        locations named, replacing their earlier PIN and locations. Admins set anyone's,
        supervisors a counter's or their own. Devices get only a slow salted hash of it,
        at their next pull."""
        done = await auth.set_counter_pin(uow, caller, username, data.pin, data.locations, now)
        return CounterPin(username=done.username, locations=done.locations, set_at=done.set_at)
