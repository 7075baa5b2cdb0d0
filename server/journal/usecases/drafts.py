"""A draft on the way to being saved: the defaults the save would apply, the On-Hand at
each side, and what the rules would refuse, with nothing written.

The web form's "Fill defaults" (and its script, as fields are chosen) asks this: the
same facts and the same `apply_defaults` and `validate` as `save_transaction`, so what
the form shows is what saving would post.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.journal import (
    JournalTransaction,
    JournalWarning,
    apply_defaults,
    check_input,
    validate,
)
from server.journal.ports import JournalUnitOfWork


@dataclass(frozen=True, slots=True)
class FilledDraft:
    """`transaction` with every default applied; `on_hand[(line_no, side)]` the item's
    quantity on hand at that side's location (sides at a job have none); `problems` what
    saving would refuse, each at its field, and `warnings` what it would only warn of."""

    transaction: JournalTransaction
    on_hand: dict[tuple[int, str], Decimal]
    problems: tuple[FieldProblem, ...]
    warnings: tuple[JournalWarning, ...]


async def fill_defaults(uow: JournalUnitOfWork, draft: JournalTransaction) -> FilledDraft:
    async with uow:
        facts = await uow.journal.facts(draft)
    try:
        check_input(draft)
    except ValidationFailed as refused:
        return FilledDraft(draft, {}, tuple(refused.details), ())
    defaulted = apply_defaults(draft, facts)
    on_hand: dict[tuple[int, str], Decimal] = {}
    for line in defaulted.lines:
        for name, side in line.sides():
            if side.location:
                position = facts.positions.get((line.item, side.location))
                on_hand[(line.line_no, name)] = position.on_hand if position else Decimal(0)
    try:
        warnings = validate(defaulted, facts)
    except ValidationFailed as refused:
        return FilledDraft(defaulted, on_hand, tuple(refused.details), ())
    return FilledDraft(defaulted, on_hand, (), warnings)
