"""Device settings per site (admins): each location's settings for its devices, which
they get at their next pull (bin label pattern, GS replacement, AIM prefixes, idle
sign-out, wrong PINs before a lock), with the API's rules and messages at the fields."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.state import AnyRequest
from server.domain.errors import ValidationFailed
from server.domain.masterdata import Role
from server.domain.masterdata.imports import LocationRow
from server.domain.sync import DeviceSettings
from server.masterdata.usecases.masterdata import list_records
from server.sync import usecases as sync
from server.web.responses import page, see_other
from server.web.session import page_roles

ADMINISTER = page_roles(Role.ADMIN)
SITES = 500  # locations on the page: a company has a handful
NUMBERS = {"idle_sign_out_minutes": "from 1 to 1440 minutes", "pin_attempts": "from 1 to 20"}


def _settings(form: Any) -> tuple[DeviceSettings, dict[str, str]]:
    """The form's settings, and (field, why) for what is not even a number."""
    errors: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, why in NUMBERS.items():
        text = str(form.get(name) or "").strip()
        if text.isdigit():
            numbers[name] = int(text)
        else:
            errors[name] = f"a whole number, {why}"
            numbers[name] = getattr(DeviceSettings(), name)
    settings = DeviceSettings(
        bin_pattern=str(form.get("bin_pattern") or ""),
        gs_replacement=str(form.get("gs_replacement") or ""),
        aim_prefixes=form.get("aim_prefixes") == "yes",
        **numbers,
    )
    return settings, errors


class SitePages(Controller):
    path = "/device-settings"

    @get("/", guards=ADMINISTER)
    async def sites(self, request: AnyRequest, uow: Uow) -> Template:
        rows = await list_records(uow, "locations", 0, SITES, {})
        locations = [row for _, row in rows if isinstance(row, LocationRow)]
        found = [(row, await sync.device_settings(uow, row.code)) for row in locations]
        return page(request, "sites.html", sites=found)

    @get("/{code:str}", guards=ADMINISTER)
    async def site(self, request: AnyRequest, code: FromPath[str], uow: Uow) -> Template:
        settings = await sync.device_settings(uow, code)
        values = {f.name: getattr(settings, f.name) for f in fields(DeviceSettings)}
        return page(request, "site.html", code=code, values=values, errors={})

    @post("/{code:str}", guards=ADMINISTER)
    async def save(
        self,
        request: AnyRequest,
        code: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> Response[Any]:
        form = await request.form()
        settings, errors = _settings(form)
        if not errors:
            try:
                await sync.set_device_settings(uow, caller, code, settings, now)
            except ValidationFailed as refused:
                errors = {p.location: p.message for p in refused.details}
        if errors:  # the form again with what was typed, the message at its field
            values: dict[str, object] = {
                f.name: str(form.get(f.name) or "") for f in fields(DeviceSettings)
            }
            values["aim_prefixes"] = settings.aim_prefixes
            return page(request, "site.html", 422, code=code, values=values, errors=errors)
        return see_other(
            "/device-settings", notice=f"{code}: saved; its devices get it at their next pull."
        )
