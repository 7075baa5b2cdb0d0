"""Set-based lookups and bulk writes of master data, for the importer.

Every lookup is one query per chunk of keys; every write is one executemany per chunk.
Serials, the only kind that comes by the million, skip SQLAlchemy's per-row type
processing: costs are scaled here and the rows go to the driver as plain tuples
(executemany on SQLite, COPY on PostgreSQL). bench/import_serials.py measures both.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.db.reasons import kinds_column, reason_code_values
from server.db.session import Session
from server.db.tables import (
    Base,
    Bin,
    Item,
    ItemBarcode,
    ItemLocationCost,
    MasterDataChange,
    Serial,
    StockBalance,
)
from server.domain.counting import ReasonCode
from server.domain.masterdata import Tracking
from server.domain.masterdata.imports import (
    BinRow,
    CompanyRow,
    GlAccountRow,
    GlEntityRow,
    InventoryGroupRow,
    ItemRow,
    LocationRow,
    ReasonCodeRow,
)
from server.domain.money import COST_PLACES
from server.ports import MasterDataChangeRecord, NewBalance, NewSerial, Progress

T = TypeVar("T")
LOOKUP_CHUNK = 5_000
WRITE_CHUNK = 20_000
SERIAL_CHUNK = 50_000

TABLE_OF = {
    "companies": "company",
    "gl_accounts": "gl_account",
    "gl_entities": "gl_entity",
    "inventory_groups": "inventory_group",
    "locations": "location",
    "items": "item",
    # The journal's coded master data (seed 004).
    "accounting_periods": "accounting_period",
    "price_levels": "price_level",
    "rate_schedules": "rate_schedule",
    "cost_categories": "cost_category",
    "jobs": "job",
    "equipment": "equipment",
    "work_orders": "work_order",
    # The reason codes of the review (server.db.reasons reads and changes them).
    "reason_codes": "reason_code",
}
# The tables of the kinds an update import updates.
_TABLE_OF_UPDATE = {**TABLE_OF, "bins": "bin", "serials": "serial"}
# The journal's other kinds: table, and the key columns of the kinds whose rows replace
# what is stored (an upsert); None: plain inserts.
JOURNAL_TABLES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "price_level_items": ("price_level_item", ("price_level_id", "item_id")),
    "cost_codes": ("cost_code", None),
    "cost_code_categories": ("cost_code_category", None),
    "item_journal": ("item_journal", ("item_id",)),
    "location_journal": ("location_journal", ("location_id",)),
    "inventory_group_journal": ("inventory_group_journal", ("inventory_group_id",)),
    "journal_settings": ("journal_settings", ("id",)),
}
_SERIAL_SQL = "INSERT INTO serial (item_id, serial_number, bin_id, actual_cost) VALUES (?, ?, ?, ?)"


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def chunks(values: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(values)
    while batch := list(islice(iterator, size)):
        yield batch


def keys_table(
    dialect: str, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]
) -> Any:
    """Rows of keys as a named table (a CTE), to join exact keys against a unique index.

    `item_id IN (...) AND serial_number IN (...)` lets SQLite probe every item with every
    number (seconds for 5,000 pairs of 1,000 items), a row-value IN list makes PostgreSQL
    compare every row with every pair, and a VALUES list costs SQLAlchemy a bound
    parameter object per value to build and compile (a second per 5,000 rows). Here the
    rows travel as one parameter per column (PostgreSQL: arrays to `unnest`) or one in
    all (SQLite: a JSON array read by `json_each`), and the join is one index probe per
    key on both. `columns` are (name, SQL type): BIGINT or TEXT."""
    names = [n for n, _ in columns]
    types: dict[str, Any] = {"BIGINT": BigInteger(), "TEXT": String()}
    # The SQL text is built from the caller's constant names and types, never from data:
    # data travels only as bound parameters.
    if not all(n.isidentifier() for n in [name, *names]) or any(t not in types for _, t in columns):
        raise ValueError(f"keys_table takes identifiers and BIGINT/TEXT columns: {columns!r}")
    if dialect == "postgresql":
        params: dict[str, Any] = {f"{name}_{i}": [r[i] for r in rows] for i in range(len(names))}
        arrays = ", ".join(f"CAST(:{name}_{i} AS {t}[])" for i, (_, t) in enumerate(columns))
        sql = f"SELECT * FROM unnest({arrays}) AS {name}_rows({', '.join(names)})"  # noqa: S608
    else:
        params = {f"{name}_json": json.dumps(rows)}
        picked = ", ".join(f"json_extract(value, '$[{i}]') AS {n}" for i, n in enumerate(names))
        sql = f"SELECT {picked} FROM json_each(:{name}_json)"  # noqa: S608
    return (
        text(sql).bindparams(**params).columns(*(column(n, types[t]) for n, t in columns)).cte(name)
    )


def scaled(value: Decimal, places: int) -> int:
    """The integer a ScaledDecimal column stores (the domain has checked the places)."""
    return int(value.scaleb(places))


class MasterDataWrites:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- lookups ---------------------------------------------------------------------

    async def ids_by_code(self, kind: str, codes: Collection[str]) -> dict[str, int]:
        t = table(TABLE_OF[kind])
        found: dict[str, int] = {}
        for batch in chunks(codes, LOOKUP_CHUNK):
            rows = await self.session.execute(select(t.c.code, t.c.id).where(t.c.code.in_(batch)))
            found.update((str(code), int(id_)) for code, id_ in rows)
        return found

    async def cost_code_ids(self, job_codes: Collection[str]) -> dict[tuple[str, str], int]:
        """(job code, cost code) -> cost code id, for the cost codes of these jobs."""
        job, cost_code = table("job"), table("cost_code")
        found: dict[tuple[str, str], int] = {}
        for batch in chunks(job_codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(job.c.code, cost_code.c.code, cost_code.c.id)
                .join(job, job.c.id == cost_code.c.job_id)
                .where(job.c.code.in_(batch))
            )
            found.update(((str(j), str(c)), int(i)) for j, c, i in rows)
        return found

    async def add_journal_rows(self, kind: str, rows: Sequence[Mapping[str, object]]) -> None:
        """Insert the rows of a journal kind (columns as given); attribute kinds upsert."""
        if kind in TABLE_OF:
            await self._insert(TABLE_OF[kind], [dict(r) for r in rows])
            return
        name, key = JOURNAL_TABLES[kind]
        values = [dict(r) for r in rows]
        if kind == "journal_settings":
            values = [{"id": 1, **v} for v in values]
        if key is None:
            await self._insert(name, values)
            return
        t = table(name)
        dialect = self.session.get_bind().dialect.name
        for batch in chunks(values, WRITE_CHUNK):
            stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(t)
            columns = [c for c in batch[0] if c not in key]
            stmt = stmt.on_conflict_do_update(
                index_elements=list(key),
                set_={c: stmt.excluded[c] for c in columns},
            )
            await self.session.execute(stmt, batch)

    async def items_by_code(self, codes: Collection[str]) -> dict[str, tuple[int, Tracking]]:
        found: dict[str, tuple[int, Tracking]] = {}
        for batch in chunks(codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, Item.id, Item.tracking).where(Item.code.in_(batch))
            )
            found.update((str(c), (int(i), Tracking(t))) for c, i, t in rows)
        return found

    async def bins_in(self, location_ids: Collection[int]) -> dict[tuple[int, str], int]:
        found: dict[tuple[int, str], int] = {}
        for batch in chunks(location_ids, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Bin.location_id, Bin.label, Bin.id).where(Bin.location_id.in_(batch))
            )
            found.update(((int(loc), str(label)), int(id_)) for loc, label, id_ in rows)
        return found

    async def barcode_owners(self, barcodes: Collection[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for batch in chunks(barcodes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(ItemBarcode.barcode, Item.code)
                .join(Item, Item.id == ItemBarcode.item_id)
                .where(ItemBarcode.barcode.in_(batch))
            )
            found.update((str(b), str(c)) for b, c in rows)
        return found

    async def serial_numbers_of(self, item_ids: Collection[int]) -> set[tuple[int, str]]:
        found: set[tuple[int, str]] = set()
        for batch in chunks(item_ids, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Serial.item_id, Serial.serial_number).where(Serial.item_id.in_(batch))
            )
            found.update((int(i), str(s)) for i, s in rows)
        return found

    async def balance_keys_of(self, item_ids: Collection[int]) -> set[tuple[int, int, str]]:
        found: set[tuple[int, int, str]] = set()
        for batch in chunks(item_ids, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(StockBalance.item_id, StockBalance.bin_id, StockBalance.lot).where(
                    StockBalance.item_id.in_(batch)
                )
            )
            found.update((int(i), int(b), str(lot)) for i, b, lot in rows)
        return found

    async def location_costs(
        self, item_ids: Collection[int]
    ) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
        """(item, location) -> (quantity on hand there, average cost), where a cost exists."""
        found: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
        for batch in chunks(item_ids, LOOKUP_CHUNK):
            on_hand = (
                select(
                    StockBalance.item_id.label("item_id"),
                    Bin.location_id.label("location_id"),
                    func.sum(StockBalance.quantity).label("quantity"),
                )
                .join(Bin, Bin.id == StockBalance.bin_id)
                .where(StockBalance.item_id.in_(batch))
                .group_by(StockBalance.item_id, Bin.location_id)
                .subquery()
            )
            rows = await self.session.execute(
                select(
                    ItemLocationCost.item_id,
                    ItemLocationCost.location_id,
                    on_hand.c.quantity,
                    ItemLocationCost.average_cost,
                )
                .outerjoin(
                    on_hand,
                    (on_hand.c.item_id == ItemLocationCost.item_id)
                    & (on_hand.c.location_id == ItemLocationCost.location_id),
                )
                .where(ItemLocationCost.item_id.in_(batch))
            )
            for item_id, location_id, quantity, average in rows:
                # SUM() keeps the column's type: the quantity comes back as a Decimal.
                qty = Decimal(0) if quantity is None else quantity
                found[(int(item_id), int(location_id))] = (qty, average)
        return found

    # -- updates (server.masterdata.usecases.updates) ----------------------------------

    async def lock_records(self, kind: str, ids: Collection[int]) -> None:
        """Hold the rows an update import will change until commit, before it reads them,
        so that a concurrent update of the same records waits and then reads what this one
        wrote (never both from the same old values). PostgreSQL: SELECT ... FOR UPDATE in
        id order (callers go kind by kind in one order: no deadlock). SQLite: a write,
        which takes the database's one write lock for the transaction (busy_timeout waits)."""
        if not ids:
            return
        t = table(_TABLE_OF_UPDATE[kind])
        ordered = sorted(ids)
        if self.session.get_bind().dialect.name == "postgresql":
            for batch in chunks(ordered, LOOKUP_CHUNK):
                await self.session.execute(
                    select(t.c.id).where(t.c.id.in_(batch)).order_by(t.c.id).with_for_update()
                )
            return
        # A column no foreign key refers to (setting the id would make SQLite scan the
        # tables that refer to it).
        same = t.c.code if "code" in t.c else t.c.label
        await self.session.execute(update(t).where(t.c.id == ordered[0]).values({same: same}))

    async def items_with_stock(self, item_ids: Collection[int]) -> set[int]:
        """The items that have a non-zero stock balance or any serial (in stock or not)."""
        found: set[int] = set()
        for batch in chunks(item_ids, LOOKUP_CHUNK):
            balances = select(StockBalance.item_id).where(
                StockBalance.item_id.in_(batch), StockBalance.quantity != Decimal(0)
            )
            serials = select(Serial.item_id).where(Serial.item_id.in_(batch))
            for query in (balances, serials):
                found.update(int(i) for i in await self.session.scalars(query.distinct()))
        return found

    async def update_records(
        self, kind: str, rows: Sequence[tuple[int, Mapping[str, object]]]
    ) -> None:
        """Set the given columns of records by id; every row gives the same columns."""
        if not rows:
            return
        t = table(_TABLE_OF_UPDATE[kind])
        columns = list(rows[0][1])
        if kind == "reason_codes" and "kinds" in columns:
            # A set of line kinds, stored as text (server.db.reasons).
            rows = [(id_, {**v, "kinds": kinds_column(v["kinds"])}) for id_, v in rows]
        stmt = (
            update(t)
            .where(t.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}", type_=t.c[c].type) for c in columns})
        )
        values = [{"b_id": id_, **{f"b_{c}": v[c] for c in columns}} for id_, v in rows]
        for batch in chunks(values, WRITE_CHUNK):
            await self.session.execute(stmt, batch)

    async def remove_barcodes(self, barcodes: Collection[str]) -> None:
        for batch in chunks(barcodes, LOOKUP_CHUNK):
            await self.session.execute(delete(ItemBarcode).where(ItemBarcode.barcode.in_(batch)))

    async def add_barcodes(self, rows: Sequence[tuple[int, str]]) -> None:
        values = [{"item_id": i, "barcode": b} for i, b in rows]
        for batch in chunks(values, WRITE_CHUNK):
            await self.session.execute(insert(table("item_barcode")), batch)

    async def add_changes(self, rows: Sequence[MasterDataChangeRecord]) -> None:
        values = [
            {
                "kind": r.kind,
                "code": r.code,
                "parent_code": r.parent_code,
                "field": r.field,
                "old_value": r.old_value,
                "new_value": r.new_value,
                "changed_by": r.changed_by,
                "changed_at": r.changed_at,
                "import_id": r.import_id,
                "source": r.source[:400],
            }
            for r in rows
        ]
        for batch in chunks(values, WRITE_CHUNK):
            await self.session.execute(insert(MasterDataChange), batch)

    # -- writes ----------------------------------------------------------------------

    async def _insert(self, name: str, rows: Sequence[dict[str, Any]]) -> None:
        # A plain executemany, then one select for the new ids: INSERT .. RETURNING with
        # many rows runs one statement per row on SQLite (to keep the order).
        for batch in chunks(rows, WRITE_CHUNK):
            await self.session.execute(insert(table(name)), batch)

    async def _add_coded(self, kind: str, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        await self._insert(TABLE_OF[kind], rows)
        return await self.ids_by_code(kind, [r["code"] for r in rows])

    async def add_reason_codes(self, rows: Sequence[ReasonCodeRow]) -> None:
        await self._insert(
            "reason_code",
            [
                reason_code_values(ReasonCode(r.code, r.description, r.kinds, r.active))
                for r in rows
            ],
        )

    async def add_companies(self, rows: Sequence[CompanyRow]) -> dict[str, int]:
        values = [{"code": r.code, "name": r.name, "intercompany": r.intercompany} for r in rows]
        return await self._add_coded("companies", values)

    async def add_gl_accounts(self, rows: Sequence[GlAccountRow]) -> dict[str, int]:
        return await self._add_coded(
            "gl_accounts", [{"code": r.code, "name": r.name} for r in rows]
        )

    async def add_gl_entities(self, rows: Sequence[tuple[GlEntityRow, int]]) -> dict[str, int]:
        values = [{"code": r.code, "name": r.name, "company_id": c} for r, c in rows]
        return await self._add_coded("gl_entities", values)

    async def add_inventory_groups(
        self, rows: Sequence[tuple[InventoryGroupRow, int | None, int | None, int | None]]
    ) -> dict[str, int]:
        values = [
            {
                "code": r.code,
                "name": r.name,
                "inventory_account_id": inv,
                "adjustment_account_id": adj,
                "gl_entity_id": ent,
            }
            for r, inv, adj, ent in rows
        ]
        return await self._add_coded("inventory_groups", values)

    async def add_locations(
        self, rows: Sequence[tuple[LocationRow, int, int | None]]
    ) -> dict[str, int]:
        values = [
            {"code": r.code, "name": r.name, "company_id": c, "gl_entity_id": e} for r, c, e in rows
        ]
        return await self._add_coded("locations", values)

    async def add_bins(self, rows: Sequence[tuple[BinRow, int]]) -> dict[tuple[int, str], int]:
        values = [
            {"location_id": loc, "label": r.label, "kind": r.kind.value, "zone": r.zone}
            for r, loc in rows
        ]
        await self._insert("bin", values)
        wanted = {(loc, r.label) for r, loc in rows}
        found = await self.bins_in({loc for _, loc in rows})
        return {key: id_ for key, id_ in found.items() if key in wanted}

    async def add_items(self, rows: Sequence[tuple[ItemRow, int | None]]) -> dict[str, int]:
        values = [
            {
                "code": r.code,
                "name": r.name,
                "tracking": r.tracking.value,
                "auto_serialized": r.auto_serialized,
                "uom": r.uom,
                "last_cost": r.last_cost,
                "inventory_group_id": group,
                "count_mode": r.count_mode.value,
            }
            for r, group in rows
        ]
        ids = await self._add_coded("items", values)
        barcodes = [{"item_id": ids[r.code], "barcode": b} for r, _ in rows for b in r.barcodes]
        for batch in chunks(barcodes, WRITE_CHUNK):
            await self.session.execute(insert(table("item_barcode")), batch)
        return ids

    async def add_serials(self, rows: Iterable[NewSerial], progress: Progress | None) -> int:
        conn = await self.session.connection()
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # COPY runs on the driver connection, inside the transaction SQLAlchemy began.
            await conn.exec_driver_sql("SELECT 1")
            raw = (await conn.get_raw_connection()).driver_connection
        done = 0
        for batch in chunks(rows, SERIAL_CHUNK):
            records = [(i, s, b, scaled(c, COST_PLACES)) for i, s, b, c in batch]
            if postgres:
                assert raw is not None
                await raw.copy_records_to_table(
                    "serial",
                    records=records,
                    columns=["item_id", "serial_number", "bin_id", "actual_cost"],
                )
            else:
                await conn.exec_driver_sql(_SERIAL_SQL, records)
            done += len(records)
            if progress is not None:
                progress(done)
        return done

    async def add_balances(self, rows: Sequence[NewBalance]) -> None:
        values = [{"item_id": i, "bin_id": b, "lot": lot, "quantity": q} for i, b, lot, q in rows]
        for batch in chunks(values, WRITE_CHUNK):
            await self.session.execute(insert(table("stock_balance")), batch)

    async def set_location_costs(self, costs: Mapping[tuple[int, int], Decimal]) -> None:
        existing: set[tuple[int, int]] = set()
        for batch in chunks(costs, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(ItemLocationCost.item_id, ItemLocationCost.location_id).where(
                    tuple_(ItemLocationCost.item_id, ItemLocationCost.location_id).in_(batch)
                )
            )
            existing.update((int(i), int(loc)) for i, loc in rows)
        new = [
            {"item_id": i, "location_id": loc, "average_cost": cost}
            for (i, loc), cost in costs.items()
            if (i, loc) not in existing
        ]
        for values in chunks(new, WRITE_CHUNK):
            await self.session.execute(insert(table("item_location_cost")), values)
        if existing:
            t = table("item_location_cost")
            await self.session.execute(
                update(t)
                .where(t.c.item_id == bindparam("b_item"), t.c.location_id == bindparam("b_loc"))
                .values(average_cost=bindparam("b_cost")),
                [{"b_item": i, "b_loc": loc, "b_cost": costs[(i, loc)]} for i, loc in existing],
            )
