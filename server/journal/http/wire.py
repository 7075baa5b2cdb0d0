"""The journal's one mapping between the wire (`schemas.journal`) and its domain types.

Every controller of the journal (transactions, wizards, settings, master data, Inventory
History) turns its request bodies into domain values here, and its results into wire
structs here; the use cases never see a wire struct. Where a domain type and its wire
struct have the same shape, `msgspec.convert(..., from_attributes=True)` maps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

import msgspec
from msgspec import UNSET

from schemas import journal as wire
from schemas.common import FieldProblem
from server.api.wire import plain
from server.domain import journal as domain
from server.domain.money import ZERO
from server.journal.ports import (
    GlHistoryRecord,
    InventoryHistoryRecord,
    JobHistoryRecord,
    MasterRecord,
    StoredTransaction,
    TransactionSummaryRecord,
    WorkOrderCostRecord,
)

S = TypeVar("S", bound=msgspec.Struct)

_RATES: dict[str, wire.BillingRate] = {"unit_price": "unit_price", "markup": "markup"}


def _dec(value: Decimal | None) -> Decimal | None:
    return None if value is None else plain(value)


def _billing_in(billing: wire.JobBilling | None) -> domain.JobBilling:
    if billing is None:
        return domain.JobBilling()
    return domain.JobBilling(
        quantity_billable=billing.quantity_billable,
        extra=billing.extra,
        billing_rate=domain.BillingRate(billing.billing_rate) if billing.billing_rate else None,
        revenue_rate=billing.revenue_rate,
        unit_price=billing.unit_price,
        amount_revenue=billing.amount_revenue,
        use_tax_rate=billing.use_tax_rate,
    )


def _side_in(side: wire.JournalSide) -> domain.JournalSide:
    return domain.JournalSide(
        location=side.location.strip(),
        bin=side.bin,
        job=side.job.strip(),
        cost_code=side.cost_code.strip(),
        bill_item=side.bill_item.strip(),
        cost_category=side.cost_category.strip(),
        work_order=side.work_order.strip(),
        equipment=side.equipment.strip(),
        gl_account=side.gl_account,
        gl_entity=side.gl_entity,
        billing=_billing_in(side.billing),
    )


def transaction_in(data: wire.JournalTransactionCreate) -> domain.JournalTransaction:
    lines = tuple(
        domain.JournalLine(
            line_no=x.line_no,
            item=x.item,
            quantity=x.quantity,
            from_side=_side_in(x.from_side),
            to_side=_side_in(x.to_side) if x.to_side is not None else None,
            serial=x.serial.strip(),
            lot=x.lot.strip(),
            unit_cost=x.unit_cost,
            burden_unit_cost=x.burden_unit_cost,
            origin=domain.LineOrigin(x.origin),
        )
        for x in data.lines
    )
    return domain.JournalTransaction(
        effective_date=data.effective_date,
        transaction_type=domain.TransactionType(data.transaction_type),
        lines=lines,
        period=data.period or None,
        description=data.description.strip(),
    )


def _side_out(side: domain.JournalSide, draft: bool = False) -> wire.JournalSide:
    """A side as read back; `draft`: as a draft to save, where None asks for the default."""
    billing = None
    if side.has_job_fields:
        b = side.billing
        billing = wire.JobBilling(
            quantity_billable=_dec(b.quantity_billable),
            extra=b.extra,
            billing_rate=b.billing_rate.value if b.billing_rate else None,
            revenue_rate=_dec(b.revenue_rate),
            unit_price=_dec(b.unit_price),
            amount_revenue=b.amount_revenue,
            use_tax_rate=_dec(b.use_tax_rate),
        )
    return wire.JournalSide(
        location=side.location,
        bin=side.bin,
        job=side.job,
        cost_code=side.cost_code,
        bill_item=side.bill_item,
        cost_category=side.cost_category,
        work_order=side.work_order,
        equipment=side.equipment,
        gl_account=side.gl_account if draft else side.gl_account or "",
        gl_entity=side.gl_entity if draft else side.gl_entity or "",
        billing=billing,
    )


def transaction_out(
    tx: domain.JournalTransaction,
    warnings: tuple[domain.JournalWarning, ...] = (),
    reverses: str | None = None,
    reversed_by: str | None = None,
) -> wire.JournalTransaction:
    assert tx.transaction_id is not None and tx.user_id is not None
    assert tx.date_posted is not None
    return wire.JournalTransaction(
        transaction_id=tx.transaction_id,
        period=tx.period,
        effective_date=tx.effective_date,
        description=tx.description,
        transaction_type=tx.transaction_type.value,
        user_id=tx.user_id,
        date_posted=tx.date_posted,
        reverses=reverses,
        reversed_by=reversed_by,
        lines=[
            wire.JournalLine(
                line_no=x.line_no,
                item=x.item,
                quantity=plain(x.quantity),
                unit_cost=plain(x.unit_cost if x.unit_cost is not None else ZERO),
                uom=x.uom or "",
                burden_unit_cost=plain(x.burden_unit_cost or ZERO),
                serial=x.serial,
                lot=x.lot,
                origin=x.origin.value,
                from_side=_side_out(x.from_side),
                to_side=_side_out(x.to_side) if x.to_side is not None else None,
            )
            for x in tx.lines
        ],
        warnings=[FieldProblem(location=w.location, message=w.message) for w in warnings],
    )


def draft_out(tx: domain.JournalTransaction) -> wire.JournalTransactionCreate:
    """A Fill Lines draft as the client saves it back (POST /api/journal/transactions)."""
    return wire.JournalTransactionCreate(
        effective_date=tx.effective_date,
        transaction_type=tx.transaction_type.value,
        period=tx.period,
        description=tx.description,
        lines=[
            wire.JournalLineCreate(
                line_no=x.line_no,
                item=x.item,
                quantity=plain(x.quantity),
                from_side=_side_out(x.from_side, draft=True),
                to_side=_side_out(x.to_side, draft=True) if x.to_side is not None else None,
                serial=x.serial,
                lot=x.lot,
                unit_cost=_dec(x.unit_cost),
                origin=x.origin.value,
                burden_unit_cost=_dec(x.burden_unit_cost),
            )
            for x in tx.lines
        ],
    )


def stored_out(stored: StoredTransaction) -> wire.JournalTransaction:
    return transaction_out(
        stored.transaction, reverses=stored.reverses, reversed_by=stored.reversed_by
    )


def summary_out(r: TransactionSummaryRecord) -> wire.TransactionSummary:
    return wire.TransactionSummary(
        transaction_id=r.number,
        effective_date=r.effective_date,
        transaction_type=r.transaction_type.value,
        user_id=r.user,
        date_posted=r.date_posted,
        line_count=r.line_count,
        period=r.period,
        description=r.description,
        reverses=r.reverses,
    )


def gl_history_out(transaction_id: str, gl: Sequence[GlHistoryRecord]) -> wire.GlHistory:
    """The GL postings of a transaction (the seed's GLH tab), debit and credit apart."""
    lines = [
        wire.GlHistoryLine(
            account=g.account,
            account_name=g.account_name,
            entity=g.entity,
            period=g.period,
            company=g.company,
            intercompany=g.intercompany,
            journal=g.journal,
            transaction_id=g.transaction_id,
            date=g.date,
            line_no=g.line_no,
            debit=g.amount if g.amount > ZERO else ZERO,
            credit=-g.amount if g.amount < ZERO else ZERO,
        )
        for g in gl
    ]
    return wire.GlHistory(
        transaction_id=transaction_id,
        count=len(lines),
        total_debit=sum((x.debit for x in lines), ZERO),
        total_credit=sum((x.credit for x in lines), ZERO),
        lines=lines,
    )


def job_history_out(transaction_id: str, rows: Sequence[JobHistoryRecord]) -> wire.JobHistory:
    return wire.JobHistory(
        transaction_id=transaction_id,
        lines=[
            wire.JobHistoryLine(
                line_no=h.line_no,
                side="from" if h.side == "from" else "to",
                job=h.job,
                cost_code=h.cost_code,
                cost_category=h.cost_category,
                work_order=h.work_order,
                equipment=h.equipment,
                item=h.item,
                quantity=plain(h.quantity),
                quantity_billable=plain(h.quantity_billable),
                unit_cost=plain(h.unit_cost),
                burden=h.burden,
                use_tax=h.use_tax,
                material_cost=h.material_cost,
                billing_rate=_RATES.get(h.billing_rate or ""),
                unit_price=plain(h.unit_price),
                amount_revenue=h.amount_revenue,
                extra=h.extra,
            )
            for h in rows
        ],
    )


def settings_out(settings: domain.JournalSettings) -> wire.JournalSettings:
    return msgspec.convert(settings, wire.JournalSettings, from_attributes=True)


def settings_changes(data: wire.JournalSettingsChange) -> dict[str, object]:
    """The settings a PATCH names; those it leaves out (UNSET) stay as they are."""
    return {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}


def master_in(data: msgspec.Struct) -> dict[str, object]:
    """A master data record as the importer reads it (fields as in the import format)."""
    record: dict[str, object] = msgspec.to_builtins(data)
    return record


def master_out(struct: type[S], record: MasterRecord) -> S:
    values = {k: plain(v) if isinstance(v, Decimal) else v for k, v in record.items()}
    return msgspec.convert(values, struct, from_attributes=False, strict=False)


def work_order_costs_out(
    code: str, job: str, rows: Sequence[WorkOrderCostRecord]
) -> wire.WorkOrderCosts:
    """Get Costs: signed as they went on (positive) or came off (negative) the work order."""
    return wire.WorkOrderCosts(
        work_order=code,
        job=job,
        lines=[
            wire.WorkOrderCost(
                transaction_id=r.transaction_id,
                effective_date=r.effective_date,
                line_no=r.line_no,
                item=r.item,
                lot=r.lot,
                serial=r.serial,
                cost_code=r.cost_code,
                cost_category=r.cost_category,
                equipment=r.equipment,
                quantity=plain(r.quantity),
                quantity_billable=plain(r.quantity_billable),
                unit_cost=plain(r.unit_cost),
                burden=r.burden,
                use_tax=r.use_tax,
                material_cost=r.material_cost,
                billing_rate=_RATES.get(r.billing_rate or ""),
                unit_price=plain(r.unit_price),
                amount_revenue=r.amount_revenue,
                extra=r.extra,
            )
            for r in rows
        ],
    )


def inventory_line_out(r: InventoryHistoryRecord) -> wire.InventoryHistoryLine:
    return wire.InventoryHistoryLine(
        date=r.date,
        posted_at=r.posted_at,
        item=r.item,
        item_name=r.item_name,
        uom=r.uom,
        place="job" if r.place == "job" else "location",
        quantity=plain(r.quantity),
        unit_cost=plain(r.unit_cost),
        value=r.value,
        source=r.source,  # type: ignore[arg-type]  # a DocumentKind value
        source_number=r.source_number,
        line_no=r.line_no,
        location=r.location,
        bin=r.bin,
        job=r.job,
        cost_code=r.cost_code,
        cost_category=r.cost_category,
        work_order=r.work_order,
        transaction_type=r.transaction_type.value if r.transaction_type else None,
        lot=r.lot,
        serial=r.serial,
    )
