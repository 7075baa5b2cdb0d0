"""Counters: who counts, their sites, whether a PIN is set, active or not; set a PIN
(supervisors and admins, the API's rules and messages) and deactivate (admins)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.state import AnyRequest
from server.auth import usecases as auth
from server.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from server.domain.masterdata import Role
from server.web.responses import acted, page, see_other
from server.web.session import SUPERVISE, allowed, page_roles

ADMINISTER = page_roles(Role.ADMIN)


def _field(location: str) -> str:
    """The page's field for a problem of the use case (`locations/1` is the sites field)."""
    return "locations" if location.startswith("locations") else location


async def _page(
    request: AnyRequest,
    uow: Uow,
    caller: CurrentCaller,
    status_code: int = 200,
    **context: Any,
) -> Template:
    return page(
        request,
        "counters.html",
        status_code=status_code,
        counters=await auth.counter_roster(uow),
        administer=allowed(caller, {Role.ADMIN}),
        **{"editing": "", "errors": {}, "sites": "", **context},
    )


class CounterPages(Controller):
    path = "/counters"

    @get("/", guards=SUPERVISE)
    async def counters(self, request: AnyRequest, uow: Uow, caller: CurrentCaller) -> Template:
        return await _page(request, uow, caller)

    @post("/{username:str}/pin", guards=SUPERVISE)
    async def set_pin(
        self,
        request: AnyRequest,
        username: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> Response[Any]:
        form = await request.form()
        pin = str(form.get("pin") or "")
        again = str(form.get("pin_again") or "")
        sites = str(form.get("locations") or "")
        locations = [s.strip() for s in sites.replace(",", " ").split() if s.strip()]
        errors: dict[str, str] = {}
        try:
            if pin != again:
                errors["pin_again"] = "the two PINs differ: enter the same PIN twice"
            else:
                await auth.set_counter_pin(uow, caller, username, pin, locations, now)
        except ValidationFailed as refused:
            errors = {_field(p.location): p.message for p in refused.details}
        except (Conflict, NotFound, PermissionDenied) as refused:  # not the fields: the page
            return see_other("/counters", error=str(refused))
        if errors:  # the form again, the PIN never shown back, the message at its field
            return await _page(
                request, uow, caller, 422, editing=username, errors=errors, sites=sites
            )
        return see_other("/counters", notice=f"PIN set for {username}: {', '.join(locations)}.")

    @post("/{username:str}/deactivate", guards=ADMINISTER)
    async def deactivate(
        self, request: AnyRequest, username: FromPath[str], uow: Uow, now: Now
    ) -> Response[Any]:
        form = await request.form()
        if form.get("confirm") != "yes":
            return see_other("/counters", error=f"tick the box to confirm deactivating {username}")
        return await acted(
            auth.set_user_active(uow, username, False, now),
            "/counters",
            f"{username} is deactivated: their PIN goes to no device from the next pull.",
        )
