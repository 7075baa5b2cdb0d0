"""The Fill Lines wizards (seed 004): drafts that a user reviews, changes and then saves
like any other transaction.

- `return_to_location`: everything still on a job (or one work order of it) back to a
  location, as a Job-to-Loc. Costs and revenue come from the job history rows that put it
  there, so that saving the draft undoes them exactly: the unit cost, burden unit cost,
  use tax rate, billing rate, revenue rate and unit price of each group of rows, and the
  quantity still on the job (what was put on less what came back). The lines are
  `LineOrigin.WIZARD`, so quantity billable defaults from the quantity only when the
  settings say so (`JournalSettings.wizard_defaults_quantity_billable`); the draft
  carries the quantity billable that saving applies (the quantity, or 0), so that the
  reviewer sees what will be billed before saving.
- `location_to_location`: all stock of one location into another, as a Loc-to-Loc, one
  line per bin, lot and serial; unit costs default as on any manual line (a serial's
  actual cost, else the location's cost).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.journal.model import (
    BillingRate,
    JobBilling,
    JournalLine,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    TransactionType,
)
from server.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class JobCostRecord:
    """A job history row as the return wizard reads it: `quantity` is signed as it went
    on the job (positive) or came off it (negative); `unit_cost` excludes burden."""

    job: str
    cost_code: str
    cost_category: str
    item: str
    quantity: Decimal
    unit_cost: Decimal
    bill_item: str = ""
    work_order: str = ""
    equipment: str = ""
    lot: str = ""
    serial: str = ""
    burden_unit_cost: Decimal = ZERO
    use_tax_rate: Decimal = ZERO
    billing_rate: BillingRate | None = None
    revenue_rate: Decimal = ZERO
    unit_price: Decimal = ZERO
    extra: bool = False


@dataclass(frozen=True, slots=True)
class StockRecord:
    """Stock of an item in a bin of a location: a balance (per lot), or one serial."""

    item: str
    bin: str
    quantity: Decimal
    lot: str = ""
    serial: str = ""


def _place_key(row: JobCostRecord) -> tuple[str, ...]:
    """Where a quantity is on the job: what a return must name to take it off again."""
    return (
        row.job,
        row.cost_code,
        row.cost_category,
        row.bill_item,
        row.work_order,
        row.equipment,
        row.item,
        row.lot,
        row.serial,
    )


def _value_key(row: JobCostRecord) -> tuple[object, ...]:
    """The values a row was put on the job with."""
    return (
        row.unit_cost,
        row.burden_unit_cost,
        row.use_tax_rate,
        row.billing_rate,
        row.revenue_rate,
        row.unit_price,
        row.extra,
    )


def _remaining(rows: list[JobCostRecord]) -> list[tuple[JobCostRecord, Decimal]]:
    """What is still on the job, per group of rows put on with the same values.

    Returns at the same values (a reversal, an earlier wizard return) cancel their group.
    A return at other values (a manual one) is taken off the latest groups first (what
    went on last came off first), so the total returned never exceeds what is on the job.
    """
    by_place: dict[tuple[str, ...], dict[tuple[object, ...], Decimal]] = {}
    first: dict[tuple[tuple[str, ...], tuple[object, ...]], JobCostRecord] = {}
    for row in rows:
        groups = by_place.setdefault(_place_key(row), {})
        value = _value_key(row)
        groups[value] = groups.get(value, ZERO) + row.quantity
        first.setdefault((_place_key(row), value), row)
    result = []
    for place, groups in by_place.items():
        left = sum(groups.values(), ZERO)
        for value, quantity in groups.items():
            if left <= ZERO:
                break
            if quantity <= ZERO:
                continue
            take = min(quantity, left)
            left -= take
            result.append((first[(place, value)], take))
    return result


def return_to_location(
    rows: Iterable[JobCostRecord],
    location: str,
    effective_date: date,
    bin: str | None = None,
    work_order: str | None = None,
    *,
    bill_quantity: bool = False,
) -> JournalTransaction:
    """A Job-to-Loc draft returning what is still on the job (or on `work_order`).
    `bill_quantity`: the settings' `wizard_defaults_quantity_billable`."""
    wanted = [r for r in rows if work_order is None or r.work_order == work_order]
    lines: list[JournalLine] = []
    for row, quantity in _remaining(wanted):
        # No more than one of a serial from a job into a location (the seed).
        returned = Decimal(1) if row.serial else quantity
        source = JournalSide(
            job=row.job,
            cost_code=row.cost_code,
            bill_item=row.bill_item,
            cost_category=row.cost_category,
            work_order=row.work_order,
            equipment=row.equipment,
            billing=JobBilling(
                quantity_billable=returned if bill_quantity else ZERO,
                extra=row.extra,
                billing_rate=row.billing_rate,
                revenue_rate=row.revenue_rate,
                unit_price=row.unit_price,
                use_tax_rate=row.use_tax_rate,
            ),
        )
        lines.append(
            JournalLine(
                line_no=len(lines) + 1,
                item=row.item,
                quantity=returned,
                from_side=source,
                to_side=JournalSide(location=location, bin=bin),
                serial=row.serial,
                lot=row.lot,
                unit_cost=row.unit_cost,
                burden_unit_cost=row.burden_unit_cost,
                origin=LineOrigin.WIZARD,
            )
        )
    target = f"work order {work_order}" if work_order else "the job"
    return JournalTransaction(
        effective_date=effective_date,
        transaction_type=TransactionType.JOB_TO_LOC,
        lines=tuple(lines),
        description=f"Return from {target} to {location}",
    )


def location_to_location(
    stock: Iterable[StockRecord],
    source: str,
    target: str,
    effective_date: date,
    target_bin: str | None = None,
) -> JournalTransaction:
    """A Loc-to-Loc draft moving all stock of `source` to `target`."""
    lines: list[JournalLine] = []
    for row in sorted(stock, key=lambda r: (r.item, r.bin, r.lot, r.serial)):
        if row.quantity <= ZERO:
            continue
        lines.append(
            JournalLine(
                line_no=len(lines) + 1,
                item=row.item,
                quantity=Decimal(1) if row.serial else row.quantity,
                from_side=JournalSide(location=source, bin=row.bin),
                to_side=JournalSide(location=target, bin=target_bin),
                serial=row.serial,
                lot=row.lot,
                origin=LineOrigin.WIZARD,
            )
        )
    return JournalTransaction(
        effective_date=effective_date,
        transaction_type=TransactionType.LOC_TO_LOC,
        lines=tuple(lines),
        description=f"Transfer all stock from {source} to {target}",
    )


def _line_keys(line: JournalLine) -> tuple[tuple[str, ...], tuple[object, ...]]:
    side, billing = line.from_side, line.from_side.billing
    place = (
        side.job,
        side.cost_code,
        side.cost_category,
        side.bill_item,
        side.work_order,
        side.equipment,
        line.item,
        line.lot,
        line.serial,
    )
    value = (
        line.unit_cost,
        line.burden_unit_cost,
        billing.use_tax_rate,
        billing.billing_rate,
        billing.revenue_rate,
        billing.unit_price,
        billing.extra,
    )
    return place, value


def check_origins(transaction: JournalTransaction, rows: Iterable[JobCostRecord]) -> None:
    """A transaction a client saves: its lines are manual, or wizard lines whose job values
    are those of the job history (so a client cannot forge the costs or revenue that a
    return takes off a job), for no more than is still on the job. Reversal lines are made
    by the reverse use case only. Raises ValidationFailed naming each line."""
    problems: list[FieldProblem] = []
    wizard = [x for x in transaction.lines if x.origin is LineOrigin.WIZARD]
    for line in transaction.lines:
        if line.origin is LineOrigin.REVERSAL:
            problems.append(
                FieldProblem(f"lines/{line.line_no}/origin", "reversal lines are made by reverse")
            )
    tx_type = transaction.transaction_type
    if wizard and tx_type not in (TransactionType.JOB_TO_LOC, TransactionType.LOC_TO_LOC):
        for line in wizard:
            problems.append(
                FieldProblem(
                    f"lines/{line.line_no}/origin",
                    "wizard lines are Job-to-Loc (return) or Loc-to-Loc (move) lines",
                )
            )
        wizard = []
    if tx_type is TransactionType.LOC_TO_LOC:
        for line in wizard:
            if line.burden_unit_cost is not None:
                problems.append(
                    FieldProblem(f"lines/{line.line_no}/burden_unit_cost", "display-only")
                )
        wizard = []
    left: dict[tuple[tuple[str, ...], tuple[object, ...]], Decimal] = {}
    for row, quantity in _remaining(list(rows)):
        key = (_place_key(row), _value_key(row))
        left[key] = left.get(key, ZERO) + quantity
    for line in wizard:
        where = f"lines/{line.line_no}"
        if line.from_side.billing.amount_revenue is not None:
            problems.append(
                FieldProblem(
                    f"{where}/from_side/billing/amount_revenue",
                    "computed on a wizard line from its quantity billable and unit price",
                )
            )
        key = _line_keys(line)
        available = left.get(key)
        if available is None:
            problems.append(
                FieldProblem(
                    f"{where}/from_side",
                    "no job history of this job, item and place with these costs and revenue: "
                    "a wizard line carries the values the original put on the job",
                )
            )
            continue
        if line.quantity > available:
            problems.append(
                FieldProblem(
                    f"{where}/quantity",
                    f"only {available} of these costs are still on the job",
                )
            )
        left[key] = available - line.quantity
    if problems:
        raise ValidationFailed("the journal transaction is not valid", problems)
