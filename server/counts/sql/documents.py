"""The documents of a stock count (the CountDocuments port, server.counts.ports): what finalize
reads besides the reconciliation (GL accounts, stock positions, generated serial numbers
in use), the Quantity Adjustment and Stock Transfer documents it writes (UNIQUE per count
and kind) as the domain built them, and the documents read back later (their list, one
document, an export) with their lines and GL postings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    func,
    insert,
    select,
)
from sqlalchemy.orm import aliased

from server.counts.ports import CountRecord
from server.counts.sql.snapshot import raw
from server.counts.tables import CountDocument, CountDocumentLine, StockCount
from server.db.costing import serial_costs, serialized_average_costs
from server.db.session import Session
from server.db.tables import (
    Bin,
    GlAccount,
    GlEntity,
    GlPosting,
    InventoryGroup,
    Item,
    ItemLocationCost,
    Location,
    Serial,
    StockBalance,
    User,
)
from server.db.writes import LOOKUP_CHUNK, WRITE_CHUNK, chunks, table
from server.domain.counting import CountDocument as Document
from server.domain.counting import DocumentLine, GlSetup, ItemAccounts
from server.domain.masterdata import Tracking
from server.domain.money import QUANTITY_PLACES
from server.domain.posting import GlLine, Position, PositionKey
from server.ports import PostingIds


class SqlCountDocuments:
    """What finalize reads (GL setup, positions, serial numbers in use) and writes (the
    documents), and the documents read back."""

    def __init__(self, session: Session) -> None:
        self.session = session

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
        """On hand (balances plus serials in the location's bins) and average cost; a
        serialized item's is that of its serials on hand (server.domain.costing), so the
        average that finalize records after generating serials is theirs too.

        Three grouped queries per chunk of items (facts, balances summed, serials
        counted and their costs summed; a fourth reads the other locations' serials of a
        serialized item the location holds none of), each one pass over its table: a
        correlated count per item made PostgreSQL scan the serials once per item (minutes
        at a million serials)."""
        found: dict[PositionKey, Position] = {}
        conn = await self.session.connection()
        for batch in chunks(item_codes, LOOKUP_CHUNK):
            rows = list(await conn.execute(
                select(
                    Item.id, Item.code, ItemLocationCost.average_cost, Item.tracking,
                    Item.last_cost,
                )
                .outerjoin(
                    ItemLocationCost,
                    and_(
                        ItemLocationCost.item_id == Item.id,
                        ItemLocationCost.location_id == location_id,
                    ),
                )
                .where(Item.code.in_(batch))
            ))  # fmt: skip
            facts = {int(i): (str(code), average) for i, code, average, _, _ in rows}
            if not facts:
                continue
            serialized = {int(i): last for i, _, _, t, last in rows if t == Tracking.SERIAL.value}
            balances = await conn.execute(
                select(StockBalance.item_id, raw(func.sum(raw(StockBalance.quantity))))
                .join(Bin, Bin.id == StockBalance.bin_id)
                # `+ 0`: without table statistics SQLite otherwise walks every bin of the
                # location and probes each item in it (1.7 s at 10,000 bins x 1,200
                # items); this way it reads the items' balances and checks their bins.
                .where(Bin.location_id + 0 == location_id, StockBalance.item_id.in_(list(facts)))
                .group_by(StockBalance.item_id)
            )
            held = {int(i): int(q) for i, q in balances}
            serials = await serial_costs(self.session, list(facts), location_id)
            averages = (
                await serialized_average_costs(self.session, location_id, serialized, serials)
                if serialized
                else {}
            )
            for item_id, (code, average) in facts.items():
                on_hand = Decimal(held.get(item_id, 0)).scaleb(-QUANTITY_PLACES)
                here = serials.get(item_id, {}).get(location_id)
                on_hand += here.count if here is not None else 0
                average = averages.get(item_id, average)
                found[(code, location)] = Position(on_hand, average or Decimal(0))
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

    async def add_documents(
        self, count: CountRecord, user_id: int, documents: Sequence[Document], ids: PostingIds
    ) -> dict[str, int]:
        """The count's documents as the domain built them, their ids by kind; `ids` are
        the codes their postings resolved (`PostingPort.resolve`), so none is looked up
        again. The UNIQUE (count_id, kind) constraint refuses a second pair whatever the
        caller did."""

        def bin_id(label: str) -> int:
            return ids.bins[(count.location, label)]

        made: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for d in documents:
            doc_id = (
                await self.session.execute(
                    insert(CountDocument)
                    .values(
                        count_id=count.id,
                        kind=d.kind,
                        number=d.number,
                        location_id=count.location_id,
                        created_by=user_id,
                        created_at=d.created_at,
                        total_value=d.total_value,
                    )
                    .returning(CountDocument.id)
                )
            ).scalar_one()
            made[d.kind] = int(doc_id)
            rows += [
                {"document_id": doc_id, "line_no": x.line_no, "source_line_id": x.source_line_id,
                 "item_id": ids.items[x.item], "bin_id": bin_id(x.bin),
                 "from_bin_id": None if x.from_bin is None else bin_id(x.from_bin),
                 "lot": x.lot, "serial_number": x.serial, "generate_serials": x.generate_serials,
                 "adjustment_quantity": x.adjustment_quantity,
                 "stock_transfer_quantity": x.stock_transfer_quantity,
                 "adjustment_cost": x.adjustment_cost, "adjustment_value": x.adjustment_value,
                 "stock_transfer_value": x.stock_transfer_value}
                for x in d.lines
            ]  # fmt: skip
        for batch in chunks(rows, WRITE_CHUNK):
            await self.session.execute(insert(table("count_document_line")), batch)
        return made

    async def documents(self, count_id: int) -> Sequence[Document]:
        return await self._documents(CountDocument.count_id == count_id)

    async def document(self, kind: str, number: str) -> Document | None:
        found = await self._documents(
            and_(CountDocument.kind == kind, CountDocument.number == number)
        )
        return found[0] if found else None

    async def _documents(self, where: Any) -> list[Document]:
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
        lines: dict[int, list[DocumentLine]] = {i: [] for i in ids}
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
                DocumentLine(
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
        gl: dict[int, list[GlLine]] = {i: [] for i in ids}
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
                gl[int(doc_id)].append(GlLine(int(line_no), account, entity, amount))
        return [
            Document(
                str(h[1]), str(h[2]), str(h[3]), str(h[4]), str(h[5]), h[6], h[7],
                tuple(lines[int(h[0])]), tuple(gl[int(h[0])]),
            )
            for h in heads
        ]  # fmt: skip
