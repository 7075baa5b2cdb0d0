"""Devices: the register with each device's sync state, enrollment codes shown with a QR
code a device can scan, revoking (after a confirmation), and the rejected events.

The same use cases and rights as the API: supervisors read the register and the
rejected events (`GET /api/devices`, `/api/devices/status`, `/api/sync/rejected`);
only admins issue enrollment codes and revoke (`POST /api/enrollment-codes`,
`/api/devices/{id}/revoke`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.deps import CurrentCaller, CurrentSettings, Now, Uow
from server.api.paging import decode_cursor
from server.api.state import AnyRequest
from server.auth import usecases as auth
from server.auth.ports import DeviceRecord
from server.domain.errors import NotFound, ValidationFailed
from server.domain.masterdata import Role
from server.domain.sync import DeviceSyncRecord
from server.masterdata.usecases import masterdata
from server.sync import usecases as sync
from server.web.qr import enrollment_payload, qr_svg
from server.web.responses import acted, page, see_other
from server.web.session import allowed, page_roles

PAGE = 50  # devices on a page of the register
REJECTED = 25  # rejected events on a page
SEE = page_roles(Role.SUPERVISOR)
ADMIN = page_roles(Role.ADMIN)
TTL_CHOICES = (15, 60, 240, 1440)  # minutes an enrollment code may live


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """A device of the register beside what its syncs show (None: revoked, or never
    synced: the sync state lists active devices only)."""

    device: DeviceRecord
    synced: DeviceSyncRecord | None


async def _locations(uow: Any) -> list[str]:
    rows = await masterdata.list_records(uow, "locations", 0, 500, {})
    # A row of any kind (a union); every location row has its code.
    return [str(getattr(row, "code")) for _, row in rows]  # noqa: B009


def _server_address(request: AnyRequest) -> str:
    """The address a device reaches this server at: the one the browser used."""
    return str(request.base_url).rstrip("/")


class DevicePages(Controller):
    path = "/devices"

    @get("/", guards=SEE)
    async def register(
        self,
        request: AnyRequest,
        uow: Uow,
        caller: CurrentCaller,
        settings: CurrentSettings,
        now: Now,
        location: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
    ) -> Template:
        where = location or None
        try:
            devices = await auth.list_devices(uow, decode_cursor(after), PAGE, where)
            status = await sync.device_status(uow, where, now, settings.device_stale_minutes)
        except NotFound as exc:
            return await self._register_page(request, uow, caller, [], location, None, str(exc))
        by_id = {s.device_id: s for s in status.items}
        lines = [DeviceLine(d, by_id.get(d.id)) for d in devices]
        more = str(devices[-1].id) if len(devices) == PAGE else None
        return await self._register_page(request, uow, caller, lines, location, more, None)

    async def _register_page(
        self,
        request: AnyRequest,
        uow: Any,
        caller: Any,
        lines: list[DeviceLine],
        location: str | None,
        more: str | None,
        problem: str | None,
    ) -> Template:
        rejected = await sync.rejected_events(uow, 0, REJECTED, None, None)
        return page(
            request,
            "devices/list.html",
            lines=lines,
            location=location or "",
            locations=await _locations(uow),
            next_after=more,
            rejected=rejected.items,
            rejected_more=rejected.next_cursor,
            admin=allowed(caller, {Role.ADMIN}),
            ttl_choices=TTL_CHOICES,
            filter_error=problem,
            skew=skew_text,
        )

    @get("/rejected", guards=SEE)
    async def rejected(
        self,
        request: AnyRequest,
        uow: Uow,
        device: FromQuery[str | None] = None,
        count: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
    ) -> Template:
        device_id = int(device) if device and device.isdigit() else None
        found = await sync.rejected_events(
            uow, decode_cursor(after), REJECTED, device_id, count or None
        )
        return page(
            request,
            "devices/rejected.html",
            rejected=found.items,
            next_after=found.next_cursor,
            device=device or "",
            count=count or "",
        )

    @post("/enrollment-codes", guards=ADMIN)
    async def new_code(
        self,
        request: AnyRequest,
        uow: Uow,
        caller: CurrentCaller,
        settings: CurrentSettings,
        now: Now,
    ) -> Response[Any]:
        """The code is a secret shown once: this answer shows it (no redirect that would
        carry it in an address), with the QR code a device scans to enroll."""
        form = await request.form()
        location = str(form.get("location") or "").strip()
        minutes_text = str(form.get("ttl_minutes") or settings.enrollment_ttl_minutes)
        errors: dict[str, str] = {}
        if not location:
            errors["location"] = "choose the location the device will count at"
        minutes = int(minutes_text) if minutes_text.isdigit() else 0
        if not 1 <= minutes <= 7 * 24 * 60:
            errors["ttl_minutes"] = "a code lives from 1 minute to 7 days: give the minutes"
        if not errors:
            try:
                issued = await auth.create_enrollment_code(
                    uow, caller, location, now, timedelta(minutes=minutes)
                )
            except (NotFound, ValidationFailed) as exc:
                errors["location"] = str(exc)
        if errors:
            return page(
                request,
                "devices/code_form.html",
                status_code=422,
                errors=errors,
                location=location,
                locations=await _locations(uow),
                ttl_minutes=minutes_text,
                ttl_choices=TTL_CHOICES,
            )
        server = _server_address(request)
        payload = enrollment_payload(server, issued.code)
        return page(
            request,
            "devices/code.html",
            code=issued.code,
            location=issued.location_code,
            expires_at=issued.expires_at,
            server=server,
            payload=payload,
            qr=qr_svg(payload, f"QR code: enroll at {server} with code {issued.code}"),
        )

    @get("/{device_id:int}/revoke", guards=ADMIN)
    async def confirm_revoke(
        self, request: AnyRequest, device_id: FromPath[int], uow: Uow
    ) -> Template:
        """The confirmation a revoke needs: what the device will no longer be able to do."""
        device = await auth.get_device(uow, device_id)
        return page(request, "devices/revoke.html", device=device)

    @post("/{device_id:int}/revoke", guards=ADMIN)
    async def revoke(
        self,
        request: AnyRequest,
        device_id: FromPath[int],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> Response[Any]:
        form = await request.form()
        if form.get("confirm") != "yes":
            return see_other(f"/devices/{device_id}/revoke", error="confirm to revoke the device")
        return await acted(
            auth.revoke_device(uow, caller, device_id, now),
            "/devices",
            f"Device {device_id} is revoked: its credential is refused from now on.",
        )


def skew_text(milliseconds: int) -> str:
    """A clock skew as people read it. The sync measures it as the server's time minus the
    device's at a push: positive when the device's clock is behind."""
    if abs(milliseconds) < 500:
        return "in step"
    way = "behind" if milliseconds > 0 else "ahead"
    return f"{abs(milliseconds) / 1000:.1f} s {way}"
