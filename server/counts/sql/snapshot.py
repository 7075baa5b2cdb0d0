"""The snapshot of a stock count (the Snapshots port, server.counts.ports).

Taken with three INSERT ... SELECT statements in the caller's transaction (the database
copies the rows; none pass through Python). Loading a snapshot reads its items, balances
and bins, not its serials: the database matches the serials against the bin counts
(`serial_differences`) and only the serials of discrepancies reach Python, with the
snapshot's serial count of the (item, bin) pairs their lines report. Serials scanned
outside the snapshot are looked up by their exact keys, items it does not name in
chunks."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from server.counts.ports import CountRecord, SerialDifference
from server.counts.tables import (
    BinCountSerial,
    BinCountTable,
    CountBin,
    CountSnapshotBalance,
    CountSnapshotItem,
    CountSnapshotSerial,
    StockCount,
)
from server.db.costing import serial_costs, serialized_average_costs
from server.db.session import Session
from server.db.tables import (
    Bin,
    Item,
    ItemLocationCost,
    Serial,
    StockBalance,
)
from server.db.writes import (
    LOOKUP_CHUNK,
    SERIAL_CHUNK,
    MasterDataWrites,
    chunks,
    keys_table,
    table,
)
from server.domain.costing import SerialCosts
from server.domain.counting import (
    CountItemFacts,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
)
from server.domain.masterdata import BinKind, Tracking
from server.domain.money import COST_PLACES, QUANTITY_PLACES

_SERIAL_KEY = (("item_id", "BIGINT"), ("number", "TEXT"))


_BIN_KINDS = {kind.value: kind for kind in BinKind}


def _bin_kind(value: str) -> BinKind:
    """BinKind(value) by a look-up (10,000 bins and their serials, a few kinds)."""
    return _BIN_KINDS.get(value) or BinKind(value)


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


def raw(column: Any) -> Any:
    return type_coerce(column, BigInteger)


def _snapshot_rows_of(dialect: str, count_id: int, k: Any) -> Any:
    """The snapshot's row of each (item_id, number) key of `k` (a keys_table), one probe
    of the primary key per key: item_id, serial_number, bin_id, actual_cost, bin_kind;
    NULLs for a key the snapshot does not hold (SQLite) or no row (PostgreSQL)."""
    snap = CountSnapshotSerial
    if dialect == "postgresql":
        # A LATERAL probe with LIMIT 1 (the key is unique), which the planner cannot turn
        # into a join: a snapshot is inserted at start and its statistics come with
        # autovacuum's ANALYZE, a minute later at best, so a join is planned for about a
        # thousand rows of the count and hashes all its million instead (15,000 keys at a
        # million serials: 0.39 s, against 0.01 s for the probes).
        found = (
            select(snap.bin_id, raw(snap.actual_cost).label("actual_cost"), snap.bin_kind)
            .where(snap.count_id == count_id, snap.item_id == k.c.item_id,
                   snap.serial_number == k.c.number)
            .limit(1)
            .lateral("found")
        )  # fmt: skip
        return (
            select(k.c.item_id, k.c.number, found.c.bin_id, found.c.actual_cost,
                   found.c.bin_kind)
            .select_from(k)
            .join(found, true())
        )  # fmt: skip
    # The keys LEFT JOIN the snapshot: SQLite keeps the keys as the outer loop and probes
    # the primary key per key. An inner join lets it walk the count's million serials and
    # scan the keys for each (minutes).
    return (
        select(snap.item_id, snap.serial_number, snap.bin_id, raw(snap.actual_cost),
               snap.bin_kind)
        .select_from(k)
        .outerjoin(snap, and_(snap.count_id == count_id, snap.item_id == k.c.item_id,
                              snap.serial_number == k.c.number))
    )  # fmt: skip


class SqlSnapshots:
    """The snapshot of a count: taken set-based, loaded in one query per table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # A location's bins, read once a unit of work: loading a snapshot and matching its
        # serials both name bins by label (10,000 rows each at 10,000 bins).
        self._bins: dict[int, tuple[dict[int, str], dict[str, BinKind]]] = {}

    async def expected_by_bin(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> dict[str, Decimal]:
        """System quantity per bin in the snapshot: serials counted, balances summed; only
        these bins when given (a page of them: each is a range of the (count, bin) index)."""
        expected: dict[str, Decimal] = {}
        serial_scope = [CountSnapshotSerial.count_id == count_id]
        balance_scope = [CountSnapshotBalance.count_id == count_id]
        if bin_ids is not None:
            serial_scope.append(CountSnapshotSerial.bin_id.in_(list(bin_ids)))
            balance_scope.append(CountSnapshotBalance.bin_id.in_(list(bin_ids)))
        serials = await self.session.execute(
            select(Bin.label, func.count())
            .select_from(CountSnapshotSerial)
            .join(Bin, Bin.id == CountSnapshotSerial.bin_id)
            .where(*serial_scope)
            .group_by(Bin.label)
        )
        for label, n in serials:
            expected[str(label)] = Decimal(int(n))
        scaled = Scaled(QUANTITY_PLACES)
        balances = await self.session.execute(
            select(Bin.label, raw(func.sum(CountSnapshotBalance.quantity)))
            .join(Bin, Bin.id == CountSnapshotBalance.bin_id)
            .where(*balance_scope)
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
        # Serialized items with serials on hand anywhere in the location (not only in the
        # scope), as untracked items with a cost at the location: their average is frozen
        # here too. One grouped pass over the location's serials gives both.
        here = await serial_costs(self.session, None, location_id)
        dialect = self.session.get_bind().dialect.name
        balance_items = select(CountSnapshotBalance.item_id).where(
            CountSnapshotBalance.count_id == count_id
        )
        named = [ItemLocationCost.item_id.is_not(None), Item.id.in_(balance_items)]
        if here:
            held = keys_table(dialect, "held", (("item_id", "BIGINT"),), [(i,) for i in here])
            named.append(Item.id.in_(select(held.c.item_id)))
        await self.session.execute(
            insert(CountSnapshotItem).from_select(
                ["count_id", "item_id", "tracking", "auto_serialized", "average_cost", "last_cost"],
                select(
                    cid, Item.id, Item.tracking, Item.auto_serialized,
                    func.coalesce(ItemLocationCost.average_cost, 0), Item.last_cost,
                )
                .outerjoin(ItemLocationCost, item_cost)
                .where(or_(*named)),
            )
        )  # fmt: skip
        await self._freeze_serialized_averages(count_id, location_id, here)
        await self.session.execute(
            update(StockCount).where(StockCount.id == count_id).values(snapshot_token=token)
        )

    async def _freeze_serialized_averages(
        self, count_id: int, location_id: int, here: Mapping[int, Mapping[int, SerialCosts]]
    ) -> None:
        """A serialized item's average cost is that of its serials on hand
        (server.domain.costing), not item_location_cost: computed once at start. `here`:
        the location's serial_costs."""
        rows = await self.session.execute(
            select(CountSnapshotItem.item_id, CountSnapshotItem.last_cost).where(
                CountSnapshotItem.count_id == count_id,
                CountSnapshotItem.tracking == Tracking.SERIAL.value,
            )
        )
        last_costs = {int(i): last for i, last in rows}
        if not last_costs:
            return
        averages = await serialized_average_costs(self.session, location_id, last_costs, here)
        snap = table("count_snapshot_item")
        await self.session.execute(
            update(snap)
            .where(snap.c.count_id == count_id, snap.c.item_id == bindparam("b_item"))
            .values(average_cost=bindparam("b_cost")),
            [{"b_item": i, "b_cost": cost} for i, cost in averages.items()],
        )

    async def _bins_of(self, location_id: int) -> tuple[dict[int, str], dict[str, BinKind]]:
        """Labels by id and kinds by label of the location's bins (not to be changed)."""
        found = self._bins.get(location_id)
        if found is not None:
            return found
        rows = await self.session.execute(
            select(Bin.id, Bin.label, Bin.kind).where(Bin.location_id == location_id)
        )
        labels: dict[int, str] = {}
        kinds: dict[str, BinKind] = {}
        for id_, label, kind in rows:
            labels[int(id_)] = text = str(label)
            kinds[text] = _bin_kind(kind)
        self._bins[location_id] = labels, kinds
        return labels, kinds

    async def load_snapshot(self, count: CountRecord) -> Snapshot:
        """The snapshot's scope, bins, items and balances; its serials stay in the
        database (see serial_differences)."""
        labels, kinds = await self._bins_of(count.location_id)
        scope = frozenset(
            labels[int(b)]
            for (b,) in await self.session.execute(
                select(CountBin.bin_id).where(CountBin.count_id == count.id)
            )
        )
        cost = Scaled(COST_PLACES)
        qty = Scaled(QUANTITY_PLACES)
        items: dict[str, CountItemFacts] = {}
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
            items[str(code)] = CountItemFacts(
                str(code), Tracking(tracking), bool(auto), cost(int(average)), cost(int(last))
            )
        # The balances through the Core connection: no ORM per-row result handling.
        conn = await self.session.connection()
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
        return Snapshot(
            location=count.location,
            scope=scope,
            bin_kinds=kinds,
            items=items,
            balances=balances,
        )

    async def serial_differences(
        self,
        count: CountRecord,
        bin_count_ids: Collection[int],
        held: dict[tuple[str, str], int] | None = None,
    ) -> list[SerialDifference]:
        """The serials of the snapshot's counted bins and of the given bin counts that are
        not exactly once where the snapshot has them, matched by the database in one
        statement of two anti-joins, each walking one bin at a time (no sort of the two
        million rows of a million-serial count, and each probe lands near the last): the
        snapshot rows of each counted bin that its bin count does not hold (a probe of the
        bin count's primary key), and the scans of each bin count that the snapshot does
        not have in that bin (a probe of the snapshot's (count, bin, item, serial number)
        index; the walks read that index, and a snapshot row only for a serial they
        return). A serial scanned outside its snapshot bin gets its snapshot row by its
        exact key; it was scanned in its snapshot bin too when that bin is counted and the
        serial is not among the first kind.

        `held`, when given, receives the snapshot's serials of the (item, bin) of each row
        of the two anti-joins (its snapshot bin, its counted bin), each counted in the same
        statement by one probe of the (count, bin, item) index: the pairs whose counts a
        first reconciliation needs, without a second statement over 25,000 keys."""
        if not bin_count_ids:
            return []
        dialect = self.session.get_bind().dialect.name
        labels, _ = await self._bins_of(count.location_id)
        chosen = keys_table(dialect, "chosen", (("id", "BIGINT"),), [(i,) for i in bin_count_ids])
        snap, scan, head = CountSnapshotSerial, BinCountSerial, BinCountTable
        counted = (
            select(head.id.label("bc"), head.bin_id.label("bin_id"))
            .where(head.id.in_(select(chosen.c.id)))
            .cte("counted")
        )
        home = aliased(CountSnapshotSerial, name="held")
        peer = aliased(CountSnapshotSerial, name="peer")

        def serials_of(bin_id: Any, item_id: Any) -> Any:
            if held is None:
                return literal(None, BigInteger)
            return (
                select(func.count())
                .where(peer.count_id == count.id, peer.bin_id == bin_id, peer.item_id == item_id)
                .scalar_subquery()
            )

        missing = (
            select(
                literal(0).label("side"), snap.item_id, snap.serial_number, snap.bin_id,
                raw(snap.actual_cost), snap.bin_kind, serials_of(snap.bin_id, snap.item_id),
            )
            .select_from(counted)
            .join(snap, and_(snap.count_id == count.id, snap.bin_id == counted.c.bin_id))
            .where(
                ~exists().where(
                    scan.bin_count_id == counted.c.bc,
                    scan.item_id == snap.item_id,
                    scan.serial_number == snap.serial_number,
                )
            )
        )  # fmt: skip
        # SQLite would probe the primary key (count, item, serial number): anywhere in the
        # million rows (2.0 s for the statement at a million serials, against 1.0 s). With
        # the serial number an expression on its side, the (count, bin, item, serial
        # number) index is the longer match: a probe within the bin's entries, which hold
        # the number too (no read of the table row).
        held_serial = home.serial_number + "" if dialect == "sqlite" else home.serial_number
        in_bin = select(literal(1)).where(
            home.count_id == count.id,
            home.bin_id == counted.c.bin_id,
            home.item_id == scan.item_id,
            held_serial == scan.serial_number,
        )
        stray = (
            select(
                literal(1), scan.item_id, scan.serial_number, counted.c.bin_id,
                literal(None, BigInteger), literal(None, String),
                serials_of(counted.c.bin_id, scan.item_id),
            )
            .select_from(counted)
            .join(scan, scan.bin_count_id == counted.c.bc)
            .where(~in_bin.exists())
        )  # fmt: skip
        bins = select(
            literal(2), literal(None, BigInteger), literal(None, String), counted.c.bin_id,
            literal(None, BigInteger), literal(None, String), literal(None, BigInteger),
        )  # fmt: skip
        rows = await self.session.execute(union_all(missing, stray, bins))
        absent: dict[tuple[int, str], tuple[int, int, str]] = {}
        scanned: dict[tuple[int, str], list[int]] = {}
        counted_bins: set[int] = set()
        pairs: dict[tuple[int, int], int] = {}
        for side, item_id, serial, bin_id, raw_cost, kind, serials in rows:
            if serials is not None:
                pairs[(int(item_id), int(bin_id))] = int(serials)
            if side == 2:
                counted_bins.add(int(bin_id))
            elif side == 0:
                absent[(int(item_id), str(serial))] = (int(bin_id), int(raw_cost), str(kind))
            else:
                scanned.setdefault((int(item_id), str(serial)), []).append(int(bin_id))
        codes = await self._codes_of({i for i, _ in absent} | {i for i, _ in scanned})
        if held is not None:
            held.update(((codes[i], labels[b]), n) for (i, b), n in pairs.items())
        cost = Scaled(COST_PLACES)
        differences: dict[tuple[int, str], SerialDifference] = {}
        for key, (bin_id, raw_cost, kind) in absent.items():
            code = codes[key[0]]
            system = SnapshotSerial(code, key[1], labels[bin_id], cost(raw_cost), _bin_kind(kind))
            where = tuple(labels[b] for b in scanned.get(key, ()))
            differences[key] = SerialDifference(code, key[1], system, where)
        strangers = [key for key in scanned if key not in absent]
        for key in strangers:
            where = tuple(labels[b] for b in scanned[key])
            differences[key] = SerialDifference(codes[key[0]], key[1], None, where)
        for batch in chunks(strangers, SERIAL_CHUNK):
            k = keys_table(dialect, "k", _SERIAL_KEY, batch)
            held_rows = await self.session.execute(_snapshot_rows_of(dialect, count.id, k))
            for item_id, serial, bin_id, raw_cost, kind in held_rows:
                if item_id is None:
                    continue  # not in the snapshot
                key = (int(item_id), str(serial))
                d = differences[key]
                system = SnapshotSerial(
                    d.item, d.serial, labels[int(bin_id)], cost(int(raw_cost)), _bin_kind(kind)
                )
                # Not among the absent: scanned in its snapshot bin too, if that is counted.
                also = (system.bin,) if int(bin_id) in counted_bins else ()
                differences[key] = SerialDifference(d.item, d.serial, system, d.scanned_in + also)
        return list(differences.values())

    async def snapshot_quantities(
        self, count: CountRecord, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """The snapshot's serials of each (item, bin), each one range of the
        (count, bin, item) index."""
        if not pairs:
            return {}
        dialect = self.session.get_bind().dialect.name
        ids = await MasterDataWrites(self.session).ids_by_code("items", {item for item, _ in pairs})
        bins = await self.session.execute(
            select(Bin.label, Bin.id).where(Bin.location_id == count.location_id)
        )
        bin_ids = {str(label): int(i) for label, i in bins}
        keyed = {
            (ids[item], bin_ids[label]): (item, label)
            for item, label in pairs
            if item in ids and label in bin_ids
        }
        snap = CountSnapshotSerial
        totals: dict[tuple[str, str], int] = {}
        for batch in chunks(list(keyed), SERIAL_CHUNK):
            k = keys_table(dialect, "k", (("item_id", "BIGINT"), ("bin_id", "BIGINT")), batch)
            # A scalar subquery per key: a join lets SQLite (no statistics) scan the
            # count's serials and probe the keys instead.
            held = (
                select(func.count())
                .where(
                    snap.count_id == count.id,
                    snap.bin_id == k.c.bin_id,
                    snap.item_id == k.c.item_id,
                )
                .scalar_subquery()
            )
            rows = await self.session.execute(select(k.c.item_id, k.c.bin_id, held))
            for item_id, bin_id, n in rows:
                totals[keyed[(int(item_id), int(bin_id))]] = int(n)
        return totals

    async def _codes_of(self, ids: Collection[int]) -> dict[int, str]:
        codes: dict[int, str] = {}
        for batch in chunks(ids, LOOKUP_CHUNK):
            found = await self.session.execute(select(Item.id, Item.code).where(Item.id.in_(batch)))
            codes.update((int(i), str(c)) for i, c in found)
        return codes

    async def serial_facts(
        self, location_id: int, keys: Collection[tuple[str, str]]
    ) -> tuple[list[SnapshotSerial], set[tuple[str, str]]]:
        """Live facts of serials scanned but not in the snapshot: those in another bin of
        the location (outside the scope), and those the system knows elsewhere."""
        outside: list[SnapshotSerial] = []
        elsewhere: set[tuple[str, str]] = set()
        ids = await MasterDataWrites(self.session).ids_by_code("items", {c for c, _ in keys})
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

    async def item_facts(
        self, location_id: int, codes: Collection[str], *, costs: bool = True
    ) -> dict[str, CountItemFacts]:
        """Live facts of items the snapshot does not name; a serialized item's average
        cost is that of its serials on hand (server.domain.costing), as in the snapshot.
        `costs` False: no average is computed (a bin count's check needs the tracking
        only, and summing the serials of its items costs a scan of their serials)."""
        found, _ = await self._item_facts(location_id, codes, costs)
        return found

    async def item_facts_and_ids(
        self, location_id: int, codes: Collection[str]
    ) -> tuple[dict[str, CountItemFacts], dict[str, int]]:
        """`item_facts(..., costs=False)` and the items' ids by code, from the same rows."""
        return await self._item_facts(location_id, codes, False)

    async def _item_facts(
        self, location_id: int, codes: Collection[str], costs: bool
    ) -> tuple[dict[str, CountItemFacts], dict[str, int]]:
        found: dict[str, CountItemFacts] = {}
        ids: dict[str, int] = {}
        serialized: dict[int, tuple[str, Decimal]] = {}
        conn = await self.session.connection()  # Core: no ORM per-row result handling
        for batch in chunks(codes, LOOKUP_CHUNK):
            rows = await conn.execute(
                select(Item.id, Item.code, Item.tracking, Item.auto_serialized,
                       ItemLocationCost.average_cost, Item.last_cost)
                .outerjoin(
                    ItemLocationCost,
                    and_(ItemLocationCost.item_id == Item.id,
                         ItemLocationCost.location_id == location_id),
                )
                .where(Item.code.in_(batch))
            )  # fmt: skip
            for id_, code, tracking, auto, average, last in rows:
                found[str(code)] = CountItemFacts(
                    str(code), Tracking(tracking), bool(auto), average or Decimal(0), last
                )
                ids[str(code)] = int(id_)
                if tracking == Tracking.SERIAL.value:
                    serialized[int(id_)] = (str(code), last)
        if serialized and costs:
            averages = await serialized_average_costs(
                self.session, location_id, {i: last for i, (_, last) in serialized.items()}
            )
            for id_, (code, _) in serialized.items():
                found[code] = replace(found[code], average_cost=averages[id_])
        return found, ids
