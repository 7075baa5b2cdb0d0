"""SQL implementation of the CountRepository port.

The snapshot is taken with three INSERT ... SELECT statements in the caller's transaction
(the database copies the rows; none pass through Python). Loading a snapshot or the lines
of many bin counts is one query each, with scaled integers turned into Decimals through a
small memo (costs repeat). Everything else is a handful of rows per call.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.db.masterdata_write import LOOKUP_CHUNK, WRITE_CHUNK, chunks, table
from server.db.models import (
    Bin,
    GlAccount,
    GlEntity,
    InventoryGroup,
    Item,
    ItemLocationCost,
    Location,
    Serial,
    StockBalance,
    User,
)
from server.db.models_counts import (
    BinCountQuantity,
    BinCountRow,
    BinCountSerial,
    CountBin,
    CountDocument,
    CountDocumentLine,
    CountLineReview,
    CountSnapshotBalance,
    CountSnapshotItem,
    CountSnapshotSerial,
    GlPosting,
    RecountOrder,
    StockCount,
    ToleranceRule,
)
from server.domain.counting import (
    Approval,
    CountStatus,
    GlSetup,
    ItemAccounts,
    ItemFacts,
    QuantityAdjustment,
    Review,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
    StockTransfer,
    ToleranceRules,
)
from server.domain.masterdata import BinKind, Tracking
from server.domain.money import COST_PLACES, QUANTITY_PLACES
from server.domain.posting import Position, PositionKey
from server.services.ports import (
    BinCountHeader,
    CountBinRecord,
    CountRecord,
    DocumentLineRecord,
    DocumentRecord,
    GlPostingRecord,
)

_STAMP = {
    CountStatus.COUNTING: "started_at",
    CountStatus.COUNTED: "counted_at",
    CountStatus.COMPLETED: "completed_at",
    CountStatus.CANCELLED: "cancelled_at",
}
_Creator = aliased(User)


class _Scaled:
    """Scaled integers to Decimals, memoized: a million costs hold few distinct values."""

    def __init__(self, places: int) -> None:
        self.places = -places
        self.memo: dict[int, Decimal] = {}

    def __call__(self, raw: int) -> Decimal:
        value = self.memo.get(raw)
        if value is None:
            value = self.memo[raw] = Decimal(raw).scaleb(self.places)
        return value


def _raw(column: Any) -> Any:
    return type_coerce(column, BigInteger)


_COUNT_COLUMNS = (
    StockCount.id,
    StockCount.number,
    StockCount.location_id,
    Location.code,
    StockCount.scope_kind,
    StockCount.scope_spec,
    StockCount.blind,
    StockCount.status,
    StockCount.version,
    StockCount.snapshot_token,
    _Creator.username,
    StockCount.created_at,
    StockCount.started_at,
    StockCount.counted_at,
    StockCount.completed_at,
    StockCount.cancelled_at,
)


def _count(row: Sequence[Any]) -> CountRecord:
    values = list(row)
    values[7] = CountStatus(values[7])
    values[6] = bool(values[6])
    return CountRecord(*values)


class SqlCounts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- the count -------------------------------------------------------------------

    async def add(
        self,
        location_id: int,
        scope_kind: str,
        scope_spec: str,
        labels: Collection[str],
        blind: bool,
        created_by: int,
        now: datetime,
    ) -> int:
        count_id = int(
            (
                await self.session.execute(
                    insert(StockCount)
                    .values(
                        number=f"~{uuid.uuid4().hex[:30]}",  # replaced below, once the id is known
                        location_id=location_id,
                        scope_kind=scope_kind,
                        scope_spec=scope_spec,
                        blind=blind,
                        status=CountStatus.OPEN.value,
                        version=1,
                        created_by=created_by,
                        created_at=now,
                    )
                    .returning(StockCount.id)
                )
            ).scalar_one()
        )
        await self.session.execute(
            update(StockCount).where(StockCount.id == count_id).values(number=f"SC{count_id:06d}")
        )
        chosen = select(literal(count_id), Bin.id).where(Bin.location_id == location_id)
        if scope_kind == "prefix":
            # LIKE would read _ and % in a label as wildcards: compare the prefix itself.
            chosen = chosen.where(func.substr(Bin.label, 1, len(scope_spec)) == scope_spec)
        elif scope_kind == "zone":
            chosen = chosen.where(Bin.zone == scope_spec)
        elif scope_kind == "bins":
            chosen = chosen.where(Bin.label.in_(list(labels)))
        await self.session.execute(insert(CountBin).from_select(["count_id", "bin_id"], chosen))
        return count_id

    async def assign(
        self, count_id: int, assignments: Sequence[tuple[int, int | None, int | None]]
    ) -> None:
        if not assignments:
            return
        bins = table("count_bin")
        stmt = (
            update(bins)
            .where(bins.c.count_id == count_id, bins.c.bin_id == bindparam("b_id"))
            .values(device_id=bindparam("d_id"), counter_id=bindparam("c_id"))
        )
        rows = [{"b_id": b, "d_id": d, "c_id": c} for b, d, c in assignments]
        await self.session.execute(stmt, rows)

    def _select_count(self) -> Any:
        return (
            select(*_COUNT_COLUMNS)
            .join(Location, Location.id == StockCount.location_id)
            .join(_Creator, _Creator.id == StockCount.created_by)
        )

    async def get(self, number: str) -> CountRecord | None:
        row = (
            await self.session.execute(self._select_count().where(StockCount.number == number))
        ).first()
        return _count(row) if row else None

    async def get_by_id(self, count_id: int) -> CountRecord:
        row = (
            await self.session.execute(self._select_count().where(StockCount.id == count_id))
        ).one()
        return _count(row)

    async def page(
        self, after: int, limit: int, location: str | None, status: str | None
    ) -> Sequence[CountRecord]:
        query = self._select_count().where(StockCount.id > after)
        if location:
            query = query.where(Location.code == location)
        if status:
            query = query.where(StockCount.status == status)
        rows = await self.session.execute(query.order_by(StockCount.id).limit(limit))
        return [_count(r) for r in rows]

    async def bins(
        self, count_id: int, labels: Collection[str] | None = None
    ) -> Sequence[CountBinRecord]:
        """The count's bins in scope; only those of `labels` when given."""
        query = (
            select(
                CountBin.bin_id,
                Bin.label,
                CountBin.device_id,
                User.username,
                CountBin.picked_bin_count_id,
            )
            .join(Bin, Bin.id == CountBin.bin_id)
            .outerjoin(User, User.id == CountBin.counter_id)
            .where(CountBin.count_id == count_id)
            .order_by(Bin.label)
        )
        if labels is not None:
            query = query.where(Bin.label.in_(list(labels)))
        rows = await self.session.execute(query)
        return [CountBinRecord(int(b), str(lbl), d, u, p) for b, lbl, d, u, p in rows]

    async def expected_by_bin(self, count_id: int) -> dict[str, Decimal]:
        """System quantity per bin in the snapshot: serials counted, balances summed."""
        expected: dict[str, Decimal] = {}
        serials = await self.session.execute(
            select(Bin.label, func.count())
            .select_from(CountSnapshotSerial)
            .join(Bin, Bin.id == CountSnapshotSerial.bin_id)
            .where(CountSnapshotSerial.count_id == count_id)
            .group_by(Bin.label)
        )
        for label, n in serials:
            expected[str(label)] = Decimal(int(n))
        scaled = _Scaled(QUANTITY_PLACES)
        balances = await self.session.execute(
            select(Bin.label, _raw(func.sum(CountSnapshotBalance.quantity)))
            .join(Bin, Bin.id == CountSnapshotBalance.bin_id)
            .where(CountSnapshotBalance.count_id == count_id)
            .group_by(Bin.label)
        )
        for label, total in balances:
            expected[str(label)] = expected.get(str(label), Decimal(0)) + scaled(int(total))
        return expected

    async def claim(
        self,
        number: str,
        allowed: Collection[CountStatus],
        status: CountStatus | None,
        now: datetime,
        user_id: int | None = None,
        bump_version: bool = True,
    ) -> int | None:
        """Move the count to `status` (None: keep it) if it is in one of `allowed`, and bump
        its version unless `bump_version` is False (a change that leaves the reconciliation
        as it is: a review decision, counted, finalize); answers the count's id, or None
        when it was in no allowed status.

        One conditional UPDATE, meant as the first statement of a transaction: of two
        racing requests exactly one gets the row (the other waits for the row lock on
        PostgreSQL, for the write lock on SQLite, and then finds the status changed).
        """
        # Without a bump the row is still written (version = version): the row lock is
        # what serializes concurrent changes of one count.
        step = 1 if bump_version else 0
        values: dict[str, Any] = {"version": StockCount.version + step}
        if status is not None:
            values["status"] = status.value
            stamp = _STAMP.get(status)
            if stamp is not None and status not in allowed:
                values[stamp] = now
            if status is CountStatus.COMPLETED:
                values["finalized_by"] = user_id
        row = (
            await self.session.execute(
                update(StockCount)
                .where(
                    StockCount.number == number,
                    StockCount.status.in_([s.value for s in allowed]),
                )
                .values(**values)
                .returning(StockCount.id)
            )
        ).first()
        return None if row is None else int(row[0])

    # -- the snapshot ----------------------------------------------------------------

    async def take_snapshot(self, count_id: int, location_id: int, token: str) -> None:
        cid = literal(count_id)
        in_scope = and_(CountBin.count_id == count_id)
        await self.session.execute(
            insert(CountSnapshotSerial).from_select(
                ["count_id", "item_id", "serial_number", "bin_id", "actual_cost", "bin_kind"],
                select(
                    cid, Serial.item_id, Serial.serial_number, Serial.bin_id,
                    Serial.actual_cost, Bin.kind,
                )
                .join(CountBin, and_(CountBin.bin_id == Serial.bin_id, in_scope))
                .join(Bin, Bin.id == Serial.bin_id),
            )
        )  # fmt: skip
        cost = and_(
            ItemLocationCost.item_id == StockBalance.item_id,
            ItemLocationCost.location_id == location_id,
        )
        await self.session.execute(
            insert(CountSnapshotBalance).from_select(
                ["count_id", "item_id", "bin_id", "lot", "quantity", "average_cost"],
                select(
                    cid, StockBalance.item_id, StockBalance.bin_id, StockBalance.lot,
                    StockBalance.quantity, func.coalesce(ItemLocationCost.average_cost, 0),
                )
                .join(CountBin, and_(CountBin.bin_id == StockBalance.bin_id, in_scope))
                .outerjoin(ItemLocationCost, cost),
            )
        )  # fmt: skip
        item_cost = and_(
            ItemLocationCost.item_id == Item.id, ItemLocationCost.location_id == location_id
        )
        serial_items = select(CountSnapshotSerial.item_id).where(
            CountSnapshotSerial.count_id == count_id
        )
        balance_items = select(CountSnapshotBalance.item_id).where(
            CountSnapshotBalance.count_id == count_id
        )
        await self.session.execute(
            insert(CountSnapshotItem).from_select(
                ["count_id", "item_id", "tracking", "auto_serialized", "average_cost", "last_cost"],
                select(
                    cid, Item.id, Item.tracking, Item.auto_serialized,
                    func.coalesce(ItemLocationCost.average_cost, 0), Item.last_cost,
                )
                .outerjoin(ItemLocationCost, item_cost)
                .where(
                    or_(
                        ItemLocationCost.item_id.is_not(None),
                        Item.id.in_(serial_items),
                        Item.id.in_(balance_items),
                    )
                ),
            )
        )  # fmt: skip
        await self.session.execute(
            update(StockCount).where(StockCount.id == count_id).values(snapshot_token=token)
        )

    async def _bins_of(self, location_id: int) -> tuple[dict[int, str], dict[str, BinKind]]:
        rows = await self.session.execute(
            select(Bin.id, Bin.label, Bin.kind).where(Bin.location_id == location_id)
        )
        labels: dict[int, str] = {}
        kinds: dict[str, BinKind] = {}
        for id_, label, kind in rows:
            labels[int(id_)] = str(label)
            kinds[str(label)] = BinKind(kind)
        return labels, kinds

    async def load_snapshot(self, count: CountRecord) -> Snapshot:
        labels, kinds = await self._bins_of(count.location_id)
        scope = frozenset(
            labels[int(b)]
            for (b,) in await self.session.execute(
                select(CountBin.bin_id).where(CountBin.count_id == count.id)
            )
        )
        cost = _Scaled(COST_PLACES)
        qty = _Scaled(QUANTITY_PLACES)
        items: dict[str, ItemFacts] = {}
        codes: dict[int, str] = {}
        rows = await self.session.execute(
            select(
                Item.id,
                Item.code,
                CountSnapshotItem.tracking,
                CountSnapshotItem.auto_serialized,
                _raw(CountSnapshotItem.average_cost),
                _raw(CountSnapshotItem.last_cost),
            )
            .join(Item, Item.id == CountSnapshotItem.item_id)
            .where(CountSnapshotItem.count_id == count.id)
        )
        for id_, code, tracking, auto, average, last in rows:
            codes[int(id_)] = str(code)
            items[str(code)] = ItemFacts(
                str(code), Tracking(tracking), bool(auto), cost(int(average)), cost(int(last))
            )
        stock = BinKind.STOCK
        serial_rows = await self.session.execute(
            select(
                CountSnapshotSerial.item_id,
                CountSnapshotSerial.serial_number,
                CountSnapshotSerial.bin_id,
                _raw(CountSnapshotSerial.actual_cost),
                CountSnapshotSerial.bin_kind,
            ).where(CountSnapshotSerial.count_id == count.id)
        )
        serials = [
            SnapshotSerial(codes[i], s, labels[b], cost(c), stock if k == "stock" else BinKind.OUT)
            for i, s, b, c, k in serial_rows
        ]
        balance_rows = await self.session.execute(
            select(
                CountSnapshotBalance.item_id,
                CountSnapshotBalance.bin_id,
                CountSnapshotBalance.lot,
                _raw(CountSnapshotBalance.quantity),
                _raw(CountSnapshotBalance.average_cost),
            ).where(CountSnapshotBalance.count_id == count.id)
        )
        balances = [
            SnapshotBalance(codes[i], labels[b], lot, qty(q), cost(c))
            for i, b, lot, q, c in balance_rows
        ]
        return Snapshot(
            location=count.location,
            scope=scope,
            bin_kinds=kinds,
            items=items,
            serials=serials,
            balances=balances,
        )

    async def serial_facts(
        self, location_id: int, keys: Collection[tuple[str, str]]
    ) -> tuple[list[SnapshotSerial], set[tuple[str, str]]]:
        """Live facts of serials scanned but not in the snapshot: those in another bin of
        the location (outside the scope), and those the system knows elsewhere."""
        outside: list[SnapshotSerial] = []
        elsewhere: set[tuple[str, str]] = set()
        for batch in chunks(keys, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, Serial.serial_number, Bin.label, Bin.kind, Bin.location_id,
                       Serial.actual_cost)
                .join(Item, Item.id == Serial.item_id)
                .outerjoin(Bin, Bin.id == Serial.bin_id)
                .where(tuple_(Item.code, Serial.serial_number).in_(batch))
            )  # fmt: skip
            for code, serial, label, kind, loc, cost in rows:
                if loc == location_id:
                    outside.append(SnapshotSerial(code, serial, label, cost, BinKind(kind)))
                else:
                    elsewhere.add((str(code), str(serial)))
        return outside, elsewhere

    async def item_facts(self, location_id: int, codes: Collection[str]) -> dict[str, ItemFacts]:
        found: dict[str, ItemFacts] = {}
        for batch in chunks(codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, Item.tracking, Item.auto_serialized,
                       ItemLocationCost.average_cost, Item.last_cost)
                .outerjoin(
                    ItemLocationCost,
                    and_(ItemLocationCost.item_id == Item.id,
                         ItemLocationCost.location_id == location_id),
                )
                .where(Item.code.in_(batch))
            )  # fmt: skip
            for code, tracking, auto, average, last in rows:
                found[str(code)] = ItemFacts(
                    str(code), Tracking(tracking), bool(auto), average or Decimal(0), last
                )
        return found

    async def taken_serial_numbers(
        self, item_codes: Collection[str], prefix: str
    ) -> set[tuple[str, str]]:
        """(item, serial number) of the items' serials whose number starts with `prefix`,
        in stock or not: one query per chunk of items, reading only those items' serials
        (by the unique (item, serial number) index)."""
        taken: set[tuple[str, str]] = set()
        for batch in chunks(item_codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, Serial.serial_number)
                .join(Item, Item.id == Serial.item_id)
                .where(
                    Item.code.in_(batch),
                    func.substr(Serial.serial_number, 1, len(prefix)) == prefix,
                )
            )
            taken.update((str(c), str(s)) for c, s in rows)
        return taken

    # -- bin counts ------------------------------------------------------------------

    async def bin_count_headers(self, count_id: int) -> Sequence[BinCountHeader]:
        rows = await self.session.execute(
            select(
                BinCountRow.id,
                Bin.label,
                BinCountRow.counter,
                BinCountRow.device_id,
                BinCountRow.started_at,
                BinCountRow.finished_at,
                BinCountRow.superseded,
            )
            .join(Bin, Bin.id == BinCountRow.bin_id)
            .where(BinCountRow.count_id == count_id)
            .order_by(BinCountRow.id)
        )
        return [BinCountHeader(int(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    async def bin_count_lines(
        self, ids: Collection[int]
    ) -> dict[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]]:
        serials: dict[int, set[tuple[str, str]]] = {i: set() for i in ids}
        quantities: dict[int, dict[tuple[str, str], Decimal]] = {i: {} for i in ids}
        qty = _Scaled(QUANTITY_PLACES)
        for batch in chunks(ids, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(BinCountSerial.bin_count_id, Item.code, BinCountSerial.serial_number)
                .join(Item, Item.id == BinCountSerial.item_id)
                .where(BinCountSerial.bin_count_id.in_(batch))
            )
            for bc, code, serial in rows:
                serials[bc].add((code, serial))
            rows2 = await self.session.execute(
                select(
                    BinCountQuantity.bin_count_id,
                    Item.code,
                    BinCountQuantity.lot,
                    _raw(BinCountQuantity.quantity),
                )
                .join(Item, Item.id == BinCountQuantity.item_id)
                .where(BinCountQuantity.bin_count_id.in_(batch))
            )
            for bc, code, lot, q in rows2:
                quantities[bc][(code, lot)] = qty(int(q))
        return {i: (frozenset(serials[i]), quantities[i]) for i in ids}

    async def add_bin_count(
        self,
        count_id: int,
        bin_id: int,
        counter_id: int | None,
        device_id: int | None,
        counter: str,
        started_at: datetime,
        finished_at: datetime,
        now: datetime,
        serials: Collection[tuple[int, str]],
        quantities: Mapping[tuple[int, str], Decimal],
    ) -> int:
        bc_id = int(
            (
                await self.session.execute(
                    insert(BinCountRow)
                    .values(
                        count_id=count_id,
                        bin_id=bin_id,
                        counter_id=counter_id,
                        device_id=device_id,
                        counter=counter,
                        started_at=started_at,
                        finished_at=finished_at,
                        submitted_at=now,
                        superseded=False,
                    )
                    .returning(BinCountRow.id)
                )
            ).scalar_one()
        )
        rows = [{"bin_count_id": bc_id, "item_id": i, "serial_number": s} for i, s in serials]
        for batch in chunks(rows, WRITE_CHUNK):
            await self.session.execute(insert(BinCountSerial), batch)
        qrows = [
            {"bin_count_id": bc_id, "item_id": i, "lot": lot, "quantity": q}
            for (i, lot), q in quantities.items()
        ]
        for batch in chunks(qrows, WRITE_CHUNK):
            await self.session.execute(insert(BinCountQuantity), batch)
        # A recount replaces every count of the bin that finished before it started; a new
        # count also drops the supervisor's pick of a conflicting one.
        await self.session.execute(
            update(BinCountRow)
            .where(
                BinCountRow.count_id == count_id,
                BinCountRow.bin_id == bin_id,
                BinCountRow.id != bc_id,
                BinCountRow.finished_at <= started_at,
            )
            .values(superseded=True)
        )
        await self.session.execute(
            update(CountBin)
            .where(CountBin.count_id == count_id, CountBin.bin_id == bin_id)
            .values(picked_bin_count_id=None)
        )
        return bc_id

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
            .values(picked_bin_count_id=None)
        )

    async def pick(self, count_id: int, bin_id: int, bin_count_id: int) -> None:
        await self.session.execute(
            update(CountBin)
            .where(CountBin.count_id == count_id, CountBin.bin_id == bin_id)
            .values(picked_bin_count_id=bin_count_id)
        )

    # -- review ----------------------------------------------------------------------

    async def review(self, count_id: int) -> Review:
        rows = await self.session.execute(
            select(
                CountLineReview.line_id,
                CountLineReview.cleared,
                User.username,
                CountLineReview.reason_code,
            )
            .outerjoin(User, User.id == CountLineReview.approved_by)
            .where(CountLineReview.count_id == count_id)
        )
        cleared: set[str] = set()
        approvals: dict[str, Approval] = {}
        for line_id, is_cleared, approver, reason in rows:
            if is_cleared:
                cleared.add(str(line_id))
            if approver is not None:
                approvals[str(line_id)] = Approval(str(line_id), str(approver), str(reason or ""))
        return Review(frozenset(cleared), approvals)

    async def set_review(
        self,
        count_id: int,
        line_id: str,
        *,
        cleared: bool,
        approved_by: str | None,
        reason_code: str | None,
        user_id: int,
        now: datetime,
    ) -> None:
        approver = None
        if approved_by is not None:
            approver = await self.session.scalar(
                select(User.id).where(User.username == approved_by)
            )
        await self.session.execute(
            delete(CountLineReview).where(
                CountLineReview.count_id == count_id, CountLineReview.line_id == line_id
            )
        )
        await self.session.execute(
            insert(CountLineReview).values(
                count_id=count_id,
                line_id=line_id,
                cleared=cleared,
                approved_by=approver,
                reason_code=reason_code,
                decided_by=user_id,
                decided_at=now,
            )
        )

    async def tolerances(self, location_id: int) -> ToleranceRules:
        row = (
            await self.session.execute(
                select(ToleranceRule.quantity, ToleranceRule.percent, ToleranceRule.value).where(
                    ToleranceRule.location_id == location_id
                )
            )
        ).first()
        return ToleranceRules() if row is None else ToleranceRules(row[0], row[1], row[2])

    async def set_tolerances(
        self, location_id: int, rules: ToleranceRules, user_id: int, now: datetime
    ) -> None:
        await self.session.execute(
            delete(ToleranceRule).where(ToleranceRule.location_id == location_id)
        )
        await self.session.execute(
            insert(ToleranceRule).values(
                location_id=location_id,
                quantity=rules.quantity,
                percent=rules.percent,
                value=rules.value,
                updated_by=user_id,
                updated_at=now,
            )
        )

    # -- finalize --------------------------------------------------------------------

    async def gl_setup(self, location_id: int, item_codes: Collection[str]) -> GlSetup:
        inventory, adjustment = aliased(GlAccount), aliased(GlAccount)
        accounts: dict[str, ItemAccounts] = {}
        for batch in chunks(item_codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, inventory.code, adjustment.code)
                .outerjoin(InventoryGroup, InventoryGroup.id == Item.inventory_group_id)
                .outerjoin(inventory, inventory.id == InventoryGroup.inventory_account_id)
                .outerjoin(adjustment, adjustment.id == InventoryGroup.adjustment_account_id)
                .where(Item.code.in_(batch))
            )
            accounts.update((str(c), ItemAccounts(i, a)) for c, i, a in rows)
        entity = await self.session.scalar(
            select(GlEntity.code)
            .join(Location, Location.gl_entity_id == GlEntity.id)
            .where(Location.id == location_id)
        )
        return GlSetup(accounts=accounts, default_entity=entity)

    async def positions(
        self, location_id: int, location: str, item_codes: Collection[str]
    ) -> dict[PositionKey, Position]:
        """On hand (balances plus serials in the location's bins) and average cost."""
        found: dict[PositionKey, Position] = {}
        for batch in chunks(item_codes, LOOKUP_CHUNK):
            balances = (
                select(func.coalesce(func.sum(_raw(StockBalance.quantity)), 0))
                .join(Bin, Bin.id == StockBalance.bin_id)
                .where(StockBalance.item_id == Item.id, Bin.location_id == location_id)
                .scalar_subquery()
            )
            serials = (
                select(func.count())
                .select_from(Serial)
                .join(Bin, Bin.id == Serial.bin_id)
                .where(Serial.item_id == Item.id, Bin.location_id == location_id)
                .scalar_subquery()
            )
            rows = await self.session.execute(
                select(Item.code, balances, serials, ItemLocationCost.average_cost)
                .outerjoin(
                    ItemLocationCost,
                    and_(
                        ItemLocationCost.item_id == Item.id,
                        ItemLocationCost.location_id == location_id,
                    ),
                )
                .where(Item.code.in_(batch))
            )
            for code, balance, serial_count, average in rows:
                on_hand = Decimal(int(balance)).scaleb(-QUANTITY_PLACES) + int(serial_count)
                found[(str(code), location)] = Position(on_hand, average or Decimal(0))
        return found

    async def add_documents(
        self,
        count: CountRecord,
        user_id: int,
        now: datetime,
        adjustment: QuantityAdjustment,
        transfer: StockTransfer,
    ) -> dict[str, tuple[int, str]]:
        """Both documents of a count. The UNIQUE (count_id, kind) constraint refuses a
        second pair whatever the caller did."""
        codes = {x.item for x in adjustment.lines} | {x.item for x in transfer.lines}
        labels = {x.bin for x in adjustment.lines}
        labels |= {x.from_bin for x in transfer.lines} | {x.to_bin for x in transfer.lines}
        item_ids = await self._item_ids(codes)
        bin_ids = await self._bin_ids(count.location_id, labels)
        made: dict[str, tuple[int, str]] = {}
        for kind, prefix, total in (
            ("quantity_adjustment", "QA", adjustment.total_value),
            ("stock_transfer", "ST", transfer.total_value),
        ):
            number = f"{prefix}-{count.number}"
            doc_id = (
                await self.session.execute(
                    insert(CountDocument)
                    .values(
                        count_id=count.id,
                        kind=kind,
                        number=number,
                        location_id=count.location_id,
                        created_by=user_id,
                        created_at=now,
                        total_value=total,
                    )
                    .returning(CountDocument.id)
                )
            ).scalar_one()
            made[kind] = (int(doc_id), number)
        qa_id, st_id = made["quantity_adjustment"][0], made["stock_transfer"][0]
        zero = Decimal(0)
        rows: list[dict[str, Any]] = [
            {"document_id": qa_id, "line_no": x.line_no, "source_line_id": x.source_line_id,
             "item_id": item_ids[x.item], "bin_id": bin_ids[x.bin], "from_bin_id": None,
             "lot": x.lot, "serial_number": x.serial, "generate_serials": x.generate_serials,
             "adjustment_quantity": x.quantity, "stock_transfer_quantity": zero,
             "adjustment_cost": x.unit_cost, "adjustment_value": x.value,
             "stock_transfer_value": zero}
            for x in adjustment.lines
        ]  # fmt: skip
        rows += [
            {"document_id": st_id, "line_no": x.line_no, "source_line_id": x.source_line_id,
             "item_id": item_ids[x.item], "bin_id": bin_ids[x.to_bin],
             "from_bin_id": bin_ids[x.from_bin], "lot": "", "serial_number": x.serial,
             "generate_serials": False, "adjustment_quantity": zero,
             "stock_transfer_quantity": Decimal(1), "adjustment_cost": x.unit_cost,
             "adjustment_value": zero, "stock_transfer_value": x.value}
            for x in transfer.lines
        ]  # fmt: skip
        for batch in chunks(rows, WRITE_CHUNK):
            await self.session.execute(insert(CountDocumentLine), batch)
        return made

    async def _item_ids(self, codes: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for batch in chunks(codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, Item.id).where(Item.code.in_(batch))
            )
            found.update((str(c), int(i)) for c, i in rows)
        return found

    async def _bin_ids(self, location_id: int, labels: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for batch in chunks(labels, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Bin.label, Bin.id).where(
                    Bin.location_id == location_id, Bin.label.in_(batch)
                )
            )
            found.update((str(lbl), int(i)) for lbl, i in rows)
        return found

    async def documents(self, count_id: int) -> Sequence[DocumentRecord]:
        return await self._documents(CountDocument.count_id == count_id)

    async def document(self, kind: str, number: str) -> DocumentRecord | None:
        found = await self._documents(
            and_(CountDocument.kind == kind, CountDocument.number == number)
        )
        return found[0] if found else None

    async def _documents(self, where: Any) -> list[DocumentRecord]:
        heads = (
            await self.session.execute(
                select(
                    CountDocument.id,
                    CountDocument.kind,
                    CountDocument.number,
                    StockCount.number,
                    Location.code,
                    User.username,
                    CountDocument.created_at,
                    CountDocument.total_value,
                )
                .join(StockCount, StockCount.id == CountDocument.count_id)
                .join(Location, Location.id == CountDocument.location_id)
                .join(User, User.id == CountDocument.created_by)
                .where(where)
                .order_by(CountDocument.id)
            )
        ).all()
        if not heads:
            return []
        ids = [int(h[0]) for h in heads]
        to_bin, from_bin = aliased(Bin), aliased(Bin)
        lines: dict[int, list[DocumentLineRecord]] = {i: [] for i in ids}
        rows = await self.session.execute(
            select(
                CountDocumentLine.document_id,
                CountDocumentLine.line_no,
                CountDocumentLine.source_line_id,
                Item.code,
                to_bin.label,
                from_bin.label,
                CountDocumentLine.lot,
                CountDocumentLine.serial_number,
                CountDocumentLine.generate_serials,
                CountDocumentLine.adjustment_quantity,
                CountDocumentLine.stock_transfer_quantity,
                CountDocumentLine.adjustment_cost,
                CountDocumentLine.adjustment_value,
                CountDocumentLine.stock_transfer_value,
            )
            .join(Item, Item.id == CountDocumentLine.item_id)
            .join(to_bin, to_bin.id == CountDocumentLine.bin_id)
            .outerjoin(from_bin, from_bin.id == CountDocumentLine.from_bin_id)
            .where(CountDocumentLine.document_id.in_(ids))
            .order_by(CountDocumentLine.document_id, CountDocumentLine.line_no)
        )
        for r in rows:
            lines[int(r[0])].append(
                DocumentLineRecord(
                    line_no=int(r[1]),
                    source_line_id=r[2],
                    item=r[3],
                    bin=r[4],
                    from_bin=r[5],
                    lot=r[6],
                    serial=r[7],
                    generate_serials=bool(r[8]),
                    adjustment_quantity=r[9],
                    stock_transfer_quantity=r[10],
                    adjustment_cost=r[11],
                    adjustment_value=r[12],
                    stock_transfer_value=r[13],
                )
            )
        gl: dict[int, list[GlPostingRecord]] = {i: [] for i in ids}
        kinds = {int(h[0]): str(h[1]) for h in heads}
        gl_rows = await self.session.execute(
            select(
                GlPosting.document_id,
                GlPosting.document_kind,
                GlPosting.line_no,
                GlPosting.account_code,
                GlPosting.entity_code,
                GlPosting.amount,
            )
            .where(GlPosting.document_id.in_(ids), GlPosting.document_kind.in_(set(kinds.values())))
            .order_by(GlPosting.id)
        )
        for doc_id, kind, line_no, account, entity, amount in gl_rows:
            if kinds.get(int(doc_id)) == kind:
                gl[int(doc_id)].append(GlPostingRecord(int(line_no), account, entity, amount))
        return [
            DocumentRecord(
                int(h[0]), str(h[1]), str(h[2]), str(h[3]), str(h[4]), str(h[5]), h[6], h[7],
                tuple(lines[int(h[0])]), tuple(gl[int(h[0])]),
            )
            for h in heads
        ]  # fmt: skip
