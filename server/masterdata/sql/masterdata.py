"""SQL implementation of the MasterDataRepository port: reads here, bulk writes inherited.

Every read is one query with explicit joins (codes, never ids, go out), plus one query for
the barcodes of a page of items. Pages are keyset pages on the record id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from server.db.costing import serial_costs
from server.db.reasons import kinds_of
from server.db.tables import (
    Bin,
    Company,
    GlAccount,
    GlEntity,
    InventoryGroup,
    Item,
    ItemBarcode,
    Location,
    MasterDataChange,
    ReasonCodeEntry,
    Serial,
)
from server.db.writes import (
    LOOKUP_CHUNK,
    TABLE_OF,
    MasterDataWrites,
    chunks,
    keys_table,
    table,
)
from server.domain.costing import serialized_average_cost
from server.domain.masterdata import BinKind, CountMode, Tracking
from server.domain.masterdata.imports import (
    BinRow,
    CompanyRow,
    GlAccountRow,
    GlEntityRow,
    InventoryGroupRow,
    ItemRow,
    LocationRow,
    ReasonCodeRow,
    Row,
    SerialRow,
    key_of,
)
from server.domain.money import QUANTITY_PLACES
from server.masterdata.ports import ChangeFilters, StockBalanceRecord
from server.ports import MasterDataChangeRecord

_InventoryAccount = aliased(GlAccount)
_AdjustmentAccount = aliased(GlAccount)


def _query(kind: str) -> tuple[Select[*tuple[Any, ...]], InstrumentedAttribute[int]]:
    """The select of one kind (id first, then the row's fields) and its id column."""
    if kind == "companies":
        return select(Company.id, Company.code, Company.name, Company.intercompany), Company.id
    if kind == "gl_accounts":
        return select(GlAccount.id, GlAccount.code, GlAccount.name), GlAccount.id
    if kind == "gl_entities":
        return (
            select(GlEntity.id, GlEntity.code, GlEntity.name, Company.code).join(
                Company, Company.id == GlEntity.company_id
            ),
            GlEntity.id,
        )
    if kind == "inventory_groups":
        return (
            select(
                InventoryGroup.id,
                InventoryGroup.code,
                InventoryGroup.name,
                _InventoryAccount.code,
                _AdjustmentAccount.code,
                GlEntity.code,
            )
            .outerjoin(
                _InventoryAccount, _InventoryAccount.id == InventoryGroup.inventory_account_id
            )
            .outerjoin(
                _AdjustmentAccount, _AdjustmentAccount.id == InventoryGroup.adjustment_account_id
            )
            .outerjoin(GlEntity, GlEntity.id == InventoryGroup.gl_entity_id),
            InventoryGroup.id,
        )
    if kind == "locations":
        return (
            select(Location.id, Location.code, Location.name, Company.code, GlEntity.code)
            .join(Company, Company.id == Location.company_id)
            .outerjoin(GlEntity, GlEntity.id == Location.gl_entity_id),
            Location.id,
        )
    if kind == "bins":
        return (
            select(Bin.id, Location.code, Bin.label, Bin.kind, Bin.zone).join(
                Location, Location.id == Bin.location_id
            ),
            Bin.id,
        )
    if kind == "items":
        return (
            select(
                Item.id,
                Item.code,
                Item.name,
                Item.tracking,
                Item.auto_serialized,
                Item.uom,
                Item.last_cost,
                InventoryGroup.code,
                Item.count_mode,
            ).outerjoin(InventoryGroup, InventoryGroup.id == Item.inventory_group_id),
            Item.id,
        )
    if kind == "serials":
        return (
            select(
                Serial.id,
                Item.code,
                Serial.serial_number,
                func.coalesce(Location.code, ""),
                func.coalesce(Bin.label, ""),
                Serial.actual_cost,
            )
            .join(Item, Item.id == Serial.item_id)
            .outerjoin(Bin, Bin.id == Serial.bin_id)
            .outerjoin(Location, Location.id == Bin.location_id),
            Serial.id,
        )
    if kind == "reason_codes":
        r = ReasonCodeEntry
        return select(r.id, r.code, r.description, r.kinds, r.active), r.id
    raise ValueError(f"{kind} cannot be read one by one")


def _row(kind: str, values: Sequence[Any]) -> Row:
    if kind == "companies":
        return CompanyRow(values[0], values[1], bool(values[2]))
    if kind == "gl_accounts":
        return GlAccountRow(values[0], values[1])
    if kind == "gl_entities":
        return GlEntityRow(values[0], values[1], values[2])
    if kind == "inventory_groups":
        return InventoryGroupRow(*values)
    if kind == "locations":
        return LocationRow(*values)
    if kind == "bins":
        return BinRow(values[0], values[1], BinKind(values[2]), values[3])
    if kind == "items":
        return ItemRow(
            values[0],
            values[1],
            Tracking(values[2]),
            bool(values[3]),
            values[4],
            values[5],
            values[6],
            count_mode=CountMode(values[7]),
        )
    if kind == "reason_codes":
        return ReasonCodeRow(values[0], values[1], kinds_of(str(values[2])), bool(values[3]))
    return SerialRow(*values)


def _key_filter(kind: str, key: tuple[str, ...]) -> ColumnElement[bool]:
    if kind == "bins":
        return and_(Location.code == key[0], Bin.label == key[1])
    if kind == "serials":
        return and_(Item.code == key[0], Serial.serial_number == key[1])
    code: ColumnElement[str] = table(TABLE_OF[kind]).c.code
    return code == key[0]


def _filters(kind: str, filters: Mapping[str, str]) -> list[ColumnElement[bool]]:
    """The WHERE terms of a list's filters; the service has checked the names."""
    terms: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        if kind in ("gl_entities", "locations") and name == "company":
            terms.append(Company.code == value)
        elif kind == "bins" and name == "location":
            terms.append(Location.code == value)
        elif kind == "bins" and name == "kind":
            terms.append(Bin.kind == value)
        elif kind == "bins" and name == "zone":
            terms.append(Bin.zone == value)
        elif kind == "bins" and name == "label_prefix":
            terms.append(Bin.label.startswith(value, autoescape=True))
        elif kind == "items" and name == "tracking":
            terms.append(Item.tracking == value)
        elif kind == "items" and name == "inventory_group":
            terms.append(InventoryGroup.code == value)
        elif kind == "items" and name == "barcode":
            terms.append(
                Item.id.in_(select(ItemBarcode.item_id).where(ItemBarcode.barcode == value))
            )
        elif kind == "serials" and name in ("item", "location", "bin"):
            column = {"item": Item.code, "location": Location.code, "bin": Bin.label}[name]
            terms.append(column == value)
        else:
            raise ValueError(f"no filter {name!r} on {kind}")
    return terms


class SqlMasterData(MasterDataWrites):
    async def get(self, kind: str, key: tuple[str, ...]) -> Row | None:
        query, _ = _query(kind)
        found = (await self.session.execute(query.where(_key_filter(kind, key)))).first()
        if found is None:
            return None
        row = _row(kind, tuple(found)[1:])
        if isinstance(row, ItemRow):
            barcodes = await self._barcodes([int(found[0])])
            row = _with_barcodes(row, barcodes.get(int(found[0]), ()))
        return row

    async def page(
        self, kind: str, after: int, limit: int, filters: Mapping[str, str]
    ) -> Sequence[tuple[int, Row]]:
        query, id_column = _query(kind)
        query = query.where(id_column > after, *_filters(kind, filters))
        found = (await self.session.execute(query.order_by(id_column).limit(limit))).all()
        rows: list[tuple[int, Row]] = [(int(f[0]), _row(kind, tuple(f)[1:])) for f in found]
        if kind == "items" and rows:
            barcodes = await self._barcodes([id_ for id_, _ in rows])
            rows = [
                (id_, _with_barcodes(row, barcodes.get(id_, ())))  # type: ignore[arg-type]
                for id_, row in rows
            ]
        return rows

    async def records_by_key(
        self, kind: str, keys: Collection[tuple[str, ...]]
    ) -> dict[tuple[str, ...], Row]:
        """The stored records of these keys, as rows of the import format (codes)."""
        query, _ = _query(kind)
        dialect = self.session.get_bind().dialect.name
        found: dict[tuple[str, ...], Row] = {}
        item_ids: dict[int, tuple[str, ...]] = {}
        for batch in chunks(keys, LOOKUP_CHUNK):
            if kind in ("bins", "serials"):
                k = keys_table(dialect, "k", (("a", "TEXT"), ("b", "TEXT")), list(batch))
                if kind == "bins":
                    on = and_(Location.code == k.c.a, Bin.label == k.c.b)
                else:
                    on = and_(Item.code == k.c.a, Serial.serial_number == k.c.b)
                selected = query.join(k, on)
            else:
                code: ColumnElement[str] = table(TABLE_OF[kind]).c.code
                selected = query.where(code.in_([key[0] for key in batch]))
            for values in await self.session.execute(selected):
                row = _row(kind, tuple(values)[1:])
                found[key_of(kind, row)] = row
                if kind == "items":
                    item_ids[int(values[0])] = key_of(kind, row)
        barcodes: dict[int, tuple[str, ...]] = {}
        for ids in chunks(item_ids, LOOKUP_CHUNK):
            barcodes.update(await self._barcodes(ids))
        for item_id, key in item_ids.items():
            item = found[key]
            assert isinstance(item, ItemRow)
            found[key] = _with_barcodes(item, barcodes.get(item_id, ()))
        return found

    async def change_page(
        self, after: int, limit: int, filters: ChangeFilters
    ) -> Sequence[MasterDataChangeRecord]:
        c = MasterDataChange
        query = select(c).where(c.id > after)
        for column, value in (
            (c.kind, filters.kind),
            (c.code, filters.code),
            (c.parent_code, filters.parent_code),
            (c.import_id, filters.import_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if filters.since is not None:
            query = query.where(c.changed_at >= filters.since)
        rows = await self.session.scalars(query.order_by(c.id).limit(limit))
        return [
            MasterDataChangeRecord(
                kind=r.kind,
                code=r.code,
                parent_code=r.parent_code,
                field=r.field,
                old_value=r.old_value,
                new_value=r.new_value,
                changed_by=r.changed_by,
                changed_at=r.changed_at,
                import_id=r.import_id,
                source=r.source,
                id=r.id,
            )
            for r in rows
        ]

    async def _barcodes(self, item_ids: list[int]) -> dict[int, tuple[str, ...]]:
        rows = await self.session.execute(
            select(ItemBarcode.item_id, ItemBarcode.barcode)
            .where(ItemBarcode.item_id.in_(item_ids))
            .order_by(ItemBarcode.id)
        )
        found: defaultdict[int, list[str]] = defaultdict(list)
        for item_id, barcode in rows:
            found[int(item_id)].append(str(barcode))
        return {k: tuple(v) for k, v in found.items()}

    async def stock_page(
        self, after: tuple[int, int, str] | None, limit: int, filters: Mapping[str, str]
    ) -> Sequence[StockBalanceRecord]:
        """Untracked and lot items from stock_balance at the location's average cost;
        serialized ones counted per bin, at the average cost of their serials."""
        balance = table("stock_balance")
        serial = table("serial")
        serials_per_bin = (
            select(
                serial.c.item_id.label("item_id"),
                serial.c.bin_id.label("bin_id"),
                literal("").label("lot"),
                # Scaled like the quantity column, so both halves add up the same way.
                (func.count() * 10**QUANTITY_PLACES).label("quantity"),
            )
            .where(serial.c.bin_id.is_not(None))
            .group_by(serial.c.item_id, serial.c.bin_id)
        )
        balances = select(
            balance.c.item_id.label("item_id"),
            balance.c.bin_id.label("bin_id"),
            balance.c.lot.label("lot"),
            # The raw scaled integer, like the count above (scaled back below).
            type_coerce(balance.c.quantity, BigInteger).label("quantity"),
        )
        stock = union_all(balances, serials_per_bin).subquery("stock")
        cost = table("item_location_cost")
        query = (
            select(
                Item.code,
                Location.code,
                Bin.label,
                stock.c.lot,
                stock.c.quantity,
                cost.c.average_cost,
                stock.c.item_id,
                stock.c.bin_id,
                Item.tracking,
                Item.last_cost,
                Bin.location_id,
            )
            .select_from(stock)
            .join(Item, Item.id == stock.c.item_id)
            .join(Bin, Bin.id == stock.c.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .outerjoin(
                cost,
                and_(cost.c.item_id == stock.c.item_id, cost.c.location_id == Bin.location_id),
            )
        )
        for name, value in filters.items():
            column = {"item": Item.code, "location": Location.code, "bin": Bin.label}[name]
            query = query.where(column == value)
        if after is not None:
            query = query.where(
                tuple_(stock.c.item_id, stock.c.bin_id, stock.c.lot) > tuple_(*after)
            )
        query = query.order_by(stock.c.item_id, stock.c.bin_id, stock.c.lot).limit(limit)
        found = list(await self.session.execute(query))
        # Serialized items: the average of their serials on hand (server.domain.costing),
        # gathered for the page's items in one query.
        serialized = {int(r[6]): r[9] for r in found if r[8] == Tracking.SERIAL.value}
        serials = await serial_costs(self.session, list(serialized)) if serialized else {}
        records = []
        for item, location, label, lot, quantity, average, item_id, bin_id, _, _, loc in found:
            if int(item_id) in serialized:
                average = serialized_average_cost(
                    int(loc), serials.get(int(item_id), {}), serialized[int(item_id)]
                )
            records.append(
                StockBalanceRecord(
                    item=str(item),
                    location=str(location),
                    bin=str(label),
                    lot=str(lot),
                    quantity=Decimal(int(quantity)).scaleb(-QUANTITY_PLACES),
                    average_cost=Decimal(0) if average is None else average,
                    key=(int(item_id), int(bin_id), str(lot)),
                )
            )
        return records


def _with_barcodes(row: ItemRow, barcodes: tuple[str, ...]) -> ItemRow:
    return ItemRow(
        row.code,
        row.name,
        row.tracking,
        row.auto_serialized,
        row.uom,
        row.last_cost,
        row.inventory_group,
        barcodes,
        row.count_mode,
    )
