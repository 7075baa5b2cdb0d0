"""The opposite of a saved transaction, as a new draft: journal entries are never edited.

A transfer is reversed by the transfer back (Loc-to-Job becomes Job-to-Loc, and so on)
with the sides swapped and the same positive quantity; an adjustment by the same
adjustment with the quantity negated (a serialized item added on the To line is removed
on the From/Adjust line, the seed's line for removing). Lines come in reverse order, so a
two-line average cost adjustment (-14 at the old cost, +14 at the new) is undone to the
old average.

Every value the original posted is carried explicitly: unit cost, burden unit cost, use
tax rate, billing fields, GL accounts and entities (a blank stays blank). The lines are
marked `LineOrigin.REVERSAL`, so defaults do not replace them with today's master data and
the reversal undoes the original to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from server.domain.journal.model import (
    JobBilling,
    JournalLine,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    TransactionType,
    adds_on_to_line,
)

_OPPOSITE = {
    TransactionType.LOC_TO_JOB: TransactionType.JOB_TO_LOC,
    TransactionType.JOB_TO_LOC: TransactionType.LOC_TO_JOB,
    TransactionType.LOC_TO_LOC: TransactionType.LOC_TO_LOC,
    TransactionType.JOB_TO_JOB: TransactionType.JOB_TO_JOB,
    TransactionType.ADJUSTMENT: TransactionType.ADJUSTMENT,
}


def _fixed(side: JournalSide, negate: bool) -> JournalSide:
    billing = side.billing
    if negate and not billing.is_blank:
        billing = replace(
            billing,
            quantity_billable=None
            if billing.quantity_billable is None
            else -billing.quantity_billable,
            amount_revenue=None if billing.amount_revenue is None else -billing.amount_revenue,
        )
    return replace(
        side,
        gl_account=side.gl_account or "",
        gl_entity=side.gl_entity or "",
        billing=billing if side.has_job_fields else JobBilling(),
    )


def reverse(
    original: JournalTransaction,
    effective_date: date,
    period: str | None = None,
    description: str | None = None,
) -> JournalTransaction:
    """A draft that undoes `original` (which must be saved) when it is saved itself."""
    if original.transaction_id is None:
        raise ValueError("only a saved transaction can be reversed")
    adjustment = original.transaction_type is TransactionType.ADJUSTMENT
    lines = []
    for number, line in enumerate(reversed(original.lines), start=1):
        to_side: JournalSide | None
        if adds_on_to_line(original.transaction_type, line):
            assert line.to_side is not None
            # A serial added on the To line is removed on the From/Adjust line (-1 at the
            # To side's location and bin), with the same accounts and entities.
            place = line.to_side
            from_side = _fixed(
                JournalSide(
                    location=place.location,
                    bin=place.bin,
                    gl_account=line.from_side.gl_account,
                    gl_entity=line.from_side.gl_entity,
                ),
                negate=True,
            )
            to_side = _fixed(replace(place, bin=None), negate=True)
            quantity = -line.quantity
        elif adjustment:
            from_side = _fixed(line.from_side, negate=True)
            to_side = _fixed(line.to_side, negate=True) if line.to_side else None
            quantity = -line.quantity
        else:
            assert line.to_side is not None  # a saved transfer line has its To side
            from_side = _fixed(line.to_side, negate=False)
            to_side = _fixed(line.from_side, negate=False)
            quantity = line.quantity
        lines.append(
            JournalLine(
                line_no=number,
                item=line.item,
                quantity=quantity,
                from_side=from_side,
                to_side=to_side,
                serial=line.serial,
                lot=line.lot,
                unit_cost=line.unit_cost,
                uom=line.uom,
                burden_unit_cost=line.burden_unit_cost,
                origin=LineOrigin.REVERSAL,
            )
        )
    return JournalTransaction(
        effective_date=effective_date,
        transaction_type=_OPPOSITE[original.transaction_type],
        lines=tuple(lines),
        period=period,
        description=description
        if description is not None
        else f"Reverses transaction {original.transaction_id}",
    )
