"""Seed 004's two average-cost adjustment examples, end to end through the journal:
defaults, validation, conversion and the one posting engine."""

from __future__ import annotations

from decimal import Decimal

from server.domain.journal import JournalLine, TransactionType, posting_document, prepare
from server.domain.posting import LineAction, LocationSide, Position, post
from tests.unit.journal.factory import FACTS, line, loc, saved, tx

D = Decimal


def average_cost_adjustment(from_account: str | None, to_account: str | None) -> list[JournalLine]:
    to_side = loc("Main", gl_account=to_account) if to_account else None
    # Without GL the seed blanks out the From/Adj line's GL account and entity.
    from_side = (
        loc("Main", gl_account=from_account)
        if from_account
        else loc("Main", gl_account="", gl_entity="")
    )
    return [
        # Line 1: the cost defaults in when the location is selected (55.232).
        line(from_side, to_side, quantity=-14, line_no=1),
        # Line 2: the new cost entered by hand after selecting the location.
        line(
            from_side,
            to_side,
            quantity=14,
            line_no=2,
            unit_cost=D("57.000"),
        ),
    ]


def test_average_cost_adjustment_with_gl_accounts_50111_and_10150() -> None:
    draft = tx(TransactionType.ADJUSTMENT, *average_cost_adjustment("50111", "10150"))
    prepared = prepare(draft, FACTS)
    assert [x.unit_cost for x in prepared.transaction.lines] == [D("55.232"), D("57.000")]
    assert prepared.warnings == ()

    document = posting_document(saved(draft), FACTS.settings)
    assert [x.action for x in document.lines] == [LineAction.ADJUSTMENT] * 2
    result = post(document, FACTS.positions)

    assert result.positions[("123106", "Main")] == Position(D(14), D("57.000"))
    assert [(g.line_no, g.account, g.debit, g.credit) for g in result.gl_lines] == [
        (1, "50111", D("773.25"), D(0)),  # minus credit = debit inventory adj
        (1, "10150", D(0), D("773.25")),  # minus debit = credit inventory
        (2, "50111", D(0), D("798.00")),  # credit inventory adj
        (2, "10150", D("798.00"), D(0)),  # debit inventory
    ]
    # The entities default from the location (Main's E-MAIN) on both sides.
    assert {g.entity for g in result.gl_lines} == {"E-MAIN"}
    assert [m.quantity for m in result.movements] == [D(-14), D(14)]


def test_average_cost_adjustment_without_gl_accounts() -> None:
    draft = tx(TransactionType.ADJUSTMENT, *average_cost_adjustment(None, None), period=None)
    prepared = prepare(draft, FACTS)
    assert all(x.to_side is None for x in prepared.transaction.lines)
    assert prepared.transaction.has_gl is False

    result = post(posting_document(saved(draft), FACTS.settings), FACTS.positions)

    assert result.positions[("123106", "Main")] == Position(D(14), D("57.000"))
    assert result.gl_lines == ()
    assert [m.place for m in result.movements] == [LocationSide("Main", "B1")] * 2
