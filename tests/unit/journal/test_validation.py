"""Seed 004's validation rules, one test (or parametrised case) per rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from server.domain.errors import ValidationFailed
from server.domain.journal import (
    JournalSettings,
    JournalTransaction,
    JournalWarning,
    LineOrigin,
    TransactionType,
    prepare,
    stamp,
)
from tests.unit.journal.factory import FACTS, NOW, facts, job, line, loc, tx

D = Decimal
T = TransactionType


def problems(transaction: JournalTransaction, data=FACTS) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        prepare(transaction, data)
    return {p.location: p.message for p in exc.value.details}


def ok(transaction: JournalTransaction, data=FACTS) -> tuple[JournalWarning, ...]:  # type: ignore[no-untyped-def]
    return prepare(transaction, data).warnings


# -- transaction types and sides ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "from_side", "to_side"),
    [
        (T.LOC_TO_LOC, loc("Main"), loc("North")),
        (T.LOC_TO_JOB, loc("Main"), job("J1")),
        (T.JOB_TO_JOB, job("J1"), job("J2")),
        (T.JOB_TO_LOC, job("J1"), loc("Main")),
        (T.ADJUSTMENT, loc("Main"), None),
        (T.ADJUSTMENT, job("J1"), None),
    ],
)
def test_each_type_accepts_its_sides(kind, from_side, to_side) -> None:  # type: ignore[no-untyped-def]
    ok(tx(kind, line(from_side, to_side)))


@pytest.mark.parametrize(
    ("kind", "from_side", "to_side", "where", "says"),
    [
        (T.LOC_TO_LOC, loc("Main"), job("J1"), "to_side", "takes no job data"),
        (T.LOC_TO_LOC, job("J1"), loc("Main"), "from_side", "takes no job data"),
        (T.LOC_TO_LOC, loc("Main", bill_item="B"), loc("North"), "from_side", "no job data"),
        (T.LOC_TO_JOB, job("J1"), job("J2"), "from_side", "needs a location"),
        (T.LOC_TO_JOB, loc("Main"), loc("North"), "to_side", "needs a job"),
        (T.JOB_TO_JOB, loc("Main"), job("J2"), "from_side", "needs a job"),
        (T.JOB_TO_LOC, job("J1"), job("J2"), "to_side", "needs a location"),
        (T.LOC_TO_JOB, loc("Main"), None, "to_side", "needs a To side"),
        (T.ADJUSTMENT, loc(""), None, "from_side", "give a location or a job"),
    ],
)
def test_a_type_refuses_sides_it_does_not_allow(kind, from_side, to_side, where, says) -> None:  # type: ignore[no-untyped-def]
    found = problems(tx(kind, line(from_side, to_side)))
    assert says in found[f"lines/1/{where}"]


def test_location_and_job_fields_are_exclusive_on_a_side() -> None:
    both = loc("Main", job="J1", cost_code="100", cost_category="MAT")
    found = problems(tx(T.ADJUSTMENT, line(both)))
    assert "exclusive" in found["lines/1/from_side"]
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", location="North"))))
    assert "exclusive" in found["lines/1/to_side"]


def test_billing_fields_count_as_job_data() -> None:
    from server.domain.journal import JobBilling

    side = loc("North", billing=JobBilling(extra=True))
    found = problems(tx(T.LOC_TO_LOC, line(loc("Main"), side)))
    assert "no job data" in found["lines/1/to_side"]


@pytest.mark.parametrize("kind", [T.LOC_TO_JOB, T.JOB_TO_JOB, T.JOB_TO_LOC])
def test_work_orders_on_job_transfers(kind) -> None:  # type: ignore[no-untyped-def]
    wo = job("", "", "", work_order="WO1")
    sides = {
        T.LOC_TO_JOB: (loc("Main"), wo),
        T.JOB_TO_JOB: (wo, job("J2")),
        T.JOB_TO_LOC: (wo, loc("Main")),
    }[kind]
    ok(tx(kind, line(*sides)))


def test_work_order_refused_on_an_adjustment_and_must_match_the_job() -> None:
    found = problems(tx(T.ADJUSTMENT, line(job("J1", work_order="WO1"))))
    assert "Loc-to-Job, Job-to-Job and Job-to-Loc" in found["lines/1/from_side/work_order"]
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J2", work_order="WO1"))))
    assert "belongs to job J1" in found["lines/1/to_side/work_order"]
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", work_order="WO9"))))
    assert "unknown work order" in found["lines/1/to_side/work_order"]
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", equipment="EQ-0"))))
    assert "unknown equipment" in found["lines/1/to_side/equipment"]


def test_transfers_take_positive_quantities_adjustments_any_but_zero() -> None:
    found = problems(tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"), quantity=-1)))
    assert "positive" in found["lines/1/quantity"]
    found = problems(tx(T.ADJUSTMENT, line(loc("Main"), quantity=0)))
    assert "zero" in found["lines/1/quantity"]
    ok(tx(T.ADJUSTMENT, line(loc("Main"), quantity=-3)))


def test_a_loc_to_loc_to_the_same_place_moves_nothing() -> None:
    found = problems(tx(T.LOC_TO_LOC, line(loc("Main", bin="B1"), loc("Main", bin="B1"))))
    assert "nothing moves" in found["lines/1/to_side"]
    ok(tx(T.LOC_TO_LOC, line(loc("Main", bin="B1"), loc("Main", bin="B2"))))


def test_unknown_references_are_named() -> None:
    found = problems(
        tx(
            T.LOC_TO_JOB,
            line(loc("Nowhere"), job("J9"), item="X"),
            line(loc("Main", bin="Z9"), job("J1", "999", "NOPE"), line_no=2),
        )
    )
    assert "unknown item" in found["lines/1/item"]
    assert "unknown location" in found["lines/1/from_side/location"]
    assert "unknown job" in found["lines/1/to_side/job"]
    assert "unknown bin" in found["lines/2/from_side/bin"]
    assert "no cost code" in found["lines/2/to_side/cost_code"]
    assert "unknown cost category" in found["lines/2/to_side/cost_category"]


def test_job_sides_need_cost_code_and_cost_category() -> None:
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", "", ""))))
    assert found["lines/1/to_side/cost_code"] == "required"
    assert found["lines/1/to_side/cost_category"] == "required"


def test_header_rules() -> None:
    found = problems(tx(T.ADJUSTMENT, description="x" * 201))
    assert "at least one line" in found["lines"]
    assert "longer than" in found["description"]
    twice = tx(T.ADJUSTMENT, line(loc("Main")), line(loc("Main")))
    assert "more than once" in problems(twice)["lines/1"]


# -- cost categories -----------------------------------------------------------------------


def test_cost_category_must_be_equipment_or_material() -> None:
    ok(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", cost_category="EQ"))))
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", cost_category="LAB"))))
    assert "only Equipment or Material" in found["lines/1/to_side/cost_category"]


def test_cost_code_usage_filter_limits_the_categories() -> None:
    ok(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", "200", "EQ"))))
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", "200", "MAT"))))
    assert "usage filter" in found["lines/1/to_side/cost_category"]


def test_effective_date_after_the_jobs_date_closed_is_a_warning_not_an_error() -> None:
    warnings = ok(tx(T.LOC_TO_JOB, line(loc("Main"), job("J2"))))
    assert [w.location for w in warnings] == ["lines/1/to_side/job"]
    assert "date closed 2025-03-01" in warnings[0].message
    on_the_day = replace(
        tx(T.LOC_TO_JOB, line(loc("Main"), job("J2"))), effective_date=date(2025, 3, 1)
    )
    assert ok(on_the_day) == ()


# -- period and effective date -------------------------------------------------------------


def test_effective_date_must_fall_inside_the_period() -> None:
    late = replace(tx(T.ADJUSTMENT, line(loc("Main"))), effective_date=date(2025, 4, 1))
    assert "outside period 2025-03" in problems(late)["effective_date"]


def test_a_closed_or_unknown_period_is_refused() -> None:
    closed = replace(
        tx(T.ADJUSTMENT, line(loc("Main")), period="2025-02"), effective_date=date(2025, 2, 3)
    )
    assert "closed" in problems(closed)["period"]
    assert "unknown" in problems(tx(T.ADJUSTMENT, line(loc("Main")), period="1999"))["period"]


def test_period_required_when_gl_accounts_are_given() -> None:
    no_period = facts(periods={})
    with_gl = tx(T.LOC_TO_LOC, line(loc("Main"), loc("Other")), period=None)
    assert problems(with_gl, no_period)["period"] == "required when GL accounts are given"
    blank_gl = tx(
        T.LOC_TO_LOC,
        line(loc("Main", gl_account=""), loc("Other", gl_account="")),
        period=None,
    )
    ok(blank_gl, no_period)


# -- serials and lots ----------------------------------------------------------------------


def test_serial_or_lot_required_for_serialized_and_lot_items_and_refused_otherwise() -> None:
    found = problems(tx(T.ADJUSTMENT, line(loc("Main"), item="SER", unit_cost=D(1))))
    assert "serialized" in found["lines/1/serial"]
    found = problems(tx(T.ADJUSTMENT, line(loc("Main"), item="LOT")))
    assert "lot-controlled" in found["lines/1/lot"]
    found = problems(tx(T.ADJUSTMENT, line(loc("Main"), item="LOT", lot="L1", serial="X")))
    assert "no serials" in found["lines/1/serial"]
    found = problems(tx(T.ADJUSTMENT, line(loc("Main"), serial="X", lot="L")))
    assert set(found) == {"lines/1/serial", "lines/1/lot"}
    ok(tx(T.ADJUSTMENT, line(loc("Main"), item="LOT", lot="L1", quantity=5)))


@pytest.mark.parametrize("quantity", ["2", "-2", "0.5"])
def test_serialized_quantities_only_plus_or_minus_one(quantity: str) -> None:
    found = problems(
        tx(T.ADJUSTMENT, line(loc("Main"), item="SER", serial="S1", quantity=quantity))
    )
    assert "only valid quantities are 1 and -1" in found["lines/1/quantity"]


def test_serial_must_be_on_hand_at_the_from_location() -> None:
    for kind, to_side in ((T.LOC_TO_LOC, loc("North")), (T.LOC_TO_JOB, job("J1"))):
        ok(tx(kind, line(loc("Main"), to_side, item="SER", serial="S1")))
        found = problems(tx(kind, line(loc("Main"), to_side, item="SER", serial="S2")))
        assert "not on hand at Main" in found["lines/1/serial"]
    found = problems(
        tx(T.LOC_TO_LOC, line(loc("Main", bin="B2"), loc("North"), item="SER", serial="S1"))
    )
    assert "is in bin B1, not B2" in found["lines/1/serial"]
    # Removing a serial by adjustment: it must be there too.
    found = problems(tx(T.ADJUSTMENT, line(loc("Main"), item="SER", serial="S2", quantity=-1)))
    assert "not on hand" in found["lines/1/serial"]


def test_serial_presence_is_not_tested_on_jobs() -> None:
    ok(tx(T.JOB_TO_JOB, line(job("J1"), job("J2"), item="SER", serial="GONE")))
    ok(tx(T.JOB_TO_LOC, line(job("J1"), loc("Main"), item="SER", serial="NEVER", unit_cost=D(5))))


def test_no_more_than_one_of_a_serial_from_a_job_into_a_location() -> None:
    twice = tx(
        T.JOB_TO_LOC,
        line(job("J1"), loc("Main"), item="SER", serial="GONE"),
        line(job("J2"), loc("North"), item="SER", serial="GONE", line_no=2),
    )
    assert "more than once" in problems(twice)["lines/2/serial"]
    in_stock = tx(T.JOB_TO_LOC, line(job("J1"), loc("North"), item="SER", serial="S1"))
    assert "already on hand at Main" in problems(in_stock)["lines/1/serial"]


def test_adding_a_serial_needs_the_setting_and_a_serial_not_in_stock() -> None:
    add = tx(T.ADJUSTMENT, line(loc("Main", bin="B1"), item="SER", serial="NEW-1", unit_cost=D(5)))
    ok(add)
    off = facts(settings=JournalSettings())
    assert "not enabled" in problems(add, off)["lines/1/serial"]
    again = tx(T.ADJUSTMENT, line(loc("Main"), item="SER", serial="S2"))
    assert "already on hand at North" in problems(again)["lines/1/serial"]
    # Removing and moving serials need no setting.
    ok(tx(T.ADJUSTMENT, line(loc("Main"), item="SER", serial="S1", quantity=-1)), off)
    ok(tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"), item="SER", serial="S1")), off)


def test_a_serial_transfers_only_at_its_actual_cost() -> None:
    found = problems(
        tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), item="SER", serial="S1", unit_cost=D(1)))
    )
    assert "actual cost 101.50" in found["lines/1/unit_cost"]


# -- GL ------------------------------------------------------------------------------------


def test_a_one_sided_gl_entry_is_refused() -> None:
    found = problems(tx(T.ADJUSTMENT, line(loc("Main", gl_account="50111"))))
    assert "one-sided" in found["lines/1/to_side/gl_account"]
    found = problems(
        tx(T.LOC_TO_LOC, line(loc("Main", gl_account=""), loc("North", gl_account="10150")))
    )
    assert "one-sided" in found["lines/1/from_side/gl_account"]


def test_unknown_gl_account_and_entity() -> None:
    found = problems(
        tx(T.LOC_TO_LOC, line(loc("Main", gl_account="99999"), loc("North", gl_entity="E-?")))
    )
    assert "unknown GL account" in found["lines/1/from_side/gl_account"]
    assert "unknown GL entity" in found["lines/1/to_side/gl_entity"]


def test_intercompany_entity_must_belong_to_the_company_of_the_location_or_job() -> None:
    on = facts(intercompany={"C1": True, "C2": False})
    ok(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"))), on)
    foreign = tx(T.LOC_TO_JOB, line(loc("Main", gl_entity="E-C2"), job("J1", gl_entity="E-C2")))
    found = problems(foreign, on)
    assert (
        "belongs to company C2, not C1 of this line's location"
        in found["lines/1/from_side/gl_entity"]
    )
    assert "not C1 of this line's job" in found["lines/1/to_side/gl_entity"]
    ok(foreign)  # intercompany off: not checked
    blank_entity = tx(T.LOC_TO_JOB, line(loc("Main", gl_entity=""), job("J1")))
    assert "intercompany" in problems(blank_entity, on)["lines/1/from_side/gl_entity"]


def test_burden_and_use_tax_need_their_accounts_when_the_line_posts_gl() -> None:
    none = facts(settings=JournalSettings())
    found = problems(tx(T.LOC_TO_JOB, line(loc("Main"), job("TAX"), item="BURD")), none)
    assert "burden income account" in found["lines/1/burden_unit_cost"]
    assert "use tax liability account" in found["lines/1/to_side/job"]
    ok(
        tx(
            T.LOC_TO_JOB,
            line(loc("Main", gl_account=""), job("TAX", gl_account=""), item="BURD"),
        ),
        none,
    )


# -- system fields -------------------------------------------------------------------------


def test_manual_lines_cannot_carry_computed_fields_or_an_id() -> None:
    from server.domain.journal import JobBilling

    found = problems(
        replace(
            tx(
                T.LOC_TO_JOB,
                line(
                    loc("Main"),
                    job("J1", billing=JobBilling(use_tax_rate=D(1))),
                    burden_unit_cost=D(1),
                ),
            ),
            transaction_id="IA-9",
        )
    )
    assert set(found) == {
        "lines/1/burden_unit_cost",
        "lines/1/to_side/billing/use_tax_rate",
        "transaction_id",
    }
    wizard = line(loc("Main"), job("J1"), burden_unit_cost=D(1), origin=LineOrigin.WIZARD)
    ok(tx(T.LOC_TO_JOB, wizard))


def test_values_out_of_scale_are_refused() -> None:
    from server.domain.journal import JobBilling

    found = problems(
        tx(
            T.LOC_TO_JOB,
            line(
                loc("Main"),
                job("J1", billing=JobBilling(unit_price=D("0.0000001"), amount_revenue=D("1.001"))),
                quantity="0.00001",
                unit_cost=D("-1"),
            ),
        )
    )
    assert "decimal places" in found["lines/1/quantity"]
    assert "negative" in found["lines/1/unit_cost"]
    assert "decimal places" in found["lines/1/to_side/billing/unit_price"]
    assert "decimal places" in found["lines/1/to_side/billing/amount_revenue"]


def test_stamp_sets_the_system_fields_once() -> None:
    draft = prepare(tx(T.ADJUSTMENT, line(loc("Main"))), FACTS).transaction
    done = stamp(draft, "IA-1", "alice", NOW)
    assert (done.transaction_id, done.user_id, done.date_posted) == ("IA-1", "alice", NOW)
    with pytest.raises(ValueError, match="no edits"):
        stamp(done, "IA-2", "bob", NOW)


def test_records_without_a_type_read_as_adjustment() -> None:
    assert TransactionType.of_record(None) is T.ADJUSTMENT
    assert TransactionType.of_record("") is T.ADJUSTMENT
    assert TransactionType.of_record("job_to_loc") is T.JOB_TO_LOC
