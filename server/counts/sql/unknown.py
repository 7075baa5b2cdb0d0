"""Unknown barcodes of a count: the scans that matched nothing on a device, as stored."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from server.counts.ports import NewUnknownBarcode, UnknownBarcodeRecord
from server.counts.tables import StockCount, UnknownBarcodeRow
from server.db.session import Session
from server.db.tables import Device


class SqlUnknownBarcodes:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(self, rows: Sequence[NewUnknownBarcode]) -> None:
        """One multi-row INSERT; the counts are named by number (a push names a few)."""
        if not rows:
            return
        numbers = sorted({r.count for r in rows})
        ids = dict(
            (str(n), int(i))
            for n, i in await self.session.execute(
                select(StockCount.number, StockCount.id).where(StockCount.number.in_(numbers))
            )
        )
        await self.session.execute(
            insert(UnknownBarcodeRow),
            [
                {
                    "count_id": ids[r.count],
                    "device_id": r.device_id,
                    "install_id": r.install_id,
                    "seq": r.seq,
                    "bin": r.bin,
                    "counter": r.counter,
                    "raw": r.raw,
                    "symbology": r.symbology,
                    "problem": r.problem,
                    "message": r.message,
                    "scanned_at": r.scanned_at,
                    "received_at": r.received_at,
                }
                for r in rows
                if r.count in ids  # the push judged the count to exist
            ],
        )

    async def page(self, number: str, after: int, limit: int) -> list[UnknownBarcodeRecord] | None:
        count_id = (
            await self.session.execute(select(StockCount.id).where(StockCount.number == number))
        ).scalar_one_or_none()
        if count_id is None:
            return None
        u = UnknownBarcodeRow
        rows = await self.session.execute(
            select(
                u.id,
                u.device_id,
                Device.name,
                u.seq,
                u.bin,
                u.counter,
                u.raw,
                u.symbology,
                u.problem,
                u.message,
                u.scanned_at,
                u.received_at,
            )
            .join(Device, Device.id == u.device_id)
            .where(u.count_id == count_id, u.id > after)
            .order_by(u.id)
            .limit(limit)
        )
        return [UnknownBarcodeRecord(*row) for row in rows]
