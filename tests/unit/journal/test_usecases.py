"""The journal's use cases over in-memory fakes (tests/unit/journal/fakes.py): what a save,
a reversal, a wizard and a settings change ask of their ports, with no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.domain.errors import Conflict, NotFound, ValidationFailed
from server.domain.journal import JournalTransaction, StockRecord, TransactionType
from server.domain.posting import DocumentKind, LocationSide
from server.journal.usecases import journal
from tests.unit.journal.factory import DAY, FACTS, NOW, line, loc, tx
from tests.unit.journal.fakes import FakeUnitOfWork

D = Decimal
ADJUST = TransactionType.ADJUSTMENT


def receipt(quantity: int = 2) -> JournalTransaction:
    return tx(ADJUST, line(loc("Main"), quantity=quantity, unit_cost=D(60)))


async def test_a_save_locks_the_costs_posts_and_commits_once() -> None:
    uow = FakeUnitOfWork(FACTS)
    saved = await journal.save_transaction(uow, receipt(), 7, "alice", NOW)
    assert (saved.id, saved.transaction.transaction_id) == (1, "IA-1")
    assert saved.transaction.date_posted == NOW and uow.commits == 1
    assert {("123106", "Main")} in uow.journal.history.locked
    [(result, context)] = uow.postings.applied
    assert context.document_kind == DocumentKind.JOURNAL_TRANSACTION.value
    assert (context.document_id, context.document_number) == (1, "IA-1")
    [movement] = result.movements
    assert isinstance(movement.place, LocationSide)
    assert (movement.place.location, movement.place.bin, movement.quantity) == ("Main", "B1", D(2))
    assert uow.journal.lines[1] == saved.transaction


async def test_a_save_into_a_frozen_bin_is_refused_and_writes_nothing() -> None:
    uow = FakeUnitOfWork(FACTS)
    uow.postings.frozen = {("Main", "B1"): "SC-3"}
    with pytest.raises(Conflict, match="SC-3") as refused:
        await journal.save_transaction(uow, receipt(), 7, "alice", NOW)
    assert refused.value.code == "bins-frozen"
    assert uow.commits == 0 and not uow.postings.applied and not uow.journal.transactions


async def test_a_transaction_the_rules_refuse_is_not_saved() -> None:
    uow = FakeUnitOfWork(FACTS)
    closed = tx(ADJUST, line(loc("Main"), unit_cost=D(60)), period="2025-02")
    with pytest.raises(ValidationFailed):
        await journal.save_transaction(uow, closed, 7, "alice", NOW)
    assert uow.commits == 0 and not uow.journal.transactions


async def test_a_reversal_posts_the_opposite_once() -> None:
    uow = FakeUnitOfWork(FACTS)
    await journal.save_transaction(uow, receipt(3), 7, "alice", NOW)
    back = await journal.reverse_transaction(uow, "IA-1", DAY, 7, "alice", NOW)
    assert back.transaction.transaction_id == "IA-2"
    assert [m.quantity for m in uow.postings.applied[-1][0].movements] == [D(-3)]
    stored = await uow.journal.get("IA-1")
    assert stored is not None and stored.reversed_by == "IA-2"
    with pytest.raises(Conflict) as again:
        await journal.reverse_transaction(uow, "IA-1", DAY, 7, "alice", NOW)
    assert again.value.code == "already-reversed"
    with pytest.raises(NotFound):
        await journal.reverse_transaction(uow, "IA-9", DAY, 7, "alice", NOW)
    assert uow.commits == 2


async def test_the_loc_to_loc_wizard_drafts_every_stock_row_and_saves_nothing() -> None:
    uow = FakeUnitOfWork(FACTS)
    uow.journal.history.stock = {"Main": [StockRecord("123106", "B1", D(5))]}
    draft = await journal.fill_location_to_location(uow, "Main", "North", "N1", DAY)
    assert [(x.item, x.quantity, x.to_side and x.to_side.bin) for x in draft.lines] == [
        ("123106", D(5), "N1")
    ]
    assert uow.commits == 0 and not uow.postings.applied


async def test_the_job_to_loc_wizard_answers_an_unknown_job_with_not_found() -> None:
    uow = FakeUnitOfWork(FACTS)
    with pytest.raises(NotFound, match="no job J9"):
        await journal.fill_return_to_location(uow, "J9", "Main", "B1", DAY)


async def test_settings_refuse_an_unknown_account_and_keep_a_known_one() -> None:
    uow = FakeUnitOfWork(FACTS)
    uow.journal.accounts = {"50100"}
    with pytest.raises(ValidationFailed):
        await journal.update_settings(uow, {"burden_income_account": "99999"})
    assert uow.commits == 0
    changed = await journal.update_settings(uow, {"burden_income_account": "50100"})
    assert changed.burden_income_account == "50100" and uow.commits == 1
    assert (await journal.get_settings(uow)).burden_income_account == "50100"
