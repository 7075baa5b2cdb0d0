"""The BinCounts of a stock count (the BinCounts port, server.counts.ports): a bin count
and its lines are written with executemany per chunk; the lines of many bin counts are
read with one query per chunk of ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from server.counts.ports import BinCountHeader, NewBinCount
from server.counts.sql.direct_bincounts import header_row, serial_rows, write_bin_counts
from server.counts.sql.snapshot import Scaled, raw
from server.counts.tables import (
    BinCountQuantity,
    BinCountSerial,
    BinCountTable,
    CountBin,
    RecountOrder,
)
from server.db import direct
from server.db.session import Session
from server.db.tables import (
    Bin,
    Device,
    Item,
    User,
)
from server.db.writes import LOOKUP_CHUNK, SERIAL_CHUNK, WRITE_CHUNK, chunks, table
from server.domain.money import QUANTITY_PLACES

T = TypeVar("T")


class SqlBinCounts:
    """BinCounts with their serial and quantity lines, recount orders, conflict picks."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- bin counts ------------------------------------------------------------------

    async def bin_count_headers(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> Sequence[BinCountHeader]:
        query = (
            select(
                BinCountTable.id,
                Bin.label,
                BinCountTable.counter,
                BinCountTable.device_id,
                BinCountTable.started_at,
                BinCountTable.finished_at,
                User.username,
                Device.name,
            )
            .join(Bin, Bin.id == BinCountTable.bin_id)
            .outerjoin(User, User.id == BinCountTable.counter_id)
            .outerjoin(Device, Device.id == BinCountTable.device_id)
            .where(BinCountTable.count_id == count_id)
            .order_by(BinCountTable.id)
        )
        if bin_ids is not None:
            query = query.where(BinCountTable.bin_id.in_(list(bin_ids)))
        # Core: no ORM per-row result handling (a count may have tens of thousands).
        rows = await (await self.session.connection()).execute(query)
        return [BinCountHeader(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    async def bin_count_lines(
        self, ids: Collection[int], serials: bool = True
    ) -> dict[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]]:
        """The serials and keyed quantities of each bin count; `serials` False: the
        quantities only (the database matches the serials, see serial_differences)."""
        scanned: dict[int, set[tuple[str, str]]] = {i: set() for i in ids}
        quantities: dict[int, dict[tuple[str, str], Decimal]] = {i: {} for i in ids}
        qty = Scaled(QUANTITY_PLACES)
        conn = await self.session.connection()  # Core: no ORM per-row result handling
        # Item codes from one small query, not a join per line: a million lines repeat a
        # few thousand items.
        codes: dict[int, str] = {}
        for batch in chunks(ids, LOOKUP_CHUNK):
            keyed_items = select(BinCountQuantity.item_id).where(
                BinCountQuantity.bin_count_id.in_(batch)
            )
            used = (
                keyed_items.union(
                    select(BinCountSerial.item_id).where(BinCountSerial.bin_count_id.in_(batch))
                )
                if serials
                else keyed_items
            ).subquery()
            found = await conn.execute(
                select(Item.id, Item.code).where(Item.id.in_(select(used.c.item_id)))
            )
            codes.update((int(i), str(c)) for i, c in found)
        for batch in chunks(ids, LOOKUP_CHUNK):
            if serials:
                rows = await conn.execute(
                    select(
                        BinCountSerial.bin_count_id,
                        BinCountSerial.item_id,
                        BinCountSerial.serial_number,
                    ).where(BinCountSerial.bin_count_id.in_(batch))
                )
                for bc, item, serial in rows:
                    scanned[bc].add((codes[item], serial))
            rows2 = await conn.execute(
                select(
                    BinCountQuantity.bin_count_id,
                    BinCountQuantity.item_id,
                    BinCountQuantity.lot,
                    raw(BinCountQuantity.quantity),
                ).where(BinCountQuantity.bin_count_id.in_(batch))
            )
            for bc, item, lot, q in rows2:
                quantities[bc][(codes[item], lot)] = qty(int(q))
        return {i: (frozenset(scanned[i]), quantities[i]) for i in ids}

    async def add_bin_count(self, new: NewBinCount, now: datetime) -> tuple[int, bool]:
        """The bin count's id, and whether a bin of the count still waits for a count."""
        # Core statements on the tables, not the ORM's bulk paths: a submit is ten
        # statements, and the ORM's per-statement work was most of its time.
        header = table("bin_count")
        bc_id = int(
            (
                await self.session.execute(
                    insert(header)
                    .values(
                        count_id=new.count_id,
                        bin_id=new.bin_id,
                        counter_id=new.counter_id,
                        device_id=new.device_id,
                        counter=new.counter,
                        started_at=new.started_at,
                        finished_at=new.finished_at,
                        submitted_at=now,
                    )
                    .returning(header.c.id)
                )
            ).scalar_one()
        )
        rows = [{"bin_count_id": bc_id, "item_id": i, "serial_number": s} for i, s in new.serials]
        for batch in chunks(rows, WRITE_CHUNK):
            await self.session.execute(insert(table("bin_count_serial")), batch)
        qrows = [
            {"bin_count_id": bc_id, "item_id": i, "lot": lot, "quantity": q}
            for (i, lot), q in new.quantities.items()
        ]
        for batch in chunks(qrows, WRITE_CHUNK):
            await self.session.execute(insert(table("bin_count_quantity")), batch)
        # The bin has a count that stands unless a recount ordered after this count's
        # start waits for another; a new count also drops the supervisor's pick.
        # In the same statement: whether a bin of the count still waits for a count (one
        # index probe; the count's row lock serializes its bin counts).
        count_bin = table("count_bin")
        others = aliased(count_bin)
        ordered = count_bin.c.recount_ordered_at
        waiting = (
            select(others.c.bin_id)
            .where(
                others.c.count_id == new.count_id,
                others.c.awaiting_count.is_(True),
                others.c.bin_id != new.bin_id,
            )
            .exists()
        )
        awaiting = (
            await self.session.execute(
                update(count_bin)
                .where(count_bin.c.count_id == new.count_id, count_bin.c.bin_id == new.bin_id)
                .values(
                    picked_bin_count_id=None,
                    awaiting_count=case(
                        (or_(ordered.is_(None), ordered <= new.started_at), False),
                        else_=count_bin.c.awaiting_count,
                    ),
                )
                .returning(or_(count_bin.c.awaiting_count.is_(True), waiting))
            )
        ).scalar_one()
        return bc_id, bool(awaiting)

    async def awaiting(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> dict[int, datetime | None]:
        """The bins of the count that await a count, with their recount order's time;
        `bin_ids` given: those of them that await, and one other that awaits when any
        does (a lot of bin counts asks whether its bins leave none awaiting, not for the
        10,000 bins of a count that has just started)."""
        count_bin = table("count_bin")
        waits = (count_bin.c.count_id == count_id, count_bin.c.awaiting_count.is_(True))
        columns = (count_bin.c.bin_id, count_bin.c.recount_ordered_at)
        query: Any = select(*columns).where(*waits)
        if bin_ids is not None:
            lot = list(bin_ids)
            other = select(*columns).where(*waits, count_bin.c.bin_id.not_in(lot)).limit(1)
            query = union_all(query.where(count_bin.c.bin_id.in_(lot)), select(other.subquery()))
        rows = await (await self.session.connection()).execute(query)
        return {int(b): at for b, at in rows}

    async def add_bin_counts(self, new: Sequence[NewBinCount], now: datetime) -> list[int]:
        """`add_bin_count` of each, in order, set-based: the headers in one INSERT ..
        RETURNING (ids in the order given), their serials as plain tuples to the driver
        (executemany on SQLite, COPY on PostgreSQL: a lot of bin counts holds tens of
        thousands), their quantities in one executemany, and their bins' rows in one
        executemany UPDATE (the latest start of the bin's counts in the lot decides).
        On SQLite's aiosqlite connection the same statements go to the driver in one
        hand-over (server.counts.sql.direct_bincounts: the same rows, without
        SQLAlchemy's work per parameter set)."""
        if not new:
            return []
        found = await write_bin_counts(await direct.connection(self.session), new, now)
        if found is not None:
            return found
        # A plain executemany, then the new ids in one select: INSERT .. RETURNING that
        # keeps the order runs one statement per row on SQLite. The count's row is claimed
        # by the caller (its bin counts are written one transaction at a time) and an
        # executemany takes its ids in order, so the count's ids above its highest before
        # are these, in this order.
        header = table("bin_count")
        of_count = header.c.count_id == new[0].count_id
        before = await self.session.scalar(select(func.max(header.c.id)).where(of_count))
        await self.session.execute(
            insert(header),
            [header_row(n, now) for n in new],
        )
        ids = [
            int(i)
            for (i,) in await self.session.execute(
                select(header.c.id)
                .where(of_count, header.c.id > (before or 0))
                .order_by(header.c.id)
            )
        ]
        if len(ids) != len(new):
            raise RuntimeError(f"wrote {len(new)} bin counts, found {len(ids)}")
        await add_bin_count_serials(self.session, serial_rows(ids, [n.serials for n in new]))
        qrows = [
            {"bin_count_id": i, "item_id": item, "lot": lot, "quantity": q}
            for i, n in zip(ids, new, strict=True)
            for (item, lot), q in n.quantities.items()
        ]
        for batch in chunks(qrows, WRITE_CHUNK):
            await self.session.execute(insert(table("bin_count_quantity")), batch)
        latest: dict[int, datetime] = {}
        for n in new:
            if n.bin_id not in latest or latest[n.bin_id] < n.started_at:
                latest[n.bin_id] = n.started_at
        count_bin = table("count_bin")
        ordered = count_bin.c.recount_ordered_at
        await self.session.execute(
            update(count_bin)
            .where(
                count_bin.c.count_id == new[0].count_id, count_bin.c.bin_id == bindparam("b_bin")
            )
            .values(
                picked_bin_count_id=None,
                awaiting_count=case(
                    (or_(ordered.is_(None), ordered <= bindparam("b_started")), False),
                    else_=count_bin.c.awaiting_count,
                ),
            ),
            [{"b_bin": b, "b_started": at} for b, at in latest.items()],
        )
        return ids

    async def together(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work`'s statements in one hand-over on SQLite (server.db.direct.together)."""
        return await direct.together(self.session, work)

    async def add_recounts(
        self, count_id: int, bin_ids: Collection[int], user_id: int, reason: str, now: datetime
    ) -> None:
        rows = [
            {"count_id": count_id, "bin_id": b, "ordered_by": user_id, "ordered_at": now,
             "reason": reason}
            for b in bin_ids
        ]  # fmt: skip
        await self.session.execute(insert(RecountOrder), rows)
        await self.session.execute(
            update(CountBin)
            .where(CountBin.count_id == count_id, CountBin.bin_id.in_(list(bin_ids)))
            .values(picked_bin_count_id=None, recount_ordered_at=now, awaiting_count=True)
        )

    async def pick(self, count_id: int, bin_id: int, bin_count_id: int) -> None:
        await self.session.execute(
            update(CountBin)
            .where(CountBin.count_id == count_id, CountBin.bin_id == bin_id)
            .values(picked_bin_count_id=bin_count_id)
        )


_BIN_COUNT_SERIAL = ("bin_count_id", "item_id", "serial_number")
_BIN_COUNT_SERIAL_SQL = (
    "INSERT INTO bin_count_serial (bin_count_id, item_id, serial_number) VALUES (?, ?, ?)"
)


async def add_bin_count_serials(session: Session, rows: Sequence[tuple[int, int, str]]) -> None:
    """(bin count id, item id, serial number) rows, as plain tuples to the driver: SQLite's
    executemany, PostgreSQL's COPY inside the open transaction (no per-row bind
    processing: the columns are integers and text)."""
    if not rows:
        return
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SELECT 1")  # the transaction is begun on the driver
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            "bin_count_serial", records=rows, columns=list(_BIN_COUNT_SERIAL)
        )
        return
    for batch in chunks(rows, SERIAL_CHUNK):
        await conn.exec_driver_sql(_BIN_COUNT_SERIAL_SQL, batch)
