"""The journal's location cost of a serialized item is the average of its serials on hand
(server.domain.costing), on SQLite and PostgreSQL: a new serial added without a unit
cost takes it (seed 004: the unit cost defaults from the location cost)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.journal import (
    JournalLine,
    JournalSide,
    JournalTransaction,
    TransactionType,
    prepare,
)
from server.journal.sql.facts import SqlJournalFacts
from tests.integration.test_journal_facts import session

__all__ = ["session"]  # the fixture: test_journal_facts' master data

D = Decimal


async def test_a_new_serial_defaults_to_the_average_of_the_serials_on_hand(
    session: AsyncSession,
) -> None:
    # SER: S1 at 101.50 in Main's A-02; OUT (7.00) is in no bin and weighs nothing; no
    # item_location_cost row and last cost 0, which the default used to fall back to.
    transaction = JournalTransaction(
        date(2025, 3, 14),
        TransactionType.ADJUSTMENT,
        (JournalLine(1, "SER", D(1), JournalSide("Main", "A-01"), serial="S-NEW"),),
    )
    facts = await SqlJournalFacts(session).load(transaction)
    assert facts.positions[("SER", "Main")].average_cost == D("101.5")
    prepared = prepare(transaction, facts)
    assert prepared.transaction.lines[0].unit_cost == D("101.5")
