"""The snapshot of a stock count (part of SqlCounts, see server.db.counts).

Taken with three INSERT ... SELECT statements in the caller's transaction (the database
copies the rows; none pass through Python). Loading a snapshot is one query per table;
a serial stays the row it was read as until reconciliation asks for it (only the
serials of discrepancies become SnapshotSerials with Decimal costs). Serials scanned
outside the snapshot are looked up by their exact keys, items it does not name in
chunks."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.masterdata_write import LOOKUP_CHUNK, SERIAL_CHUNK, chunks, keys_table
from server.db.models import (
    Bin,
    Item,
    ItemLocationCost,
    Serial,
    StockBalance,
)
from server.db.models_counts import (
    CountBin,
    CountSnapshotBalance,
    CountSnapshotItem,
    CountSnapshotSerial,
    StockCount,
)
from server.domain.counting import (
    ItemFacts,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
)
from server.domain.masterdata import BinKind, Tracking
from server.domain.money import COST_PLACES, QUANTITY_PLACES
from server.services.ports import (
    CountRecord,
)

_SERIAL_KEY = (("item_id", "BIGINT"), ("number", "TEXT"))


class Scaled:
    """Scaled integers to Decimals, memoized: a million costs hold few distinct values."""

    def __init__(self, places: int) -> None:
        self.places = -places
        self.memo: dict[int, Decimal] = {}

    def __call__(self, raw: int) -> Decimal:
        value = self.memo.get(raw)
        if value is None:
            value = self.memo[raw] = Decimal(raw).scaleb(self.places)
        return value


class _SnapshotSerials(Mapping[tuple[str, str], SnapshotSerial]):
    """The snapshot's serials by (item, serial number), kept as their rows (bin id,
    scaled cost, bin kind); a SnapshotSerial is made when one is asked for."""

    def __init__(
        self, rows: dict[tuple[str, str], tuple[int, int, str]], labels: Mapping[int, str]
    ) -> None:
        self._rows = rows
        self._labels = labels

    def __getitem__(self, key: tuple[str, str]) -> SnapshotSerial:
        bin_id, cost, kind = self._rows[key]
        return SnapshotSerial(
            key[0],
            key[1],
            self._labels[bin_id],
            Decimal(cost).scaleb(-COST_PLACES),
            BinKind(kind),
        )

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def raw(column: Any) -> Any:
    return type_coerce(column, BigInteger)


class SnapshotStore:
    """The snapshot of a count: taken set-based, loaded in one query per table."""

    session: AsyncSession

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
        scaled = Scaled(QUANTITY_PLACES)
        balances = await self.session.execute(
            select(Bin.label, raw(func.sum(CountSnapshotBalance.quantity)))
            .join(Bin, Bin.id == CountSnapshotBalance.bin_id)
            .where(CountSnapshotBalance.count_id == count_id)
            .group_by(Bin.label)
        )
        for label, total in balances:
            expected[str(label)] = expected.get(str(label), Decimal(0)) + scaled(int(total))
        return expected

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
        cost = Scaled(COST_PLACES)
        qty = Scaled(QUANTITY_PLACES)
        items: dict[str, ItemFacts] = {}
        codes: dict[int, str] = {}
        rows = await self.session.execute(
            select(
                Item.id,
                Item.code,
                CountSnapshotItem.tracking,
                CountSnapshotItem.auto_serialized,
                raw(CountSnapshotItem.average_cost),
                raw(CountSnapshotItem.last_cost),
            )
            .join(Item, Item.id == CountSnapshotItem.item_id)
            .where(CountSnapshotItem.count_id == count.id)
        )
        for id_, code, tracking, auto, average, last in rows:
            codes[int(id_)] = str(code)
            items[str(code)] = ItemFacts(
                str(code), Tracking(tracking), bool(auto), cost(int(average)), cost(int(last))
            )
        # The big reads go through the Core connection: the ORM's per-row result handling
        # costs more than the driver at a million rows.
        conn = await self.session.connection()
        serial_rows = await conn.execute(
            select(
                CountSnapshotSerial.item_id,
                CountSnapshotSerial.serial_number,
                CountSnapshotSerial.bin_id,
                raw(CountSnapshotSerial.actual_cost),
                CountSnapshotSerial.bin_kind,
            ).where(CountSnapshotSerial.count_id == count.id)
        )
        # One pass builds the snapshot's two indexes (by key, and the keys of each bin);
        # the index keeps each serial's row as read and makes its SnapshotSerial only
        # when reconciliation asks (the serials of discrepancies): no million objects
        # and Decimals built for serials that are where they should be.
        held: dict[tuple[str, str], tuple[int, int, str]] = {}
        grouped: dict[int, list[tuple[str, str]]] = {}
        for i, s, b, c, k in serial_rows:
            key = (codes[i], s)
            held[key] = (b, c, k)
            members = grouped.get(b)
            if members is None:
                members = grouped[b] = []
            members.append(key)
        by_bin = {labels[b]: frozenset(keys) for b, keys in grouped.items()}
        balance_rows = await conn.execute(
            select(
                CountSnapshotBalance.item_id,
                CountSnapshotBalance.bin_id,
                CountSnapshotBalance.lot,
                raw(CountSnapshotBalance.quantity),
                raw(CountSnapshotBalance.average_cost),
            ).where(CountSnapshotBalance.count_id == count.id)
        )
        balances = [
            SnapshotBalance(codes[i], labels[b], lot, qty(q), cost(c))
            for i, b, lot, q, c in balance_rows
        ]
        return Snapshot.indexed(
            _SnapshotSerials(held, labels),
            by_bin,
            location=count.location,
            scope=scope,
            bin_kinds=kinds,
            items=items,
            balances=balances,
        )

    async def serial_facts(
        self, location_id: int, keys: Collection[tuple[str, str]]
    ) -> tuple[list[SnapshotSerial], set[tuple[str, str]]]:
        """Live facts of serials scanned but not in the snapshot: those in another bin of
        the location (outside the scope), and those the system knows elsewhere."""
        outside: list[SnapshotSerial] = []
        elsewhere: set[tuple[str, str]] = set()
        codes = {c for c, _ in keys}
        ids: dict[str, int] = {}
        for names in chunks(codes, LOOKUP_CHUNK):
            found = await self.session.execute(
                select(Item.code, Item.id).where(Item.code.in_(names))
            )
            ids.update((str(c), int(i)) for c, i in found)
        codes_of = {i: c for c, i in ids.items()}
        known = [(ids[c], n) for c, n in keys if c in ids]
        for batch in chunks(known, SERIAL_CHUNK):
            k = keys_table(self.session.get_bind().dialect.name, "k", _SERIAL_KEY, batch)
            rows = await self.session.execute(
                select(Serial.item_id, Serial.serial_number, Bin.label, Bin.kind,
                       Bin.location_id, Serial.actual_cost)
                .join(k, and_(Serial.item_id == k.c.item_id, Serial.serial_number == k.c.number))
                .outerjoin(Bin, Bin.id == Serial.bin_id)
            )  # fmt: skip
            for item_id, serial, label, kind, loc, cost in rows:
                code = codes_of[int(item_id)]
                if loc == location_id:
                    outside.append(SnapshotSerial(code, serial, label, cost, BinKind(kind)))
                else:
                    elsewhere.add((code, str(serial)))
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
