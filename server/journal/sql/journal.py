"""The journal's repository: saved transactions (header, lines, sides), job history, and
the GL history listing per transaction (the seed's GLH tab).

A transaction's number (its Transaction Id) is made from its row id on save, so numbers
are unique across server processes without a counter row. Lines, sides and job history
are written with one executemany each (on SQLite through the driver itself,
server.db.direct); codes are resolved to ids once per kind. Sides
and job history are read back with explicit joins (no lazy loads).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from server.db.direct import (
    connection,
    executemany,
    fetchall,
    insert_returning,
    together,
    write_lock,
)
from server.db.ids import known_ids
from server.db.posting import batched_writes, register_combined
from server.db.session import Session
from server.db.tables import (
    Bin,
    GlAccount,
    GlEntity,
    GlPosting,
    Item,
    Location,
    Serial,
    StockBalance,
    User,
)
from server.db.writes import WRITE_CHUNK, chunks, table
from server.domain.errors import Conflict
from server.domain.journal import (
    BillingRate,
    JobBilling,
    JobCostRecord,
    JobHistoryEntry,
    JournalFacts,
    JournalLine,
    JournalSettings,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    StockRecord,
    TransactionType,
)
from server.domain.money import ZERO
from server.domain.posting import DocumentKind
from server.journal.ports import (
    GlHistoryRecord,
    InventoryHistoryFilters,
    InventoryHistoryRecord,
    JobHistoryRecord,
    StoredTransaction,
    TransactionFilters,
    TransactionSummaryRecord,
    WorkOrderCostRecord,
)
from server.journal.sql.facts import SqlJournalFacts, codes_of
from server.journal.sql.inventory_history import inventory_history
from server.journal.sql.masterdata import SqlJournalMasterData
from server.journal.tables import (
    AccountingPeriod,
    CostCategory,
    CostCode,
    Equipment,
    Job,
    JobHistory,
    JournalLineSide,
    JournalLineTable,
    JournalSettingsTable,
    JournalTransactionTable,
    WorkOrder,
)

# The quantities, costs and revenue of a job history line, in the order of the records'
# fields that follow their codes (JobHistoryRecord, WorkOrderCostRecord).
_JOB_AMOUNTS = (
    JobHistory.quantity,
    JobHistory.quantity_billable,
    JobHistory.unit_cost,
    JobHistory.burden,
    JobHistory.use_tax,
    JobHistory.material_cost,
    JobHistory.billing_rate,
    JobHistory.unit_price,
    JobHistory.amount_revenue,
    JobHistory.extra,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Ids:
    """Database ids of every code a transaction names, looked up once per kind."""

    period: dict[str, int]
    items: dict[str, int]
    locations: dict[str, int]
    bins: dict[tuple[str, str], int]
    jobs: dict[str, int]
    cost_codes: dict[tuple[str, str], int]
    categories: dict[str, int]
    work_orders: dict[str, int]
    equipment: dict[str, int]
    accounts: dict[str, int]
    entities: dict[str, int]


async def _id_map(session: Session, code: Any, id_: Any, codes: set[str]) -> dict[str, int]:
    """Ids by code. The transaction's known ids (server.db.ids: what its facts read) are
    used first and the codes not among them looked up and kept, so the lock, the header,
    the lines and the job history of a save look each code up once."""
    if not codes:
        return {}
    known = _known_of(session, str(code.class_.__tablename__))
    missing = codes - known.keys()
    if missing:
        rows = await session.execute(select(code, id_).where(code.in_(missing)))
        known.update((str(c), int(i)) for c, i in rows)
    return {c: known[c] for c in codes if c in known}


def _known_of(session: Session, table_name: str) -> dict[str, int]:
    known = known_ids(session)
    if table_name == "item":
        return known.items
    if table_name == "location":
        return known.locations
    return known.of(table_name)


async def _ids(session: Session, transaction: JournalTransaction) -> _Ids:
    sides = [side for line in transaction.lines for _, side in line.sides()]
    locations = codes_of(s.location for s in sides)
    jobs = codes_of(s.job for s in sides)
    known = known_ids(session).bins
    wanted = {(s.location, s.bin) for s in sides if s.location and s.bin}
    bins = {b: known[b] for b in wanted if b in known}
    missing = wanted - bins.keys()
    if missing:
        rows = await session.execute(
            select(Location.code, Bin.label, Bin.id)
            .join(Location, Location.id == Bin.location_id)
            .where(
                Location.code.in_({loc for loc, _ in missing}),
                Bin.label.in_({label for _, label in missing}),
            )
        )
        for loc, label, i in rows:
            bins[(str(loc), str(label))] = int(i)
    cost_codes: dict[tuple[str, str], int] = {}
    if jobs:
        rows = await session.execute(
            select(Job.code, CostCode.code, CostCode.id)
            .join(Job, Job.id == CostCode.job_id)
            .where(Job.code.in_(jobs))
        )
        cost_codes = {(str(j), str(c)): int(i) for j, c, i in rows}
    return _Ids(
        period=await _id_map(
            session, AccountingPeriod.code, AccountingPeriod.id, codes_of([transaction.period])
        ),
        items=await _id_map(
            session, Item.code, Item.id, codes_of(x.item for x in transaction.lines)
        ),
        locations=await _id_map(session, Location.code, Location.id, locations),
        bins=bins,
        jobs=await _id_map(session, Job.code, Job.id, jobs),
        cost_codes=cost_codes,
        categories=await _id_map(
            session, CostCategory.code, CostCategory.id, codes_of(s.cost_category for s in sides)
        ),
        work_orders=await _id_map(
            session, WorkOrder.code, WorkOrder.id, codes_of(s.work_order for s in sides)
        ),
        equipment=await _id_map(
            session, Equipment.code, Equipment.id, codes_of(s.equipment for s in sides)
        ),
        accounts=await _id_map(
            session, GlAccount.code, GlAccount.id, codes_of(s.account for s in sides)
        ),
        entities=await _id_map(
            session, GlEntity.code, GlEntity.id, codes_of(s.entity for s in sides)
        ),
    )


class SqlJournal:
    """The journal's repository: facts for the rules, and the saved transactions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.history = SqlJournalHistory(session)
        self._last_ids: tuple[JournalTransaction, _Ids] | None = None

    async def together(self, work: Callable[[], Awaitable[T]], *, commit: bool = False) -> T:
        """`await work()`; on SQLite, as one hand-over to the connection's thread, the
        COMMIT in it when asked for (server.db.direct.together)."""
        return await together(self.session, work, commit=commit)

    async def master_get(self, kind: str, key: tuple[str, ...]) -> dict[str, object] | None:
        return await SqlJournalMasterData(self.session).get(kind, key)

    async def master_page(
        self, kind: str, after: int, limit: int, job: str | None
    ) -> list[tuple[int, dict[str, object]]]:
        return await SqlJournalMasterData(self.session).page(kind, after, limit, job)

    async def facts(self, transaction: JournalTransaction) -> JournalFacts:
        return await SqlJournalFacts(self.session).load(transaction)

    async def settings(self) -> JournalSettings:
        return await SqlJournalFacts(self.session).settings()

    async def known_accounts(self, codes: Collection[str]) -> set[str]:
        return set(await _id_map(self.session, GlAccount.code, GlAccount.id, set(codes)))

    async def save_settings(self, settings: JournalSettings) -> None:
        """Write the one settings row (id 1), all of its fields."""
        accounts = await _id_map(
            self.session,
            GlAccount.code,
            GlAccount.id,
            codes_of([settings.burden_income_account, settings.use_tax_liability_account]),
        )
        values = {
            "serialized_additions_allowed": settings.serialized_additions_allowed,
            "wizard_defaults_quantity_billable": settings.wizard_defaults_quantity_billable,
            "burden_income_account_id": accounts.get(settings.burden_income_account or ""),
            "use_tax_liability_account_id": accounts.get(settings.use_tax_liability_account or ""),
        }
        dialect = self.session.get_bind().dialect.name
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(JournalSettingsTable)
        await self.session.execute(
            stmt.values(id=1, **values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def add_transaction(
        self,
        transaction: JournalTransaction,
        user_id: int,
        now: datetime,
        reverses_id: int | None = None,
    ) -> tuple[int, str]:
        """Insert the header; the transaction id (its number, IA-<id>) is made from the
        row id in the same statement: the id is the sequence's next value on PostgreSQL,
        and one more than the largest on SQLite, whose one writer holds the database (the
        statement is a write: it runs under the write lock, reading the latest)."""
        ids = await _id_map(
            self.session, AccountingPeriod.code, AccountingPeriod.id, codes_of([transaction.period])
        )
        conn = await connection(self.session)
        try:
            [(tx_id, number)] = await fetchall(
                conn,
                _ADD_HEADER_PG if conn.dialect.name == "postgresql" else _ADD_HEADER_SQLITE,
                {
                    "h_period_id": ids.get(transaction.period or ""),
                    "h_effective_date": transaction.effective_date,
                    "h_description": transaction.description,
                    "h_transaction_type": transaction.transaction_type.value,
                    "h_user_id": user_id,
                    "h_posted_at": now,
                    "h_reverses_id": reverses_id,
                },
            )
        except IntegrityError:
            # reverses_id is unique: a concurrent reversal of the same transaction won.
            raise Conflict("the transaction is already reversed", code="already-reversed") from None
        return int(tx_id), str(number)

    async def _ids_of(self, transaction: JournalTransaction) -> _Ids:
        """The ids a saved transaction names, looked up once for its lines and history."""
        if self._last_ids is None or self._last_ids[0] is not transaction:
            self._last_ids = (transaction, await _ids(self.session, transaction))
        return self._last_ids[1]

    async def add_lines(self, transaction_id: int, transaction: JournalTransaction) -> None:
        ids = await self._ids_of(transaction)
        lines = [
            {
                "transaction_id": transaction_id,
                "line_no": x.line_no,
                "item_id": ids.items[x.item],
                "serial_number": x.serial,
                "lot": x.lot,
                "quantity": x.quantity,
                "unit_cost": x.unit_cost,
                "uom": x.uom or "",
                "burden_unit_cost": x.burden_unit_cost or ZERO,
                "origin": x.origin.value,
            }
            for x in transaction.lines
        ]
        # The new lines' ids come back with the INSERT (one multi-row statement per chunk).
        conn = await connection(self.session)
        line_ids: dict[int, int] = {}
        for batch in chunks(lines, WRITE_CHUNK):
            rows = await insert_returning(conn, _ADD_LINES, batch)
            line_ids.update((int(no), int(i)) for no, i in rows)
        sides = [
            _side_row(line_ids[x.line_no], name, side, ids)
            for x in transaction.lines
            for name, side in x.sides()
        ]
        # PostgreSQL: one INSERT ... SELECT FROM unnest, not an executemany (server.db.posting)
        writes = batched_writes(conn)
        for part in chunks(sides, WRITE_CHUNK):
            await writes.add_tuples(_ADD_SIDES, _SIDE_KEYS, part)
        await writes.flush()

    async def add_job_history(
        self,
        transaction_id: int,
        transaction: JournalTransaction,
        entries: Iterable[JobHistoryEntry],
        now: datetime,
    ) -> None:
        entries = list(entries)
        if not entries:
            return
        ids = await self._ids_of(transaction)
        rows = [
            {
                "transaction_id": transaction_id,
                "line_no": e.line_no,
                "side": "from" if e.side == "from_side" else "to",
                "effective_date": transaction.effective_date,
                "job_id": ids.jobs[e.job],
                "cost_code_id": ids.cost_codes[(e.job, e.cost_code)],
                "cost_category_id": ids.categories[e.cost_category],
                "bill_item": e.bill_item,
                "work_order_id": ids.work_orders.get(e.work_order),
                "equipment_id": ids.equipment.get(e.equipment),
                "item_id": ids.items[e.item],
                "lot": e.lot,
                "serial_number": e.serial,
                "quantity": e.quantity,
                "quantity_billable": e.quantity_billable,
                "unit_cost": e.unit_cost,
                "burden_unit_cost": e.burden_unit_cost,
                "burden": e.burden,
                "use_tax": e.use_tax,
                "material_cost": e.material_cost,
                "billing_rate": e.billing_rate.value if e.billing_rate else None,
                "revenue_rate": e.revenue_rate,
                "unit_price": e.unit_price,
                "amount_revenue": e.amount_revenue,
                "extra": e.extra,
                "posted_at": now,
            }
            for e in entries
        ]
        for batch in chunks(rows, WRITE_CHUNK):
            await self.session.execute(insert(JobHistory), batch)

    async def get(self, number: str) -> StoredTransaction | None:
        reversed_tx = aliased(JournalTransactionTable)
        header = (
            await self.session.execute(
                select(
                    JournalTransactionTable.id,
                    JournalTransactionTable.number,
                    AccountingPeriod.code,
                    JournalTransactionTable.effective_date,
                    JournalTransactionTable.description,
                    JournalTransactionTable.transaction_type,
                    User.username,
                    JournalTransactionTable.posted_at,
                    reversed_tx.number,
                )
                .join(User, User.id == JournalTransactionTable.user_id)
                .outerjoin(
                    AccountingPeriod, AccountingPeriod.id == JournalTransactionTable.period_id
                )
                .outerjoin(reversed_tx, reversed_tx.id == JournalTransactionTable.reverses_id)
                .where(JournalTransactionTable.number == number)
            )
        ).first()
        if header is None:
            return None
        tx_id = int(header[0])
        lines = await self._lines(tx_id)
        transaction = JournalTransaction(
            effective_date=header[3],
            transaction_type=TransactionType.of_record(header[5]),
            lines=lines,
            period=header[2],
            description=header[4],
            transaction_id=header[1],
            user_id=header[6],
            date_posted=header[7],
        )
        reversal = await self.session.scalar(
            select(JournalTransactionTable.number).where(
                JournalTransactionTable.reverses_id == tx_id
            )
        )
        return StoredTransaction(tx_id, header[8], reversal, transaction)

    async def _lines(self, transaction_id: int) -> tuple[JournalLine, ...]:
        location, bin_, job = aliased(Location), aliased(Bin), aliased(Job)
        cost_code, category = aliased(CostCode), aliased(CostCategory)
        order, equipment = aliased(WorkOrder), aliased(Equipment)
        account, entity = aliased(GlAccount), aliased(GlEntity)
        s = JournalLineSide
        rows = await self.session.execute(
            select(
                JournalLineTable.line_no,
                s.side,
                location.code,
                bin_.label,
                job.code,
                cost_code.code,
                s.bill_item,
                category.code,
                order.code,
                equipment.code,
                account.code,
                entity.code,
                s.quantity_billable,
                s.extra,
                s.billing_rate,
                s.revenue_rate,
                s.unit_price,
                s.amount_revenue,
                s.use_tax_rate,
            )
            .join(JournalLineTable, JournalLineTable.id == s.line_id)
            .outerjoin(location, location.id == s.location_id)
            .outerjoin(bin_, bin_.id == s.bin_id)
            .outerjoin(job, job.id == s.job_id)
            .outerjoin(cost_code, cost_code.id == s.cost_code_id)
            .outerjoin(category, category.id == s.cost_category_id)
            .outerjoin(order, order.id == s.work_order_id)
            .outerjoin(equipment, equipment.id == s.equipment_id)
            .outerjoin(account, account.id == s.gl_account_id)
            .outerjoin(entity, entity.id == s.gl_entity_id)
            .where(JournalLineTable.transaction_id == transaction_id)
        )
        sides: dict[tuple[int, str], JournalSide] = {}
        for r in rows:
            billing = JobBilling(
                quantity_billable=r[12],
                extra=bool(r[13]),
                billing_rate=BillingRate(r[14]) if r[14] else None,
                revenue_rate=r[15],
                unit_price=r[16],
                amount_revenue=r[17],
                use_tax_rate=r[18],
            )
            sides[(int(r[0]), str(r[1]))] = JournalSide(
                location=r[2] or "",
                bin=r[3],
                job=r[4] or "",
                cost_code=r[5] or "",
                bill_item=r[6],
                cost_category=r[7] or "",
                work_order=r[8] or "",
                equipment=r[9] or "",
                gl_account=r[10] or "",  # a blank stays blank when read back
                gl_entity=r[11] or "",
                billing=billing,
            )
        items = await self.session.execute(
            select(
                JournalLineTable.line_no,
                Item.code,
                JournalLineTable.quantity,
                JournalLineTable.serial_number,
                JournalLineTable.lot,
                JournalLineTable.unit_cost,
                JournalLineTable.uom,
                JournalLineTable.burden_unit_cost,
                JournalLineTable.origin,
            )
            .join(Item, Item.id == JournalLineTable.item_id)
            .where(JournalLineTable.transaction_id == transaction_id)
            .order_by(JournalLineTable.line_no)
        )
        return tuple(
            JournalLine(
                line_no=int(no),
                item=str(item),
                quantity=quantity,
                from_side=sides[(int(no), "from")],
                to_side=sides.get((int(no), "to")),
                serial=serial,
                lot=lot,
                unit_cost=unit_cost,
                uom=uom,
                burden_unit_cost=burden,
                origin=LineOrigin(origin),
            )
            for no, item, quantity, serial, lot, unit_cost, uom, burden, origin in items
        )

    async def gl_history(self, transaction_id: int) -> list[GlHistoryRecord]:
        rows = await self.session.execute(
            select(
                GlPosting.account_code,
                GlAccount.name,
                GlPosting.entity_code,
                GlPosting.period,
                GlPosting.company_code,
                GlPosting.intercompany,
                GlPosting.journal_name,
                GlPosting.document_number,
                GlPosting.posting_date,
                GlPosting.line_no,
                GlPosting.amount,
            )
            .outerjoin(GlAccount, GlAccount.code == GlPosting.account_code)
            .where(
                GlPosting.document_kind == DocumentKind.JOURNAL_TRANSACTION.value,
                GlPosting.document_id == transaction_id,
            )
            .order_by(GlPosting.id)
        )
        return [
            GlHistoryRecord(
                str(a), str(name or ""), e, p, c, bool(ic), str(j), str(n), d, int(no), amount
            )
            for a, name, e, p, c, ic, j, n, d, no, amount in rows
        ]

    async def job_history(self, transaction_id: int) -> list[JobHistoryRecord]:
        order, equipment = aliased(WorkOrder), aliased(Equipment)
        rows = await self.session.execute(
            select(
                JobHistory.line_no,
                JobHistory.side,
                Job.code,
                CostCode.code,
                CostCategory.code,
                order.code,
                equipment.code,
                Item.code,
                *_JOB_AMOUNTS,
            )
            .join(Job, Job.id == JobHistory.job_id)
            .join(CostCode, CostCode.id == JobHistory.cost_code_id)
            .join(CostCategory, CostCategory.id == JobHistory.cost_category_id)
            .join(Item, Item.id == JobHistory.item_id)
            .outerjoin(order, order.id == JobHistory.work_order_id)
            .outerjoin(equipment, equipment.id == JobHistory.equipment_id)
            .where(JobHistory.transaction_id == transaction_id)
            .order_by(JobHistory.id)
        )
        return [JobHistoryRecord(*tuple(r)) for r in rows]


# The columns of a side's row, in the order `_side_row` gives them.
_SIDE_KEYS = (
    "line_id", "side", "location_id", "bin_id", "job_id", "cost_code_id", "bill_item",
    "cost_category_id", "work_order_id", "equipment_id", "gl_account_id", "gl_entity_id",
    "quantity_billable", "extra", "billing_rate", "revenue_rate", "unit_price",
    "amount_revenue", "use_tax_rate",
)  # fmt: skip


def _side_row(line_id: int, name: str, side: JournalSide, ids: _Ids) -> tuple[Any, ...]:
    billing = side.billing
    return (
        line_id,
        "from" if name == "from_side" else "to",
        ids.locations.get(side.location),
        ids.bins.get((side.location, side.bin)) if side.bin else None,
        ids.jobs.get(side.job),
        ids.cost_codes.get((side.job, side.cost_code)),
        side.bill_item,
        ids.categories.get(side.cost_category),
        ids.work_orders.get(side.work_order),
        ids.equipment.get(side.equipment),
        ids.accounts.get(side.account or ""),
        ids.entities.get(side.entity or ""),
        billing.quantity_billable,
        billing.extra,
        billing.billing_rate.value if billing.billing_rate else None,
        billing.revenue_rate,
        billing.unit_price,
        billing.amount_revenue,
        billing.use_tax_rate,
    )


class SqlJournalHistory:
    """Job history as the wizards and Get Costs read it, stock of a location, the list
    of transactions, Inventory History, and the row locks on average costs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _history(self) -> Any:
        order, equipment = aliased(WorkOrder), aliased(Equipment)
        side = aliased(JournalLineSide)
        return (
            select(
                Job.code,
                CostCode.code,
                CostCategory.code,
                Item.code,
                JobHistory.quantity,
                JobHistory.unit_cost,  # with burden: taken off below
                JobHistory.bill_item,
                order.code,
                equipment.code,
                JobHistory.lot,
                JobHistory.serial_number,
                JobHistory.burden_unit_cost,
                side.use_tax_rate,
                JobHistory.billing_rate,
                JobHistory.revenue_rate,
                JobHistory.unit_price,
                JobHistory.extra,
            )
            .join(Job, Job.id == JobHistory.job_id)
            .join(CostCode, CostCode.id == JobHistory.cost_code_id)
            .join(CostCategory, CostCategory.id == JobHistory.cost_category_id)
            .join(Item, Item.id == JobHistory.item_id)
            .outerjoin(order, order.id == JobHistory.work_order_id)
            .outerjoin(equipment, equipment.id == JobHistory.equipment_id)
            .join(
                JournalLineTable,
                (JournalLineTable.transaction_id == JobHistory.transaction_id)
                & (JournalLineTable.line_no == JobHistory.line_no),
            )
            .join(side, (side.line_id == JournalLineTable.id) & (side.side == JobHistory.side))
            .order_by(JobHistory.id)
        )

    async def job_cost_rows(self, jobs: Collection[str]) -> list[JobCostRecord]:
        if not jobs:
            return []
        rows = await self.session.execute(self._history().where(Job.code.in_(jobs)))
        return [
            JobCostRecord(
                job=str(r[0]),
                cost_code=str(r[1]),
                cost_category=str(r[2]),
                item=str(r[3]),
                quantity=r[4],
                unit_cost=r[5] - r[11],
                bill_item=str(r[6]),
                work_order=r[7] or "",
                equipment=r[8] or "",
                lot=str(r[9]),
                serial=str(r[10]),
                burden_unit_cost=r[11],
                use_tax_rate=r[12] if r[12] is not None else ZERO,
                billing_rate=BillingRate(r[13]) if r[13] else None,
                revenue_rate=r[14],
                unit_price=r[15],
                extra=bool(r[16]),
            )
            for r in rows
        ]

    async def work_order_costs(self, code: str) -> tuple[str, list[WorkOrderCostRecord]] | None:
        job = await self.session.scalar(
            select(Job.code)
            .join(WorkOrder, WorkOrder.job_id == Job.id)
            .where(WorkOrder.code == code)
        )
        if job is None:
            return None
        equipment = aliased(Equipment)
        rows = await self.session.execute(
            select(
                JournalTransactionTable.number,
                JobHistory.effective_date,
                JobHistory.line_no,
                Item.code,
                JobHistory.lot,
                JobHistory.serial_number,
                CostCode.code,
                CostCategory.code,
                equipment.code,
                *_JOB_AMOUNTS,
            )
            .join(JournalTransactionTable, JournalTransactionTable.id == JobHistory.transaction_id)
            .join(WorkOrder, WorkOrder.id == JobHistory.work_order_id)
            .join(Item, Item.id == JobHistory.item_id)
            .join(CostCode, CostCode.id == JobHistory.cost_code_id)
            .join(CostCategory, CostCategory.id == JobHistory.cost_category_id)
            .outerjoin(equipment, equipment.id == JobHistory.equipment_id)
            .where(WorkOrder.code == code)
            .order_by(JobHistory.id)
        )
        return str(job), [WorkOrderCostRecord(*tuple(r)) for r in rows]

    async def stock_rows(self, location: str) -> list[StockRecord]:
        """Every balance (per bin and lot) and every serial in stock at a location."""
        balances = await self.session.execute(
            select(Item.code, Bin.label, StockBalance.quantity, StockBalance.lot)
            .join(Item, Item.id == StockBalance.item_id)
            .join(Bin, Bin.id == StockBalance.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .where(Location.code == location, Item.tracking != "serial")
        )
        serials = await self.session.execute(
            select(Item.code, Bin.label, Serial.serial_number)
            .join(Item, Item.id == Serial.item_id)
            .join(Bin, Bin.id == Serial.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .where(Location.code == location)
        )
        found = [StockRecord(str(i), str(b), q, lot=str(lot)) for i, b, q, lot in balances]
        found += [StockRecord(str(i), str(b), Decimal(1), serial=str(s)) for i, b, s in serials]
        return found

    async def lock_costs(self, keys: Collection[tuple[str, str]]) -> None:
        """Lock the average cost rows of these (item, location) pairs until commit, so a
        concurrent save of the same pairs waits and then reads the figures this one wrote.

        PostgreSQL: one statement, by codes (the pairs travel as two parameters): the
        rows are created when missing (zero cost, as if absent), so that there is a row
        to lock, and the existing rows are "updated" to themselves (ON CONFLICT DO UPDATE
        locks each row as FOR UPDATE would), in key order (no deadlock between two saves);
        a row another save is inserting waits for it. SQLite locks the database, not
        rows: `BEGIN IMMEDIATE` takes its write lock before anything is read (writers
        are serialised; busy_timeout waits), and every read of this save comes after it,
        inside the same transaction (server.db.direct.write_lock). On a connection that
        cannot send it (the blocking writer's), an INSERT of the missing rows is the
        transaction's first write and takes the lock instead. Pairs locked once stay
        locked until commit: locking them again in the same transaction sends nothing.
        """
        locked: set[tuple[str, str]] = self.session.info.setdefault("journal_locked_costs", set())
        pairs = sorted(set(keys) - locked)
        if not pairs:
            return  # locked already in this transaction
        conn = await connection(self.session)
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            params: dict[str, Any] = {
                "items": [i for i, _ in pairs],
                "locations": [loc for _, loc in pairs],
            }
            await conn.execute(_LOCK_COSTS_PG, params)
        elif not await write_lock(conn):
            await executemany(conn, _LOCK_COSTS_SQLITE, [{"pairs": json.dumps(pairs)}])
        locked.update(pairs)

    async def inventory_history(
        self, after: int, limit: int, filters: InventoryHistoryFilters
    ) -> list[InventoryHistoryRecord]:
        return await inventory_history(self.session, after, limit, filters)

    async def page(
        self, after: int, limit: int, filters: TransactionFilters
    ) -> list[TransactionSummaryRecord]:
        t = JournalTransactionTable
        reversed_tx = aliased(JournalTransactionTable)
        lines = (
            select(func.count())
            .select_from(JournalLineTable)
            .where(JournalLineTable.transaction_id == t.id)
            .scalar_subquery()
        )
        query = (
            select(
                t.id,
                t.number,
                t.effective_date,
                t.transaction_type,
                User.username,
                t.posted_at,
                lines,
                AccountingPeriod.code,
                t.description,
                reversed_tx.number,
            )
            .join(User, User.id == t.user_id)
            .outerjoin(AccountingPeriod, AccountingPeriod.id == t.period_id)
            .outerjoin(reversed_tx, reversed_tx.id == t.reverses_id)
            .where(t.id > after)
            .order_by(t.id)
            .limit(limit)
        )
        if filters.period is not None:
            query = query.where(AccountingPeriod.code == filters.period)
        if filters.transaction_type is not None:
            if filters.transaction_type == TransactionType.ADJUSTMENT.value:
                # Records from before the type existed read as Adjustment.
                query = query.where(
                    (t.transaction_type == "adjustment") | t.transaction_type.is_(None)
                )
            else:
                query = query.where(t.transaction_type == filters.transaction_type)
        if filters.date_from is not None:
            query = query.where(t.effective_date >= filters.date_from)
        if filters.date_to is not None:
            query = query.where(t.effective_date <= filters.date_to)
        if filters.item is not None:
            query = query.where(
                exists()
                .where(JournalLineTable.transaction_id == t.id)
                .where(JournalLineTable.item_id == Item.id)
                .where(Item.code == filters.item)
            )
        return [
            TransactionSummaryRecord(
                id=int(r[0]),
                number=str(r[1]),
                effective_date=r[2],
                transaction_type=TransactionType.of_record(r[3]),
                user=str(r[4]),
                date_posted=r[5],
                line_count=int(r[6]),
                period=r[7],
                description=str(r[8]),
                reverses=r[9],
            )
            for r in await self.session.execute(query)
        ]


# The statements of a save, built once: each execution reuses their compiled form.
_header = table("journal_transaction")
_HEADER_VALUES = ("period_id", "effective_date", "description", "transaction_type", "user_id",
                  "posted_at", "reverses_id")  # fmt: skip


def _add_header(next_id: Any, number: Any) -> Any:
    """INSERT ... SELECT of the header with its id and number made in the statement."""
    n = select(next_id.label("id")).subquery("n")
    values = [bindparam(f"h_{c}", type_=_header.c[c].type) for c in _HEADER_VALUES]
    return (
        insert(_header)
        .from_select(["id", "number", *_HEADER_VALUES], select(n.c.id, number(n.c.id), *values))
        .returning(_header.c.id, _header.c.number)
    )


_ADD_HEADER_SQLITE = _add_header(
    select(func.coalesce(func.max(_header.c.id), 0) + 1).scalar_subquery(),
    lambda id_: literal("IA-") + func.printf("%08d", id_),
)
# The number as Python writes f"IA-{id:08d}": at least eight digits, never cut.
_ADD_HEADER_PG = _add_header(
    func.nextval(func.pg_get_serial_sequence("journal_transaction", "id")),
    lambda id_: (
        literal("IA-")
        + case((id_ < 100_000_000, func.lpad(cast(id_, String), 8, "0")), else_=cast(id_, String))
    ),
)
_lines = table("journal_line")
_ADD_LINES = insert(_lines).returning(_lines.c.line_no, _lines.c.id)
_ADD_SIDES = insert(table("journal_line_side"))
register_combined(_ADD_SIDES, "journal_line_side")
# The pairs' codes joined to the ids (the unique code indexes): only the exact pairs.
_LOCK_COSTS_PG = text(
    "INSERT INTO item_location_cost (item_id, location_id, average_cost) "
    "SELECT item.id, location.id, 0 "
    "FROM unnest(CAST(:items AS TEXT[]), CAST(:locations AS TEXT[])) AS k(item, location) "
    "JOIN item ON item.code = k.item JOIN location ON location.code = k.location "
    "ORDER BY item.id, location.id "
    "ON CONFLICT (item_id, location_id) "
    "DO UPDATE SET average_cost = item_location_cost.average_cost"
)
# WHERE true: without a WHERE, SQLite would read ON CONFLICT as the join's ON.
_LOCK_COSTS_SQLITE = text(
    "INSERT INTO item_location_cost (item_id, location_id, average_cost) "
    "SELECT item.id, location.id, 0 FROM json_each(:pairs) AS k "
    "JOIN item ON item.code = json_extract(k.value, '$[0]') "
    "JOIN location ON location.code = json_extract(k.value, '$[1]') "
    "WHERE true ORDER BY item.id, location.id "
    "ON CONFLICT (item_id, location_id) DO NOTHING"
)
