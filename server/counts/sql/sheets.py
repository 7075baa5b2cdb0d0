"""Count sheets for the pages (`server.counts.usecases.sheets`): a page of a count's bins
by label range, and the snapshot's contents of those bins only."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from server.counts.tables import CountBin, CountSnapshotBalance, CountSnapshotSerial
from server.counts.usecases.sheets import SheetBin, SheetLine
from server.db.session import Session
from server.db.tables import Bin, Device, Item, User

ONE = Decimal(1)


class SqlCountSheets:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def bins(
        self, count_id: int, label_from: str, label_to: str, after: str, limit: int
    ) -> Sequence[SheetBin]:
        query = (
            select(Bin.id, Bin.label, Device.name, User.username)
            .select_from(CountBin)
            .join(Bin, Bin.id == CountBin.bin_id)
            .outerjoin(Device, Device.id == CountBin.device_id)
            .outerjoin(User, User.id == CountBin.counter_id)
            .where(CountBin.count_id == count_id)
            .order_by(Bin.label)
            .limit(limit)
        )
        if label_from:
            query = query.where(Bin.label >= label_from)
        if label_to:
            query = query.where(Bin.label <= label_to)
        if after:
            query = query.where(Bin.label > after)
        rows = await self.session.execute(query)
        return [SheetBin(int(i), str(label), d, u) for i, label, d, u in rows]

    async def expected(self, count_id: int, bin_ids: Sequence[int]) -> dict[int, list[SheetLine]]:
        if not bin_ids:
            return {}
        found: dict[int, list[SheetLine]] = {}
        serials = await self.session.execute(
            select(
                CountSnapshotSerial.bin_id, Item.code, Item.name, Item.uom,
                CountSnapshotSerial.serial_number,
            )
            .join(Item, Item.id == CountSnapshotSerial.item_id)
            .where(
                CountSnapshotSerial.count_id == count_id,
                CountSnapshotSerial.bin_id.in_(list(bin_ids)),
            )
        )  # fmt: skip
        for bin_id, code, name, uom, serial in serials:
            found.setdefault(int(bin_id), []).append(
                SheetLine(str(code), str(name), str(serial), "", ONE, str(uom))
            )
        balances = await self.session.execute(
            select(
                CountSnapshotBalance.bin_id, Item.code, Item.name, Item.uom,
                CountSnapshotBalance.lot, CountSnapshotBalance.quantity,
            )
            .join(Item, Item.id == CountSnapshotBalance.item_id)
            .where(
                CountSnapshotBalance.count_id == count_id,
                CountSnapshotBalance.bin_id.in_(list(bin_ids)),
            )
        )  # fmt: skip
        for bin_id, code, name, uom, lot, quantity in balances:
            found.setdefault(int(bin_id), []).append(
                SheetLine(str(code), str(name), "", str(lot), quantity, str(uom))
            )
        for lines in found.values():
            lines.sort(key=lambda x: (x.item, x.lot, x.serial))
        return found
