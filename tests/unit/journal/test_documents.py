"""Conversion into the posting engine's document, job history (JCH) with burden and use
tax, the GL of burden and use tax, and the reverse helper."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from server.domain.journal import (
    BillingRate,
    JobBilling,
    LineOrigin,
    TransactionType,
    job_history,
    posting_document,
    prepare,
    reverse,
)
from server.domain.posting import (
    DocumentKind,
    JobSide,
    LineAction,
    LocationSide,
    Position,
    gl_totals,
    post,
)
from tests.unit.journal.factory import FACTS, facts, job, line, loc, saved, tx

D = Decimal
T = TransactionType


def test_conversion_maps_sides_actions_and_reference() -> None:
    done = saved(
        tx(T.LOC_TO_JOB, line(loc("Main", bin="B1"), job("J1", work_order="WO1"), quantity=2))
    )
    document = posting_document(done, FACTS.settings)
    assert (document.kind, document.reference) == (DocumentKind.JOURNAL_TRANSACTION, "IA-1")
    (posted,) = document.lines
    assert posted.action is LineAction.TRANSFER
    assert posted.from_side == LocationSide("Main", "B1", "10150", "E-MAIN")
    assert posted.to_side == JobSide("J1", "100", "MAT", "", "WO1", "EQ-7", "50100", "E-JOB")
    assert (posted.quantity, posted.unit_cost, posted.extra) == (D(2), D("55.232"), ())


def test_an_unsaved_transaction_has_no_document() -> None:
    draft = prepare(tx(T.ADJUSTMENT, line(loc("Main"))), FACTS).transaction
    with pytest.raises(ValueError, match="no id"):
        posting_document(draft, FACTS.settings)


def test_loc_to_job_posts_stock_out_and_gl_from_inventory_to_cos() -> None:
    done = saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), quantity=4)))
    result = post(posting_document(done, FACTS.settings), FACTS.positions)
    assert result.positions[("123106", "Main")] == Position(D(10), D("55.232"))
    assert gl_totals(result.gl_lines) == {
        ("10150", "E-MAIN"): D("-220.93"),
        ("50100", "E-JOB"): D("220.93"),
    }


def test_job_history_of_a_loc_to_job_and_a_job_to_loc() -> None:
    out = saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", work_order="WO1"), quantity=2)))
    (entry,) = job_history(out)
    assert (entry.job, entry.work_order, entry.equipment, entry.side) == (
        "J1",
        "WO1",
        "EQ-7",
        "to_side",
    )
    assert (entry.quantity, entry.quantity_billable) == (D(2), D(2))
    assert (entry.unit_cost, entry.material_cost) == (D("55.232"), D("110.46"))
    assert (entry.billing_rate, entry.unit_price, entry.amount_revenue) == (
        BillingRate.MARKUP,
        D("66.278400"),
        D("132.56"),
    )
    assert entry.transaction_id == "IA-1"
    # Returning: a negative quantity and a negative billable quantity on the job.
    back = saved(tx(T.JOB_TO_LOC, line(job("J1", work_order="WO1"), loc("Main"), quantity=2)))
    (entry,) = job_history(back)
    assert (entry.side, entry.quantity, entry.quantity_billable) == ("from_side", D(-2), D(-2))
    assert (entry.material_cost, entry.amount_revenue) == (D("-110.46"), D("-132.56"))


def test_job_to_job_takes_off_one_job_and_puts_on_the_other() -> None:
    done = saved(tx(T.JOB_TO_JOB, line(job("J1"), job("TAX"), quantity=3)))
    entries = job_history(done)
    assert [(e.job, e.quantity) for e in entries] == [("J1", D(-3)), ("TAX", D(3))]


def test_an_adjustment_at_a_job_takes_costs_off_for_a_positive_quantity() -> None:
    done = saved(tx(T.ADJUSTMENT, line(job("J1"), quantity=2)))
    (entry,) = job_history(done)
    assert (entry.quantity, entry.quantity_billable) == (D(-2), D(-2))
    assert job_history(saved(tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"))))) == ()


def test_burden_goes_into_job_history_and_gl_cos_against_income() -> None:
    # BURD at Main: cost 10, burden 1.50 per unit (10% item + 5% location).
    done = saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), item="BURD", quantity=3)))
    (entry,) = job_history(done)
    assert (entry.unit_cost, entry.burden_unit_cost, entry.burden) == (
        D("11.5"),
        D("1.5"),
        D("4.50"),
    )
    assert entry.material_cost == D("34.50")
    result = post(posting_document(done, FACTS.settings), FACTS.positions)
    assert gl_totals(result.gl_lines) == {
        ("10150", "E-MAIN"): D(-30),
        ("50100", "E-JOB"): D("34.50"),
        ("40900", "E-JOB"): D("-4.50"),
    }


def test_use_tax_is_material_cost_in_jch_and_expense_plus_liability_in_gl() -> None:
    # 3 x 55.232 = 165.696 -> 165.70; use tax 8% of 165.696 = 13.25568 -> 13.26.
    done = saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("TAX"), quantity=3)))
    (entry,) = job_history(done)
    assert (entry.use_tax, entry.material_cost) == (D("13.26"), D("178.96"))
    result = post(posting_document(done, FACTS.settings), FACTS.positions)
    assert gl_totals(result.gl_lines) == {
        ("10150", "E-MAIN"): D("-165.70"),
        ("50100", "E-JOB"): D("178.96"),
        ("21500", "E-JOB"): D("-13.26"),
    }
    assert result.total_debit == result.total_credit


def test_giving_stock_back_gives_back_burden_and_use_tax() -> None:
    done = saved(
        tx(T.JOB_TO_LOC, line(job("TAX"), loc("Main"), item="BURD", quantity=2, unit_cost=D(10)))
    )
    (entry,) = job_history(done)
    assert (entry.burden, entry.use_tax, entry.material_cost) == (
        D("-3.00"),
        D("-1.60"),
        D("-24.60"),
    )
    result = post(posting_document(done, FACTS.settings), FACTS.positions)
    assert gl_totals(result.gl_lines) == {
        ("50100", "E-JOB"): D("-24.60"),
        ("10150", "E-MAIN"): D(20),
        ("40900", "E-JOB"): D("3.00"),
        ("21500", "E-JOB"): D("1.60"),
    }


def test_no_gl_line_no_burden_or_use_tax_gl_but_still_in_job_history() -> None:
    done = saved(
        tx(T.LOC_TO_JOB, line(loc("Main", gl_account=""), job("TAX", gl_account=""), item="BURD"))
    )
    assert job_history(done)[0].use_tax == D("0.80")
    assert post(posting_document(done, FACTS.settings), FACTS.positions).gl_lines == ()


def test_serial_transfer_moves_the_serial_out_of_its_bin_at_its_actual_cost() -> None:
    done = saved(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), item="SER", serial="S1")))
    result = post(posting_document(done, FACTS.settings), {})
    (effect,) = result.serial_effects
    assert (effect.source, effect.target, effect.actual_cost) == (
        LocationSide("Main", "B1", "10150", "E-MAIN"),
        None,
        D("101.50"),
    )


# -- reverse -------------------------------------------------------------------------------


def test_reverse_of_the_average_cost_adjustment_restores_the_old_average() -> None:
    original = saved(
        tx(
            T.ADJUSTMENT,
            line(loc("Main", gl_account="50111"), loc("Main", gl_account="10150"), quantity=-14),
            line(
                loc("Main", gl_account="50111"),
                loc("Main", gl_account="10150"),
                quantity=14,
                line_no=2,
                unit_cost=D(57),
            ),
        )
    )
    first = post(posting_document(original, FACTS.settings), FACTS.positions)
    draft = reverse(original, date(2025, 3, 20))
    assert draft.description == "Reverses transaction IA-1"
    assert [(x.line_no, x.quantity, x.unit_cost) for x in draft.lines] == [
        (1, D(-14), D(57)),
        (2, D(14), D("55.232")),
    ]
    undone = post(posting_document(saved(draft, number="IA-2"), FACTS.settings), first.positions)
    assert undone.positions[("123106", "Main")] == Position(D(14), D("55.232"))
    both = gl_totals(first.gl_lines + undone.gl_lines)
    assert set(both.values()) == {D(0)}


def test_reverse_of_a_loc_to_job_is_the_job_to_loc_back_to_the_cent() -> None:
    original = saved(
        tx(T.LOC_TO_JOB, line(loc("Main"), job("TAX", work_order=""), item="BURD", quantity=3))
    )
    draft = reverse(original, date(2025, 3, 21), description="wrong job")
    assert draft.transaction_type is T.JOB_TO_LOC and draft.description == "wrong job"
    (back,) = draft.lines
    assert back.origin is LineOrigin.REVERSAL
    assert (back.from_side.job, back.to_side and back.to_side.location) == ("TAX", "Main")
    # Today's rates changed: the reversal still undoes the original values.
    changed = facts(
        jobs={**FACTS.jobs, "TAX": replace(FACTS.jobs["TAX"], use_tax_rate=D(50))},
        items={**FACTS.items, "BURD": replace(FACTS.items["BURD"], burden_rate=D(90))},
    )
    done = saved(draft, changed, "IA-2")
    history = job_history(original) + job_history(done)
    assert sum((e.material_cost for e in history), D(0)) == D(0)
    assert sum((e.amount_revenue for e in history), D(0)) == D(0)
    gl = post(posting_document(original, FACTS.settings), FACTS.positions).gl_lines
    gl += post(posting_document(done, FACTS.settings), FACTS.positions).gl_lines
    assert set(gl_totals(gl).values()) == {D(0)}


def test_reverse_of_an_adjustment_at_a_job_negates_billing_and_keeps_blank_gl_blank() -> None:
    original = saved(tx(T.ADJUSTMENT, line(job("J1", billing=JobBilling(extra=True)), quantity=2)))
    draft = reverse(original, date(2025, 3, 21))
    (back,) = draft.lines
    assert back.quantity == D(-2)
    assert back.from_side.gl_account == "" and back.from_side.billing.quantity_billable == D(-2)
    done = saved(draft, number="IA-2")
    history = job_history(original) + job_history(done)
    assert [e.quantity for e in history] == [D(-2), D(2)]
    assert sum((e.amount_revenue for e in history), D(0)) == D(0)


def test_only_a_saved_transaction_can_be_reversed() -> None:
    with pytest.raises(ValueError, match="saved"):
        reverse(tx(T.ADJUSTMENT, line(loc("Main"))), date(2025, 3, 1))
