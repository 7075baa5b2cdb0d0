"""Enrollment codes, enrollment, and the device register."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas import SUPPORTED_PROTOCOL_VERSIONS
from schemas.auth import (
    Device,
    DevicePage,
    Enrollment,
    EnrollmentCode,
    EnrollmentCodeRequest,
    EnrollRequest,
)
from server.api.deps import CurrentCaller, CurrentSettings, Now, Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.security import device_only, roles
from server.api.state import AnyRequest, client_address
from server.auth import usecases as auth
from server.auth.ports import DeviceRecord
from server.domain.errors import Conflict
from server.domain.masterdata import Role


def device_out(d: DeviceRecord) -> Device:
    return Device(
        id=d.id,
        name=d.name,
        location=d.location_code,
        status="revoked" if d.status == "revoked" else "active",
        app_version=d.app_version,
        enrolled_at=d.enrolled_at,
        revoked_at=d.revoked_at,
        last_seen_at=d.last_seen_at,
    )


class EnrollmentController(Controller):
    path = "/api"
    tags = ["devices"]

    @post("/enrollment-codes", guards=[roles(Role.ADMIN)])
    async def create_enrollment_code(
        self,
        data: JSONBody[EnrollmentCodeRequest],
        uow: Uow,
        caller: CurrentCaller,
        settings: CurrentSettings,
        now: Now,
    ) -> EnrollmentCode:
        """A one-time, expiring code that one device exchanges for its own credential."""
        minutes = data.ttl_minutes or settings.enrollment_ttl_minutes
        issued = await auth.create_enrollment_code(
            uow, caller, data.location, now, timedelta(minutes=minutes)
        )
        return EnrollmentCode(
            code=issued.code, location=issued.location_code, expires_at=issued.expires_at
        )

    @post("/devices/enroll", opt={"exclude_from_auth": True}, security=[])
    async def enroll(
        self, request: AnyRequest, data: JSONBody[EnrollRequest], uow: Uow, now: Now
    ) -> Enrollment:
        """Exchange an enrollment code for this device's credential (shown once)."""
        if data.protocol_version not in SUPPORTED_PROTOCOL_VERSIONS:
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_PROTOCOL_VERSIONS))
            raise Conflict(
                f"this server speaks protocol version {supported}, the device speaks "
                f"{data.protocol_version}: update the handheld app"
            )
        issued = await auth.enroll_device(
            uow, data.code, data.name, data.app_version, now, client_address(request)
        )
        return Enrollment(
            device_id=issued.device_id,
            credential=issued.credential,
            location=issued.location_code,
            protocol_version=max(SUPPORTED_PROTOCOL_VERSIONS),
        )


class DeviceController(Controller):
    path = "/api/devices"
    tags = ["devices"]

    @get("/", guards=[roles(Role.SUPERVISOR)])
    async def list_devices(
        self,
        uow: Uow,
        location: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> DevicePage:
        limit = check_limit(limit)
        rows = await auth.list_devices(uow, decode_cursor(cursor), limit, location)
        return DevicePage(
            items=[device_out(d) for d in rows],
            next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
        )

    @get("/me", guards=[device_only])
    async def me(self, uow: Uow, caller: CurrentCaller, now: Now) -> Device:
        """The calling device's own record (and a heartbeat: sets last seen)."""
        assert caller.device_id is not None
        return device_out(await auth.touch_device(uow, caller.device_id, now))

    @get("/{device_id:int}", guards=[roles(Role.SUPERVISOR)])
    async def get_device(self, device_id: FromPath[int], uow: Uow) -> Device:
        return device_out(await auth.get_device(uow, device_id))

    @post("/{device_id:int}/revoke", guards=[roles(Role.ADMIN)], status_code=200)
    async def revoke(
        self, device_id: FromPath[int], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Device:
        """Revoke a device: every later call with its credential is refused (401)."""
        return device_out(await auth.revoke_device(uow, caller, device_id, now))
