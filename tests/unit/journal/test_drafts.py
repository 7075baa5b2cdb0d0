"""The web form's "Fill defaults" (server/journal/usecases/drafts.py) over the fakes: the
defaults a save would apply, the On-Hand at each side, the refusals at their fields, and
nothing written."""

from __future__ import annotations

from decimal import Decimal

from server.domain.journal import TransactionType
from server.journal.usecases.drafts import fill_defaults
from tests.unit.journal.factory import FACTS, line, loc, tx
from tests.unit.journal.fakes import FakeUnitOfWork

D = Decimal


async def test_a_draft_gets_the_saves_defaults_and_the_on_hand_and_writes_nothing() -> None:
    uow = FakeUnitOfWork(FACTS)
    draft = tx(TransactionType.LOC_TO_LOC, line(loc("Main"), loc("North"), quantity=2), period=None)
    filled = await fill_defaults(uow, draft)
    assert filled.problems == ()
    [got] = filled.transaction.lines
    # The location's average cost, the period holding the date, the groups' accounts.
    assert got.unit_cost == D("55.232")
    assert filled.transaction.period == "2025-03"
    assert (got.from_side.gl_account, got.from_side.gl_entity) == ("10150", "E-MAIN")
    assert got.to_side is not None and got.to_side.gl_account == "10150"
    assert filled.on_hand == {(1, "from_side"): D(14), (1, "to_side"): D(0)}
    assert uow.commits == 0 and not uow.journal.transactions and not uow.postings.applied


async def test_a_draft_the_rules_refuse_names_each_field_instead_of_raising() -> None:
    uow = FakeUnitOfWork(FACTS)
    draft = tx(
        TransactionType.LOC_TO_LOC,
        line(loc("Main"), loc("Nowhere"), quantity=1),
        line(loc("Main"), loc("North"), item="NOSUCH", line_no=2),
    )
    filled = await fill_defaults(uow, draft)
    where = {p.location for p in filled.problems}
    assert "lines/1/to_side/location" in where
    assert "lines/2/item" in where
    assert uow.commits == 0
