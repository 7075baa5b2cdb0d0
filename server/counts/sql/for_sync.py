"""The counts as the sync feature reads them (the CountsForSync port of
server/sync/ports.py): the facts a push judges its events by, and the counts and recount
orders a pull sends. Here, beside the counts' other SQL, so that sync's SQL never reads
the counts' tables; set-based, one query for a push's counts and bins."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, bindparam, exists, select

from server.counts.tables import (
    BinCountTable,
    CountBin,
    CountSnapshotBalance,
    CountSnapshotSerial,
    RecountOrder,
    StockCount,
)
from server.db.session import Session
from server.db.tables import Bin, Item, Location
from server.db.writes import LOOKUP_CHUNK, chunks
from server.domain.sync import CountFacts, RefCount, RefRecount

_INACTIVE = ("completed", "cancelled")
# Built once: a push runs it, and a prebuilt statement keeps its cache key.
_NAMED_BINS = CountBin.__table__.join(
    Bin.__table__,
    and_(
        Bin.__table__.c.id == CountBin.__table__.c.bin_id,
        Bin.__table__.c.label.in_(bindparam("b_labels", expanding=True)),
    ),
)
_COUNT_FACTS = (
    select(
        StockCount.__table__.c.number,
        StockCount.__table__.c.location_id,
        StockCount.__table__.c.status,
        Bin.__table__.c.label,
    )
    .select_from(
        StockCount.__table__.outerjoin(
            _NAMED_BINS, CountBin.__table__.c.count_id == StockCount.__table__.c.id
        )
    )
    .where(StockCount.__table__.c.number.in_(bindparam("b_numbers", expanding=True)))
)


class SqlCountsForSync:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def count_facts(
        self, numbers: Collection[str], bins: Collection[str]
    ) -> dict[str, CountFacts]:
        """One query: each count named, with those of `bins` that are in it (a push names
        a few counts and at most a batch's bins; a count may hold thousands)."""
        conn = await self.session.connection()
        rows = await conn.execute(
            _COUNT_FACTS, {"b_numbers": sorted(numbers), "b_labels": sorted(bins)}
        )
        heads: dict[str, tuple[int, str]] = {}
        labels: dict[str, set[str]] = {}
        for number, location_id, status, label in rows:
            heads[number] = (int(location_id), str(status))
            found = labels.setdefault(number, set())
            if label is not None:
                found.add(str(label))
        return {
            number: CountFacts(number, location_id, status, frozenset(labels[number]))
            for number, (location_id, status) in heads.items()
        }

    async def ref_counts(self, location_id: int) -> list[RefCount]:
        heads = list(
            await self.session.execute(
                select(
                    StockCount.id,
                    StockCount.number,
                    Location.code,
                    StockCount.status,
                    StockCount.blind,
                    StockCount.snapshot_token,
                )
                .join(Location, Location.id == StockCount.location_id)
                .where(StockCount.location_id == location_id)
                .order_by(StockCount.id)
            )
        )
        live = [int(h[0]) for h in heads if h[3] not in _INACTIVE]
        seen = [int(h[0]) for h in heads if h[3] not in _INACTIVE and not h[4] and h[5]]
        bins: dict[int, list[str]] = {i: [] for i in live}
        serials: dict[int, list[tuple[str, str, str]]] = {i: [] for i in seen}
        quantities: dict[int, list[tuple[str, str, str, Any]]] = {i: [] for i in seen}
        devices: dict[int, set[int]] = {i: set() for i in live}
        for batch in chunks(live, LOOKUP_CHUNK):
            for count_id, label, device_id in await self.session.execute(
                select(CountBin.count_id, Bin.label, CountBin.device_id)
                .join(Bin, Bin.id == CountBin.bin_id)
                .where(CountBin.count_id.in_(batch))
            ):
                bins[int(count_id)].append(str(label))
                if device_id is not None:
                    devices[int(count_id)].add(int(device_id))
        for batch in chunks(seen, LOOKUP_CHUNK):
            for count_id, code, serial, label in await self.session.execute(
                select(
                    CountSnapshotSerial.count_id,
                    Item.code,
                    CountSnapshotSerial.serial_number,
                    Bin.label,
                )
                .join(Item, Item.id == CountSnapshotSerial.item_id)
                .join(Bin, Bin.id == CountSnapshotSerial.bin_id)
                .where(CountSnapshotSerial.count_id.in_(batch))
            ):
                serials[int(count_id)].append((code, serial, label))
            for count_id, code, label, lot, quantity in await self.session.execute(
                select(
                    CountSnapshotBalance.count_id,
                    Item.code,
                    Bin.label,
                    CountSnapshotBalance.lot,
                    CountSnapshotBalance.quantity,
                )
                .join(Item, Item.id == CountSnapshotBalance.item_id)
                .join(Bin, Bin.id == CountSnapshotBalance.bin_id)
                .where(CountSnapshotBalance.count_id.in_(batch))
            ):
                quantities[int(count_id)].append((code, label, lot, quantity))
        return [
            RefCount(
                number=str(number),
                location=str(location),
                status=str(status),
                blind=bool(blind),
                bins=bins.get(int(id_), []),
                expected_serials=serials.get(int(id_), []),
                expected_quantities=quantities.get(int(id_), []),
                devices=frozenset(devices.get(int(id_), ())),
            )
            for id_, number, location, status, blind, _ in heads
        ]

    async def ref_recounts(self, location_id: int) -> list[RefRecount]:
        later = exists().where(
            and_(
                BinCountTable.count_id == RecountOrder.count_id,
                BinCountTable.bin_id == RecountOrder.bin_id,
                BinCountTable.submitted_at > RecountOrder.ordered_at,
            )
        )
        rows = await self.session.execute(
            select(
                RecountOrder.id,
                StockCount.number,
                Bin.label,
                RecountOrder.reason,
                StockCount.status,
                later,
            )
            .join(StockCount, StockCount.id == RecountOrder.count_id)
            .join(Bin, Bin.id == RecountOrder.bin_id)
            .where(StockCount.location_id == location_id)
        )
        return [
            RefRecount(
                int(id_),
                str(number),
                str(label),
                str(reason),
                status == "counting_in_process" and not done,
            )
            for id_, number, label, reason, status, done in rows
        ]
