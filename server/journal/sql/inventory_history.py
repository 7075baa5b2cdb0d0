"""Inventory History: the stock movements of count finalize and the journal, as read.

One keyset page per query, in posting order (`stock_movement.id`). A location movement
of a journal line whose other side is at a job (Loc-to-Job, Job-to-Loc) carries that
job side's job, cost code, cost category and work order as references: they are read
from the job movement of the same document line (one outer join on the document's
index), so rows written before the references were shown have them too.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from server.db.session import Session
from server.db.tables import Bin, Item, Location, StockMovement
from server.domain.journal import TransactionType
from server.domain.posting import DocumentKind
from server.journal.ports import InventoryHistoryFilters, InventoryHistoryRecord
from server.journal.tables import JournalTransactionTable


async def inventory_history(
    session: Session, after: int, limit: int, filters: InventoryHistoryFilters
) -> list[InventoryHistoryRecord]:
    m = StockMovement
    job_side = aliased(StockMovement)
    job = func.coalesce(m.job, job_side.job)
    cost_code = func.coalesce(m.cost_code, job_side.cost_code)
    cost_category = func.coalesce(m.cost_category, job_side.cost_category)
    work_order = func.coalesce(m.work_order, job_side.work_order)
    journal = DocumentKind.JOURNAL_TRANSACTION.value
    query = (
        select(
            m.id,
            m.posting_date,
            m.posted_at,
            Item.code,
            Item.name,
            Item.uom,
            Location.code,
            Bin.label,
            m.job,
            job,
            cost_code,
            cost_category,
            work_order,
            m.quantity,
            m.unit_cost,
            m.value,
            m.document_kind,
            m.document_number,
            m.line_no,
            JournalTransactionTable.transaction_type,
            m.lot,
            m.serial_number,
        )
        .join(Item, Item.id == m.item_id)
        .outerjoin(Location, Location.id == m.location_id)
        .outerjoin(Bin, Bin.id == m.bin_id)
        .outerjoin(
            job_side,
            (job_side.document_kind == m.document_kind)
            & (job_side.document_id == m.document_id)
            & (job_side.line_no == m.line_no)
            & job_side.job.is_not(None)
            & m.job.is_(None),
        )
        .outerjoin(
            JournalTransactionTable,
            (JournalTransactionTable.id == m.document_id) & (m.document_kind == journal),
        )
        .where(m.id > after)
        .order_by(m.id)
        .limit(limit)
    )
    f = filters
    if f.item is not None:
        query = query.where(Item.code == f.item)
    if f.location is not None:
        query = query.where(Location.code == f.location)
    if f.bin is not None:
        query = query.where(Bin.label == f.bin)
    if f.job is not None:
        # Spelled per column, not on the COALESCE, so that the job index can serve it.
        query = query.where(or_(m.job == f.job, job_side.job == f.job))
    if f.work_order is not None:
        query = query.where(work_order == f.work_order)
    if f.source is not None:
        query = query.where(m.document_kind == f.source)
    if f.place == "location":
        query = query.where(m.job.is_(None))
    elif f.place == "job":
        query = query.where(m.job.is_not(None))
    if f.serial is not None:
        query = query.where(m.serial_number == f.serial)
    if f.date_from is not None:
        query = query.where(m.posting_date >= f.date_from)
    if f.date_to is not None:
        query = query.where(m.posting_date <= f.date_to)
    return [
        InventoryHistoryRecord(
            id=int(r[0]),
            date=r[1],
            posted_at=r[2],
            item=str(r[3]),
            item_name=str(r[4]),
            uom=str(r[5]),
            place="location" if r[8] is None else "job",
            location=r[6],
            bin=r[7],
            job=r[9],
            cost_code=r[10],
            cost_category=r[11],
            work_order=r[12],
            quantity=r[13],
            unit_cost=r[14],
            value=r[15],
            source=str(r[16]),
            source_number=str(r[17]),
            line_no=int(r[18]),
            transaction_type=TransactionType.of_record(r[19]) if r[16] == journal else None,
            lot=str(r[20]),
            serial=str(r[21]),
        )
        for r in await session.execute(query)
    ]
