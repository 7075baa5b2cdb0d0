"""`GET`, `PUT /api/locations/{code}/device-settings`: what the site's devices are told
in the pull (bin label pattern, the scanners' GS replacement and AIM prefixes, idle
sign-out, wrong PINs before a lock). A device's environment variables still override."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody

from schemas.sync import DeviceSettings
from server.api.deps import CurrentCaller, Now, Uow
from server.api.security import roles
from server.domain import sync as domain
from server.domain.masterdata import Role
from server.sync import usecases as sync


class DeviceSettingsController(Controller):
    path = "/api/locations/{code:str}/device-settings"
    tags = ["devices"]
    guards = [roles(Role.SUPERVISOR)]

    @get("/")
    async def get_device_settings(self, code: FromPath[str], uow: Uow) -> DeviceSettings:
        """The site's device settings (the defaults until set)."""
        found = await sync.device_settings(uow, code)
        return msgspec.convert(found, DeviceSettings, from_attributes=True)

    @put("/")
    async def set_device_settings(
        self,
        code: FromPath[str],
        data: JSONBody[DeviceSettings],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> DeviceSettings:
        """Replace the site's device settings; its devices get them at their next pull."""
        settings = msgspec.convert(data, domain.DeviceSettings, from_attributes=True)
        await sync.set_device_settings(uow, caller, code, settings, now)
        return data
