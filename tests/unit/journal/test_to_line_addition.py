"""Adding a serialized item with the location on the To line (seed 004), and changing
the journal settings one field at a time: the pure rules, no database."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from server.domain.errors import ValidationFailed
from server.domain.journal import (
    JournalSide,
    JournalTransaction,
    TransactionType,
    change_settings,
    posting_document,
    prepare,
    reverse,
)
from server.domain.posting import post
from tests.unit.journal.factory import DAY, FACTS, D, facts, line, loc, saved, tx

T = TransactionType


def _posted(transaction: JournalTransaction) -> tuple[Any, ...]:
    stamped = saved(transaction)
    result = post(posting_document(stamped, FACTS.settings), FACTS.positions)
    return (
        [(m.place, m.quantity, m.unit_cost, m.value) for m in result.movements],
        [(e.serial, e.source, e.target, e.actual_cost) for e in result.serial_effects],
        dict(result.positions),
        [(g.account, g.entity, g.amount) for g in result.gl_lines],
    )


def test_the_to_line_form_posts_as_the_from_adjust_form() -> None:
    to_line = tx(T.ADJUSTMENT, line(JournalSide(), loc("Main"), item="SER", serial="N1"))
    from_adjust = tx(T.ADJUSTMENT, line(loc("Main"), JournalSide("Main"), item="SER", serial="N1"))
    prepared = prepare(to_line, FACTS).transaction.lines[0]
    assert prepared.to_side is not None
    assert (prepared.from_side.gl_account, prepared.from_side.gl_entity) == ("50111", "E-MAIN")
    assert (prepared.to_side.gl_account, prepared.to_side.gl_entity) == ("10150", "E-MAIN")
    assert prepared.unit_cost == D(90)  # no cost at Main: the item's last cost
    assert _posted(to_line) == _posted(from_adjust)
    movements, effects, _, gl = _posted(to_line)
    assert [(m[0].location, m[0].bin, m[1]) for m in movements] == [("Main", "B1", D(1))]
    assert [(s, src, dst.bin) for s, src, dst, _ in effects] == [("N1", None, "B1")]
    assert gl == [("50111", "E-MAIN", D(-90)), ("10150", "E-MAIN", D(90))]


def test_the_to_line_form_only_adds_a_serialized_item_with_the_setting() -> None:
    def problems(**changes: object) -> dict[str, str]:
        fields = {"item": "SER", "serial": "N1", **changes}
        with pytest.raises(ValidationFailed) as raised:
            prepare(tx(T.ADJUSTMENT, line(JournalSide(), loc("Main"), **fields)), data)
        return {p.location: p.message for p in raised.value.details}

    data = FACTS
    assert "lines/1/from_side" in problems(item="123106", serial="")
    assert "lines/1/quantity" in problems(quantity=D(-1), serial="S1")
    assert "lines/1/serial" in problems(serial="S1")  # in stock already
    data = facts(settings=replace(FACTS.settings, serialized_additions_allowed=False))
    assert "not enabled" in problems()["lines/1/serial"]


def test_with_intercompany_on_the_to_line_needs_its_gl_entity() -> None:
    on = facts(intercompany={"C1": True, "C2": False})
    blank = tx(
        T.ADJUSTMENT,
        line(JournalSide(gl_account=""), loc("Main", gl_entity="", gl_account=""), item="SER",
             serial="N1"),
    )  # fmt: skip
    prepare(blank, FACTS)  # intercompany off: fine without
    with pytest.raises(ValidationFailed) as raised:
        prepare(blank, on)
    assert [p.location for p in raised.value.details] == ["lines/1/to_side/gl_entity"]
    other = tx(
        T.ADJUSTMENT,
        line(JournalSide(gl_entity="E-C2"), loc("Main"), item="SER", serial="N1"),
    )
    with pytest.raises(ValidationFailed) as raised:
        prepare(other, on)  # the From/Adjust side's entity is checked against Main's company
    assert [p.location for p in raised.value.details] == ["lines/1/from_side/gl_entity"]


def test_the_reversal_removes_the_serial_on_the_from_adjust_line() -> None:
    original = saved(tx(T.ADJUSTMENT, line(JournalSide(), loc("Main"), item="SER", serial="N1")))
    (back,) = reverse(original, DAY).lines
    assert back.to_side is not None
    assert (back.quantity, back.from_side.location, back.from_side.bin) == (D(-1), "Main", "B1")
    assert (back.from_side.gl_account, back.to_side.gl_account) == ("50111", "10150")


def test_settings_change_one_field_and_keep_the_others() -> None:
    current = FACTS.settings
    changed = change_settings(current, {"wizard_defaults_quantity_billable": True}, set())
    assert changed == replace(current, wizard_defaults_quantity_billable=True)
    blanked = change_settings(current, {"burden_income_account": None}, set())
    assert blanked == replace(current, burden_income_account=None)
    for changes, where in (
        ({}, "settings"),
        ({"burden_income_account": "NOPE"}, "burden_income_account"),
        ({"serialized_additions_allowed": "yes"}, "serialized_additions_allowed"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(ValidationFailed) as raised:
            change_settings(current, changes, {"40900"})
        assert [p.location for p in raised.value.details] == [where]
