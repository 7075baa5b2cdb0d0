"""The journal's repository: saved transactions (header, lines, sides), job history, and
the GL history listing per transaction (the seed's GLH tab).

A transaction's number (its Transaction Id) is made from its row id on save, so numbers
are unique across server processes without a counter row. Lines, sides and job history
are written with one executemany each; codes are resolved to ids once per kind. Sides
and job history are read back with explicit joins (no lazy loads).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.db.journal_facts import SqlJournalFacts, codes_of
from server.db.masterdata_write import WRITE_CHUNK, chunks
from server.db.models import (
    Bin,
    GlAccount,
    GlEntity,
    Item,
    Location,
    User,
)
from server.db.models_counts import GlPosting
from server.db.models_journal import (
    AccountingPeriod,
    CostCategory,
    CostCode,
    Equipment,
    Job,
    JobHistory,
    JournalLineRow,
    JournalLineSide,
    JournalTransactionRow,
    WorkOrder,
)
from server.domain.errors import Conflict
from server.domain.journal import (
    BillingRate,
    JobBilling,
    JobHistoryEntry,
    JournalFacts,
    JournalLine,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    TransactionType,
)
from server.domain.money import ZERO
from server.domain.posting import DocumentKind
from server.services.journal_ports import GlHistoryRow, JobHistoryRecord, StoredTransaction


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


async def _id_map(session: AsyncSession, code: Any, id_: Any, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = await session.execute(select(code, id_).where(code.in_(codes)))
    return {str(c): int(i) for c, i in rows}


async def _ids(session: AsyncSession, transaction: JournalTransaction) -> _Ids:
    sides = [side for line in transaction.lines for _, side in line.sides()]
    locations = codes_of(s.location for s in sides)
    jobs = codes_of(s.job for s in sides)
    bins: dict[tuple[str, str], int] = {}
    labels = codes_of(s.bin for s in sides)
    if locations and labels:
        rows = await session.execute(
            select(Location.code, Bin.label, Bin.id)
            .join(Location, Location.id == Bin.location_id)
            .where(Location.code.in_(locations), Bin.label.in_(labels))
        )
        bins = {(str(loc), str(label)): int(i) for loc, label, i in rows}
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

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(self, transaction: JournalTransaction) -> JournalFacts:
        return await SqlJournalFacts(self.session).load(transaction)

    async def add_transaction(
        self,
        transaction: JournalTransaction,
        user_id: int,
        now: datetime,
        reverses_id: int | None = None,
    ) -> tuple[int, str]:
        """Insert the header; the transaction id (its number) is made from the row id."""
        ids = await _id_map(
            self.session, AccountingPeriod.code, AccountingPeriod.id, codes_of([transaction.period])
        )
        row = JournalTransactionRow(
            number=f"new-{uuid.uuid4().hex[:28]}",  # replaced by IA-<id> below
            period_id=ids.get(transaction.period or ""),
            effective_date=transaction.effective_date,
            description=transaction.description,
            transaction_type=transaction.transaction_type.value,
            user_id=user_id,
            posted_at=now,
            reverses_id=reverses_id,
        )
        self.session.add(row)
        try:
            await self.session.flush()
        except IntegrityError:
            # reverses_id is unique: a concurrent reversal of the same transaction won.
            raise Conflict("the transaction is already reversed", code="already-reversed") from None
        number = f"IA-{row.id:08d}"
        await self.session.execute(
            update(JournalTransactionRow)
            .where(JournalTransactionRow.id == row.id)
            .values(number=number)
        )
        return row.id, number

    async def add_lines(self, transaction_id: int, transaction: JournalTransaction) -> None:
        ids = await _ids(self.session, transaction)
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
        for batch in chunks(lines, WRITE_CHUNK):
            await self.session.execute(insert(JournalLineRow), batch)
        line_ids = {
            int(no): int(i)
            for no, i in await self.session.execute(
                select(JournalLineRow.line_no, JournalLineRow.id).where(
                    JournalLineRow.transaction_id == transaction_id
                )
            )
        }
        sides = [
            _side_row(line_ids[x.line_no], name, side, ids)
            for x in transaction.lines
            for name, side in x.sides()
        ]
        for batch in chunks(sides, WRITE_CHUNK):
            await self.session.execute(insert(JournalLineSide), batch)

    async def add_job_history(
        self,
        transaction_id: int,
        transaction: JournalTransaction,
        entries: Iterable[JobHistoryEntry],
        now: datetime,
    ) -> None:
        ids = await _ids(self.session, transaction)
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
        reversed_tx = aliased(JournalTransactionRow)
        header = (
            await self.session.execute(
                select(
                    JournalTransactionRow.id,
                    JournalTransactionRow.number,
                    AccountingPeriod.code,
                    JournalTransactionRow.effective_date,
                    JournalTransactionRow.description,
                    JournalTransactionRow.transaction_type,
                    User.username,
                    JournalTransactionRow.posted_at,
                    reversed_tx.number,
                )
                .join(User, User.id == JournalTransactionRow.user_id)
                .outerjoin(AccountingPeriod, AccountingPeriod.id == JournalTransactionRow.period_id)
                .outerjoin(reversed_tx, reversed_tx.id == JournalTransactionRow.reverses_id)
                .where(JournalTransactionRow.number == number)
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
            select(JournalTransactionRow.number).where(JournalTransactionRow.reverses_id == tx_id)
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
                JournalLineRow.line_no,
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
            .join(JournalLineRow, JournalLineRow.id == s.line_id)
            .outerjoin(location, location.id == s.location_id)
            .outerjoin(bin_, bin_.id == s.bin_id)
            .outerjoin(job, job.id == s.job_id)
            .outerjoin(cost_code, cost_code.id == s.cost_code_id)
            .outerjoin(category, category.id == s.cost_category_id)
            .outerjoin(order, order.id == s.work_order_id)
            .outerjoin(equipment, equipment.id == s.equipment_id)
            .outerjoin(account, account.id == s.gl_account_id)
            .outerjoin(entity, entity.id == s.gl_entity_id)
            .where(JournalLineRow.transaction_id == transaction_id)
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
                JournalLineRow.line_no,
                Item.code,
                JournalLineRow.quantity,
                JournalLineRow.serial_number,
                JournalLineRow.lot,
                JournalLineRow.unit_cost,
                JournalLineRow.uom,
                JournalLineRow.burden_unit_cost,
                JournalLineRow.origin,
            )
            .join(Item, Item.id == JournalLineRow.item_id)
            .where(JournalLineRow.transaction_id == transaction_id)
            .order_by(JournalLineRow.line_no)
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

    async def gl_history(self, transaction_id: int) -> list[GlHistoryRow]:
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
            GlHistoryRow(
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


def _side_row(line_id: int, name: str, side: JournalSide, ids: _Ids) -> dict[str, Any]:
    billing = side.billing
    return {
        "line_id": line_id,
        "side": "from" if name == "from_side" else "to",
        "location_id": ids.locations.get(side.location),
        "bin_id": ids.bins.get((side.location, side.bin)) if side.bin else None,
        "job_id": ids.jobs.get(side.job),
        "cost_code_id": ids.cost_codes.get((side.job, side.cost_code)),
        "bill_item": side.bill_item,
        "cost_category_id": ids.categories.get(side.cost_category),
        "work_order_id": ids.work_orders.get(side.work_order),
        "equipment_id": ids.equipment.get(side.equipment),
        "gl_account_id": ids.accounts.get(side.account or ""),
        "gl_entity_id": ids.entities.get(side.entity or ""),
        "quantity_billable": billing.quantity_billable,
        "extra": billing.extra,
        "billing_rate": billing.billing_rate.value if billing.billing_rate else None,
        "revenue_rate": billing.revenue_rate,
        "unit_price": billing.unit_price,
        "amount_revenue": billing.amount_revenue,
        "use_tax_rate": billing.use_tax_rate,
    }
