"""SQL implementation of the SyncRepository port (server/services/sync_ports.py).

Ingest is set-based: one upsert of the install row, one executemany INSERT for all events
of a batch through the Core connection, one query per kind of lookup. The dialect's own
INSERT (PostgreSQL or SQLite) gives ON CONFLICT for the upserts on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.masterdata_write import LOOKUP_CHUNK, chunks
from server.db.models import Bin, Device, Item, ItemBarcode, Location
from server.db.models_counts import (
    BinCountRow,
    CountBin,
    CountSnapshotBalance,
    CountSnapshotSerial,
    RecountOrder,
    StockCount,
)
from server.db.models_sync import (
    SyncBinCount,
    SyncEvent,
    SyncInstall,
    SyncRef,
    SyncScope,
    SyncServer,
)
from server.services.sync_ports import (
    CountFacts,
    InstallStatus,
    NewEvent,
    RefBin,
    RefCount,
    RefItem,
    RefRecount,
    RefRow,
    StoredEvent,
)

_EVENT_COLUMNS = (
    SyncEvent.id,
    SyncEvent.device_id,
    SyncEvent.install_id,
    SyncEvent.seq,
    SyncEvent.kind,
    SyncEvent.count_number,
    SyncEvent.bin_seq,
    SyncEvent.body,
    SyncEvent.device_time,
    SyncEvent.received_at,
    SyncEvent.outcome,
    SyncEvent.reason,
    SyncEvent.detail,
)
_INACTIVE = ("completed", "cancelled")
_EVENT_INSERT = insert(SyncEvent)  # executed on the Core connection: no ORM bulk path


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(*row)


def new_epoch() -> str:
    return uuid.uuid4().hex


class SqlSync:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self.session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        return self.session.begin_nested()

    # -- the epoch ---------------------------------------------------------------------

    async def epoch(self) -> str:
        return str((await self.session.execute(select(SyncServer.epoch))).scalar_one())

    async def renew_epoch(self) -> str:
        epoch = new_epoch()
        await self.session.execute(
            update(SyncServer).values(epoch=epoch, generation=SyncServer.generation + 1)
        )
        return epoch

    # -- push --------------------------------------------------------------------------

    async def lock_install(self, device_id: int, install_id: str, now: datetime) -> int:
        stmt = self._insert(SyncInstall).values(
            device_id=device_id,
            install_id=install_id,
            high_water=0,
            first_seen_at=now,
            last_seen_at=now,
            queue_depth=0,
            app_version="",
            clock_skew_ms=0,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["device_id", "install_id"],
            set_={"last_seen_at": stmt.excluded.last_seen_at},
        ).returning(SyncInstall.high_water)
        return int((await self.session.execute(stmt)).scalar_one())

    async def update_install(
        self,
        device_id: int,
        install_id: str,
        *,
        high_water: int,
        queue_depth: int,
        app_version: str,
        clock_skew_ms: int,
    ) -> None:
        values: dict[str, Any] = {
            "high_water": high_water,
            "queue_depth": queue_depth,
            "clock_skew_ms": clock_skew_ms,
        }
        if app_version:
            values["app_version"] = app_version
        await self.session.execute(
            update(SyncInstall)
            .where(SyncInstall.device_id == device_id, SyncInstall.install_id == install_id)
            .values(**values)
        )

    async def stored(
        self, device_id: int, install_id: str, seqs: Collection[int]
    ) -> dict[int, StoredEvent]:
        found: dict[int, StoredEvent] = {}
        for batch in chunks(seqs, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(*_EVENT_COLUMNS).where(
                    SyncEvent.device_id == device_id,
                    SyncEvent.install_id == install_id,
                    SyncEvent.seq.in_(batch),
                )
            )
            for row in rows:
                event = _stored(row)
                found[event.seq] = event
        return found

    async def insert_events(self, rows: Sequence[NewEvent]) -> None:
        """One executemany INSERT through the Core connection (no ORM bulk bookkeeping, no
        RETURNING): the statement the benchmark's raw floor runs. The install row's lock
        and its contiguous high-water mark guarantee that no seq above it is stored, so a
        conflict here is a bug: it raises and the whole batch rolls back (never doubled)."""
        if not rows:
            return
        conn = await self.session.connection()
        await conn.execute(
            _EVENT_INSERT,
            [
                {
                    "device_id": r.device_id,
                    "install_id": r.install_id,
                    "seq": r.seq,
                    "kind": r.kind,
                    "count_number": r.count_number,
                    "bin_seq": r.bin_seq,
                    "body": r.body,
                    "device_time": r.device_time,
                    "received_at": r.received_at,
                    "outcome": r.outcome,
                    "reason": r.reason,
                    "detail": r.detail,
                }
                for r in rows
            ],
        )

    async def bin_events(
        self, device_id: int, install_id: str, bin_seqs: Collection[int]
    ) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        for batch in chunks(bin_seqs, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(*_EVENT_COLUMNS)
                .where(
                    SyncEvent.device_id == device_id,
                    SyncEvent.install_id == install_id,
                    SyncEvent.bin_seq.in_(batch),
                )
                .order_by(SyncEvent.seq)
            )
            found.extend(_stored(r) for r in rows)
        return found

    async def count_facts(self, numbers: Collection[str]) -> dict[str, CountFacts]:
        heads: dict[int, tuple[str, int, str]] = {}
        for batch in chunks(numbers, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(
                    StockCount.id, StockCount.number, StockCount.location_id, StockCount.status
                ).where(StockCount.number.in_(batch))
            )
            for id_, number, location_id, status in rows:
                heads[int(id_)] = (str(number), int(location_id), str(status))
        labels: dict[int, set[str]] = {i: set() for i in heads}
        if heads:
            rows2 = await self.session.execute(
                select(CountBin.count_id, Bin.label)
                .join(Bin, Bin.id == CountBin.bin_id)
                .where(CountBin.count_id.in_(list(heads)))
            )
            for count_id, label in rows2:
                labels[int(count_id)].add(str(label))
        return {
            number: CountFacts(number, location_id, status, frozenset(labels[i]))
            for i, (number, location_id, status) in heads.items()
        }

    async def bin_count_source(self, device_id: int, install_id: str, bin_seq: int) -> bool:
        found = await self.session.execute(
            select(SyncBinCount.bin_count_id).where(
                SyncBinCount.device_id == device_id,
                SyncBinCount.install_id == install_id,
                SyncBinCount.bin_seq == bin_seq,
            )
        )
        return found.first() is not None

    async def add_bin_count_source(
        self, device_id: int, install_id: str, bin_seq: int, bin_count_id: int
    ) -> None:
        await self.session.execute(
            self._insert(SyncBinCount).values(
                device_id=device_id,
                install_id=install_id,
                bin_seq=bin_seq,
                bin_count_id=bin_count_id,
            )
        )

    # -- supervisors -------------------------------------------------------------------

    async def installs(self, location_id: int | None) -> list[InstallStatus]:
        devices = select(Device.id, Device.name, Location.code, Device.status).join(
            Location, Location.id == Device.location_id
        )
        if location_id is not None:
            devices = devices.where(Device.location_id == location_id)
        found = list(await self.session.execute(devices.order_by(Device.id)))
        latest: dict[int, Any] = {}
        ids = [int(r[0]) for r in found]
        for batch in chunks(ids, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(
                    SyncInstall.device_id,
                    SyncInstall.install_id,
                    SyncInstall.last_seen_at,
                    SyncInstall.high_water,
                    SyncInstall.queue_depth,
                    SyncInstall.app_version,
                    SyncInstall.clock_skew_ms,
                ).where(SyncInstall.device_id.in_(batch))
            )
            for row in rows:
                kept = latest.get(int(row[0]))
                if kept is None or row[2] > kept[2]:
                    latest[int(row[0])] = row
        result: list[InstallStatus] = []
        for device_id, name, location, status in found:
            last = latest.get(int(device_id))
            if last is None:
                result.append(
                    InstallStatus(int(device_id), name, location, status, None, None, 0, 0, "", 0)
                )
            else:
                result.append(
                    InstallStatus(
                        int(device_id),
                        name,
                        location,
                        status,
                        last[1],
                        last[2],
                        int(last[3]),
                        int(last[4]),
                        last[5],
                        int(last[6]),
                    )
                )
        return result

    async def rejected(
        self, after: int, limit: int, device_id: int | None, count: str | None
    ) -> list[StoredEvent]:
        query = select(*_EVENT_COLUMNS).where(SyncEvent.outcome == "rejected", SyncEvent.id > after)
        if device_id is not None:
            query = query.where(SyncEvent.device_id == device_id)
        if count is not None:
            query = query.where(SyncEvent.count_number == count)
        rows = await self.session.execute(query.order_by(SyncEvent.id).limit(limit))
        return [_stored(r) for r in rows]

    # -- pull --------------------------------------------------------------------------

    async def lock_scope(self, location_id: int) -> int:
        stmt = self._insert(SyncScope).values(location_id=location_id, change_seq=0)
        stmt = stmt.on_conflict_do_update(
            index_elements=["location_id"], set_={"change_seq": SyncScope.change_seq}
        ).returning(SyncScope.change_seq)
        return int((await self.session.execute(stmt)).scalar_one())

    async def set_scope(self, location_id: int, change_seq: int) -> None:
        await self.session.execute(
            update(SyncScope)
            .where(SyncScope.location_id == location_id)
            .values(change_seq=change_seq)
        )

    async def ref_digests(self, location_id: int) -> dict[tuple[str, str], str]:
        rows = await self.session.execute(
            select(SyncRef.kind, SyncRef.ref_key, SyncRef.digest).where(
                SyncRef.location_id == location_id
            )
        )
        return {(str(k), str(key)): str(d) for k, key, d in rows}

    async def upsert_refs(self, location_id: int, rows: Sequence[RefRow]) -> None:
        stmt = self._insert(SyncRef)
        stmt = stmt.on_conflict_do_update(
            index_elements=["location_id", "kind", "ref_key"],
            set_={
                "digest": stmt.excluded.digest,
                "change_seq": stmt.excluded.change_seq,
                "body": stmt.excluded.body,
            },
        )
        await self.session.execute(
            stmt,
            [
                {
                    "location_id": location_id,
                    "kind": r.kind,
                    "ref_key": r.ref_key,
                    "digest": r.digest,
                    "change_seq": r.change_seq,
                    "body": r.body,
                }
                for r in rows
            ],
        )

    async def ref_page(self, location_id: int, after: int, limit: int) -> list[RefRow]:
        rows = await self.session.execute(
            select(SyncRef.kind, SyncRef.ref_key, SyncRef.digest, SyncRef.change_seq, SyncRef.body)
            .where(SyncRef.location_id == location_id, SyncRef.change_seq > after)
            .order_by(SyncRef.change_seq)
            .limit(limit)
        )
        return [RefRow(str(k), str(key), str(d), int(s), str(b)) for k, key, d, s, b in rows]

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

    async def ref_bins(self, location_id: int) -> list[RefBin]:
        rows = await self.session.execute(
            select(Location.code, Bin.label, Bin.kind)
            .join(Location, Location.id == Bin.location_id)
            .where(Bin.location_id == location_id)
        )
        return [RefBin(str(loc), str(label), str(kind)) for loc, label, kind in rows]

    async def ref_items(self) -> list[RefItem]:
        barcodes: dict[int, list[str]] = {}
        for item_id, barcode in await self.session.execute(
            select(ItemBarcode.item_id, ItemBarcode.barcode)
        ):
            barcodes.setdefault(int(item_id), []).append(str(barcode))
        rows = await self.session.execute(
            select(Item.id, Item.code, Item.name, Item.tracking, Item.auto_serialized, Item.uom)
        )
        return [
            RefItem(str(code), str(name), str(tracking), bool(auto), str(uom), barcodes.get(i, []))
            for i, code, name, tracking, auto, uom in rows
        ]

    async def ref_recounts(self, location_id: int) -> list[RefRecount]:
        later = exists().where(
            and_(
                BinCountRow.count_id == RecountOrder.count_id,
                BinCountRow.bin_id == RecountOrder.bin_id,
                BinCountRow.submitted_at > RecountOrder.ordered_at,
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
