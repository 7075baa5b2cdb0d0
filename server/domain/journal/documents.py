"""A validated journal transaction as the posting engine and job history take it.

`prepare` applies the defaults and validates; `posting_document` converts the saved
transaction into a `posting.PostingDocument` (stock movements, average cost, GL pairs)
and `job_history` into its job history (JCH) entries.

Job history signs: a transfer takes the quantity off its From job and puts it on its To
job; an adjustment at a job takes costs off it for a positive quantity (seed 004's tip).
Quantity billable and amount revenue follow the same sign, so returning from a work order
imports there as a negative quantity and a negative billable quantity (the seed).

Burden and use tax of a job side (seed 004):
- burden: quantity x burden unit cost, added to the unit cost in job history; in GL it
  debits the job side's account (COS) and credits the settings' burden income account;
- use tax: quantity x unit cost x the job's use tax rate, added to material cost in job
  history; in GL it debits the job side's account (expense) and credits the settings' use
  tax liability account.
Both post as `ExtraPosting` pairs with the line, and only when the line posts GL (both
accounts given); a job side that gives back stock gives back its burden and use tax.

A serialized item added on the To line (`adds_on_to_line`) posts as the From/Adjust form:
the engine's From/Adjust side is the To side's location and bin with the From/Adjust
line's GL account and entity, so both forms give the same stock, cost and GL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.domain.journal.defaults import HUNDRED, apply_defaults, job_sides, side_kind
from server.domain.journal.facts import JournalFacts, JournalSettings
from server.domain.journal.model import (
    BillingRate,
    JournalLine,
    JournalSide,
    JournalTransaction,
    JournalWarning,
    SideKind,
    TransactionType,
    adds_on_to_line,
)
from server.domain.journal.validation import check_input, validate
from server.domain.money import ZERO, extend, round_value
from server.domain.posting import (
    DocumentKind,
    ExtraPosting,
    JobSide,
    LineAction,
    LocationSide,
    PostingDocument,
    PostingLine,
    Side,
)


@dataclass(frozen=True, slots=True)
class PreparedTransaction:
    transaction: JournalTransaction  # defaulted and valid
    warnings: tuple[JournalWarning, ...]


def prepare(transaction: JournalTransaction, facts: JournalFacts) -> PreparedTransaction:
    """Defaults, then every rule; raises ValidationFailed naming each problem."""
    check_input(transaction)
    defaulted = apply_defaults(transaction, facts)
    warnings = validate(defaulted, facts)
    return PreparedTransaction(defaulted, warnings)


@dataclass(frozen=True, slots=True)
class JobHistoryEntry:
    """One job history (JCH) row: a line's effect on one job."""

    transaction_id: str
    line_no: int
    side: str  # "from_side" or "to_side"
    job: str
    cost_code: str
    cost_category: str
    bill_item: str
    work_order: str
    equipment: str
    item: str
    lot: str
    serial: str
    quantity: Decimal
    quantity_billable: Decimal
    unit_cost: Decimal  # inventory unit cost plus burden
    burden_unit_cost: Decimal
    burden: Decimal
    use_tax: Decimal
    material_cost: Decimal  # quantity x unit cost, plus burden and use tax, to the cent
    billing_rate: BillingRate | None
    revenue_rate: Decimal
    unit_price: Decimal
    amount_revenue: Decimal
    extra: bool


def _job_sign(transaction_type: TransactionType, side_name: str) -> int:
    if transaction_type.is_transfer and side_name == "to_side":
        return 1
    return -1


def _amounts(line: JournalLine, side: JournalSide, sign: int) -> tuple[Decimal, Decimal, Decimal]:
    """(signed quantity, burden, use tax) of a job side, each rounded as posted."""
    quantity = sign * line.quantity
    unit_cost = line.unit_cost if line.unit_cost is not None else ZERO
    burden = extend(quantity, line.burden_unit_cost or ZERO)
    rate = side.billing.use_tax_rate or ZERO
    use_tax = round_value(quantity * unit_cost * rate / HUNDRED)
    return quantity, burden, use_tax


def job_history(transaction: JournalTransaction) -> tuple[JobHistoryEntry, ...]:
    """The JCH rows of a saved, prepared transaction."""
    reference = _reference(transaction)
    entries = []
    for line in transaction.lines:
        for name in job_sides(transaction.transaction_type, line):
            side: JournalSide = getattr(line, name)
            sign = _job_sign(transaction.transaction_type, name)
            quantity, burden, use_tax = _amounts(line, side, sign)
            unit_cost = line.unit_cost if line.unit_cost is not None else ZERO
            burden_uc = line.burden_unit_cost or ZERO
            billing = side.billing
            entries.append(
                JobHistoryEntry(
                    transaction_id=reference,
                    line_no=line.line_no,
                    side=name,
                    job=side.job,
                    cost_code=side.cost_code,
                    cost_category=side.cost_category,
                    bill_item=side.bill_item,
                    work_order=side.work_order,
                    equipment=side.equipment,
                    item=line.item,
                    lot=line.lot,
                    serial=line.serial,
                    quantity=quantity,
                    quantity_billable=sign * (billing.quantity_billable or ZERO),
                    unit_cost=unit_cost + burden_uc,
                    burden_unit_cost=burden_uc,
                    burden=burden,
                    use_tax=use_tax,
                    material_cost=extend(quantity, unit_cost) + burden + use_tax,
                    billing_rate=billing.billing_rate,
                    revenue_rate=billing.revenue_rate or ZERO,
                    unit_price=billing.unit_price or ZERO,
                    amount_revenue=sign * (billing.amount_revenue or ZERO),
                    extra=billing.extra,
                )
            )
    return tuple(entries)


def _reference(transaction: JournalTransaction) -> str:
    if transaction.transaction_id is None:
        raise ValueError("the transaction has no id yet: stamp it when it is saved")
    return transaction.transaction_id


def _side(kind: SideKind | None, side: JournalSide) -> Side:
    if kind is SideKind.JOB or (kind is None and side.job):
        return JobSide(
            job=side.job,
            cost_code=side.cost_code,
            cost_category=side.cost_category,
            bill_item=side.bill_item,
            work_order=side.work_order,
            equipment=side.equipment,
            gl_account=side.account,
            gl_entity=side.entity,
        )
    return LocationSide(side.location, side.bin, side.account, side.entity)


def _pair(debit: str, credit: str, amount: Decimal, entity: str | None) -> ExtraPosting:
    """A balanced pair; a negative amount (stock given back) swaps the accounts."""
    if amount < ZERO:
        debit, credit, amount = credit, debit, -amount
    return ExtraPosting(debit, credit, amount, entity, entity)


def _extras(
    transaction_type: TransactionType, line: JournalLine, settings: JournalSettings
) -> tuple[ExtraPosting, ...]:
    credit = line.from_side.account
    debit = line.to_side.account if line.to_side is not None else None
    if credit is None or debit is None:
        return ()  # the line posts no GL, nor its burden or use tax
    extras = []
    for name in job_sides(transaction_type, line):
        side: JournalSide = getattr(line, name)
        expense = side.account
        assert expense is not None  # a job side of a line that posts GL has its account
        _, burden, use_tax = _amounts(line, side, _job_sign(transaction_type, name))
        if burden != ZERO:
            assert settings.burden_income_account is not None  # checked by validate
            extras.append(_pair(expense, settings.burden_income_account, burden, side.entity))
        if use_tax != ZERO:
            assert settings.use_tax_liability_account is not None  # checked by validate
            liability = settings.use_tax_liability_account
            extras.append(_pair(expense, liability, use_tax, side.entity))
    return tuple(extras)


def posting_document(transaction: JournalTransaction, settings: JournalSettings) -> PostingDocument:
    """The saved, prepared transaction as the one posting engine takes it."""
    tx_type = transaction.transaction_type
    action = LineAction.TRANSFER if tx_type.is_transfer else LineAction.ADJUSTMENT
    lines = []
    for line in transaction.lines:
        assert line.unit_cost is not None  # defaulted or refused by prepare
        to_side: Side | None = None
        if line.to_side is not None:
            to_side = _side(side_kind(tx_type, line.to_side, True), line.to_side)
        if adds_on_to_line(tx_type, line) and isinstance(to_side, LocationSide):
            # The To-line form posts as the From/Adjust form at the To side's place: the
            # stock enters there and the From/Adjust side's account is credited.
            source: Side = LocationSide(
                to_side.location, to_side.bin, line.from_side.account, line.from_side.entity
            )
        else:
            source = _side(side_kind(tx_type, line.from_side, False), line.from_side)
        lines.append(
            PostingLine(
                line_no=line.line_no,
                action=action,
                item=line.item,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
                from_side=source,
                to_side=to_side,
                lot=line.lot,
                serial=line.serial,
                extra=_extras(tx_type, line, settings),
            )
        )
    return PostingDocument(DocumentKind.JOURNAL_TRANSACTION, _reference(transaction), tuple(lines))
