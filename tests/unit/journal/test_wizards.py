"""The Fill Lines wizards: returning what is on a job to a location so that it undoes the
original exactly, and moving all stock of one location to another."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from server.domain.errors import ValidationFailed
from server.domain.journal import (
    JobCostRecord,
    JobHistoryEntry,
    JournalTransaction,
    LineOrigin,
    StockRecord,
    TransactionType,
    check_origins,
    job_history,
    location_to_location,
    prepare,
    return_to_location,
)
from tests.unit.journal.factory import FACTS, facts, job, line, loc, saved, tx

D = Decimal
T = TransactionType
DAY = date(2025, 3, 20)
NO_TAX = Decimal(0)


def rows(
    entries: tuple[JobHistoryEntry, ...], use_tax_rate: Decimal = NO_TAX
) -> list[JobCostRecord]:
    """Job history as the service reads it back for the wizard."""
    return [
        JobCostRecord(
            job=e.job,
            cost_code=e.cost_code,
            cost_category=e.cost_category,
            item=e.item,
            quantity=e.quantity,
            unit_cost=e.unit_cost - e.burden_unit_cost,
            bill_item=e.bill_item,
            work_order=e.work_order,
            equipment=e.equipment,
            lot=e.lot,
            serial=e.serial,
            burden_unit_cost=e.burden_unit_cost,
            use_tax_rate=use_tax_rate,
            billing_rate=e.billing_rate,
            revenue_rate=e.revenue_rate,
            unit_price=e.unit_price,
            extra=e.extra,
        )
        for e in entries
    ]


def test_return_undoes_the_original_with_its_own_costs_and_revenue() -> None:
    issued = saved(
        tx(
            T.LOC_TO_JOB,
            line(loc("Main"), job("TAX"), item="BURD", quantity=3),
        )
    )
    history = job_history(issued)
    draft = return_to_location(rows(history, D(8)), "Main", DAY, "B1", bill_quantity=True)
    assert draft.transaction_type is T.JOB_TO_LOC
    (back,) = draft.lines
    assert (back.quantity, back.unit_cost, back.burden_unit_cost) == (D(3), D(10), D("1.5"))
    assert back.origin is LineOrigin.WIZARD
    # Rates changed since: the wizard's values are kept.
    changed = facts(
        jobs={**FACTS.jobs, "TAX": replace(FACTS.jobs["TAX"], use_tax_rate=D(50))},
        items={**FACTS.items, "BURD": replace(FACTS.items["BURD"], burden_rate=D(90))},
        settings=replace(FACTS.settings, wizard_defaults_quantity_billable=True),
    )
    returned = job_history(saved(draft, changed, "IA-2"))
    assert sum((e.material_cost for e in history + returned), D(0)) == D(0)
    assert sum((e.amount_revenue for e in history + returned), D(0)) == D(0)
    assert sum((e.quantity_billable for e in history + returned), D(0)) == D(0)


def test_wizard_quantity_billable_follows_the_setting() -> None:
    history = job_history(saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), quantity=2))))
    for setting, billable in ((False, D(0)), (True, D(2))):
        draft = return_to_location(rows(history), "Main", DAY, "B1", bill_quantity=setting)
        # The draft shows what saving applies, and saving applies what the draft shows.
        assert draft.lines[0].from_side.billing.quantity_billable == billable
        on = facts(settings=replace(FACTS.settings, wizard_defaults_quantity_billable=setting))
        prepared = prepare(draft, on).transaction.lines[0].from_side.billing
        assert prepared.quantity_billable == billable


def test_return_nets_what_came_back_already() -> None:
    put = JobCostRecord("J1", "100", "MAT", "123106", D(5), D(10), unit_price=D(12))
    same_values_back = replace(put, quantity=D(-1))
    manual_back = replace(put, quantity=D(-1), unit_cost=D(9))
    second = replace(put, quantity=D(2), unit_cost=D(11))
    draft = return_to_location([put, same_values_back, manual_back, second], "Main", DAY, "B1")
    # On the job: 5 - 1 - 1 + 2 = 5: the 4 left at 10, and 1 of the later 2 at 11 (the
    # manual return came off what went on last).
    assert [(x.quantity, x.unit_cost) for x in draft.lines] == [(D(4), D(10)), (D(1), D(11))]
    assert all(x.to_side is not None and x.to_side.bin == "B1" for x in draft.lines)
    nothing = return_to_location([put, replace(put, quantity=D(-5))], "Main", DAY)
    assert nothing.lines == ()


def test_return_from_one_work_order_and_serials_one_each() -> None:
    on_wo = JobCostRecord("J1", "100", "MAT", "SER", D(1), D(88), work_order="WO1", serial="GONE")
    elsewhere = JobCostRecord("J1", "100", "MAT", "123106", D(4), D(10))
    draft = return_to_location([on_wo, elsewhere], "Main", DAY, "B1", work_order="WO1")
    (back,) = draft.lines
    assert (back.serial, back.quantity, back.from_side.work_order) == ("GONE", D(1), "WO1")
    assert draft.description == "Return from work order WO1 to Main"
    prepare(draft, FACTS)  # valid as drafted


def test_location_to_location_moves_every_bin_lot_and_serial() -> None:
    stock = [
        StockRecord("123106", "B2", D(4)),
        StockRecord("123106", "B1", D(10)),
        StockRecord("LOT", "B1", D("2.5"), lot="L7"),
        StockRecord("SER", "B1", D(1), serial="S1"),
        StockRecord("NEW", "B1", D(0)),
    ]
    draft = location_to_location(stock, "Main", "North", DAY, "N1")
    assert draft.transaction_type is T.LOC_TO_LOC
    assert [(x.item, x.from_side.bin, x.quantity, x.lot, x.serial) for x in draft.lines] == [
        ("123106", "B1", D(10), "", ""),
        ("123106", "B2", D(4), "", ""),
        ("LOT", "B1", D("2.5"), "L7", ""),
        ("SER", "B1", D(1), "", "S1"),
    ]
    prepared = prepare(draft, FACTS).transaction
    assert [x.unit_cost for x in prepared.lines] == [D("55.232"), D("55.232"), D(3), D("101.50")]


def _problems(draft: JournalTransaction, history: list[JobCostRecord]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        check_origins(draft, history)
    return {p.location: p.message for p in caught.value.details}


def test_wizard_lines_must_match_job_history_and_what_is_left() -> None:
    history = rows(job_history(saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), quantity=2)))))
    draft = return_to_location(history, "Main", DAY, "B1")
    check_origins(draft, history)  # the draft as the wizard made it
    (back,) = draft.lines
    forged = replace(draft, lines=(replace(back, unit_cost=D(99)),))
    assert "no job history" in _problems(forged, history)["lines/1/from_side"]
    cheaper = replace(back.from_side.billing, unit_price=D(0))
    priced = replace(
        draft, lines=(replace(back, from_side=replace(back.from_side, billing=cheaper)),)
    )
    assert "lines/1/from_side" in _problems(priced, history)
    twice = replace(draft, lines=(back, replace(back, line_no=2)))
    assert "only 0 of these" in _problems(twice, history)["lines/2/quantity"]
    revenue = replace(back.from_side.billing, amount_revenue=D(1000))
    paid = replace(
        draft, lines=(replace(back, from_side=replace(back.from_side, billing=revenue)),)
    )
    assert "lines/1/from_side/billing/amount_revenue" in _problems(paid, history)
    reversal = replace(draft, lines=(replace(back, origin=LineOrigin.REVERSAL),))
    assert "made by reverse" in _problems(reversal, history)["lines/1/origin"]
    other = replace(draft, transaction_type=T.JOB_TO_JOB)
    assert "lines/1/origin" in _problems(other, history)


def test_loc_to_loc_wizard_lines_carry_no_burden() -> None:
    draft = location_to_location([StockRecord("123106", "B1", D(3))], "Main", "North", DAY, "N1")
    check_origins(draft, [])
    burdened = replace(draft, lines=(replace(draft.lines[0], burden_unit_cost=D(1)),))
    assert "lines/1/burden_unit_cost" in _problems(burdened, [])


def test_a_location_side_that_moves_stock_names_its_bin() -> None:
    no_bin = tx(T.LOC_TO_LOC, line(loc("Main", bin=None), loc("North")))
    with pytest.raises(ValidationFailed) as caught:
        prepare(no_bin, FACTS)
    assert [p.location for p in caught.value.details] == ["lines/1/from_side/bin"]
    # An adjustment's To side only carries GL: no bin needed there.
    gl_only = tx(
        T.ADJUSTMENT,
        line(loc("Main", gl_account="50111"), loc("Main", bin=None, gl_account="10150")),
    )
    prepare(gl_only, FACTS)
