"""`GET /api/counts/{number}/unknown-barcodes`: what the devices scanned in a count that
matched nothing, for the supervisor (paged, oldest first)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from schemas.counts import UnknownBarcode, UnknownBarcodePage
from server.api.deps import Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor
from server.api.security import roles
from server.counts.usecases.unknown import unknown_barcodes
from server.domain.masterdata import Role


class UnknownBarcodeController(Controller):
    path = "/api/counts/{number:str}/unknown-barcodes"
    tags = ["stock counts"]
    guards = [roles(Role.SUPERVISOR)]

    @get("/")
    async def list_unknown_barcodes(
        self,
        number: FromPath[str],
        uow: Uow,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> UnknownBarcodePage:
        """The scans of the count that matched no bin, item or serial, or whose GS1 data
        did not parse, with device, counter, bin and time: never counted, never lost."""
        page = await unknown_barcodes(uow, number, decode_cursor(cursor), check_limit(limit))
        return UnknownBarcodePage(
            items=[
                UnknownBarcode(
                    id=u.id,
                    device_id=u.device_id,
                    device=u.device_name,
                    seq=u.seq,
                    bin=u.bin,
                    counter=u.counter,
                    raw=u.raw,
                    symbology=u.symbology,
                    problem=u.problem,
                    message=u.message,
                    scanned_at=u.scanned_at,
                    received_at=u.received_at,
                )
                for u in page.items
            ],
            next_cursor=page.next_cursor,
        )
