"""Seed 004's defaults: unit cost, GL accounts and entities, work order fields, billing,
quantity billable, amount revenue, burden; and the period default."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from server.domain.journal import (
    BillingRate,
    JobBilling,
    JournalLine,
    JournalSettings,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    SideKind,
    TransactionType,
    prepare,
)
from server.domain.journal.defaults import job_sides, side_kind
from server.domain.posting import Position
from tests.unit.journal.factory import FACTS, facts, job, line, loc, tx

D = Decimal
T = TransactionType


def first(transaction: JournalTransaction, data=FACTS) -> JournalLine:  # type: ignore[no-untyped-def]
    return prepare(transaction, data).transaction.lines[0]


# -- unit cost -----------------------------------------------------------------------------


def test_unit_cost_defaults_from_the_location_cost() -> None:
    assert first(tx(T.ADJUSTMENT, line(loc("Main")))).unit_cost == D("55.232")
    # Job-to-Loc: the To location's cost.
    assert first(tx(T.JOB_TO_LOC, line(job("J1"), loc("Main")))).unit_cost == D("55.232")


def test_unit_cost_falls_back_to_the_items_last_cost_when_the_location_cost_is_zero() -> None:
    assert first(tx(T.ADJUSTMENT, line(loc("Main"), item="NEW"))).unit_cost == D("7.25")
    assert first(tx(T.ADJUSTMENT, line(loc("North"), item="NEW"))).unit_cost == D("7.25")
    assert first(tx(T.JOB_TO_JOB, line(job("J1"), job("J1"), item="NEW"))).unit_cost == D("7.25")


def test_a_serials_cost_is_its_actual_cost() -> None:
    moved = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), item="SER", serial="S1")))
    assert moved.unit_cost == D("101.50")


def test_an_entered_unit_cost_is_kept() -> None:
    assert first(tx(T.ADJUSTMENT, line(loc("Main"), unit_cost=D(57)))).unit_cost == D(57)


def test_uom_from_the_item_and_a_serials_bin_from_where_it_is() -> None:
    moved = first(tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"), item="SER", serial="S1")))
    assert moved.uom == "EA"
    assert moved.from_side.bin == "B1"
    assert first(tx(T.ADJUSTMENT, line(loc("Main"), item="PRICED"))).uom == "BOX"


# -- GL accounts and entities --------------------------------------------------------------


def test_gl_accounts_default_from_the_inventory_group_and_the_cost_category() -> None:
    out = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"))))
    assert (out.from_side.gl_account, out.to_side and out.to_side.gl_account) == ("10150", "50100")
    back = first(tx(T.JOB_TO_LOC, line(job("J1", cost_category="EQ"), loc("Main"))))
    assert (back.from_side.gl_account, back.to_side and back.to_side.gl_account) == (
        "50200",
        "10150",
    )


def test_adjustment_accounts_default_only_with_a_to_side() -> None:
    alone = first(tx(T.ADJUSTMENT, line(loc("Main"))))
    assert alone.from_side.gl_account is None
    paired = first(tx(T.ADJUSTMENT, line(loc("Main"), loc("Main"))))
    assert (paired.from_side.gl_account, paired.to_side and paired.to_side.gl_account) == (
        "50111",
        "10150",
    )
    at_job = first(tx(T.ADJUSTMENT, line(job("J1"), loc("Main"))))
    assert at_job.from_side.gl_account == "50100"


def test_blanked_gl_fields_stay_blank() -> None:
    blank = first(
        tx(T.LOC_TO_JOB, line(loc("Main", gl_account="", gl_entity=""), job("J1", gl_account="")))
    )
    assert (blank.from_side.gl_account, blank.from_side.gl_entity) == ("", "")


def test_gl_entity_location_first_then_inventory_group_job_side_from_cost_code() -> None:
    out = first(tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"))))
    assert out.from_side.gl_entity == "E-MAIN"  # the location's
    assert out.to_side is not None and out.to_side.gl_entity == "E-GROUP"  # North has none
    to_job = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"))))
    assert to_job.to_side is not None and to_job.to_side.gl_entity == "E-JOB"
    no_group = first(tx(T.LOC_TO_LOC, line(loc("North"), loc("Main"), item="NOGRP")))
    assert (no_group.from_side.gl_entity, no_group.from_side.gl_account) == (None, None)


def test_job_fields_default_from_the_work_order() -> None:
    got = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("", "", "", work_order="WO1"))))
    assert got.to_side is not None
    side = got.to_side
    assert (side.job, side.cost_code, side.cost_category, side.equipment) == (
        "J1",
        "100",
        "MAT",
        "EQ-7",
    )
    changed = first(
        tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", work_order="WO1", equipment="EQ-8")))
    )
    assert changed.to_side is not None and changed.to_side.equipment == "EQ-8"


def test_the_period_defaults_to_the_one_holding_the_effective_date() -> None:
    draft = tx(T.LOC_TO_LOC, line(loc("Main"), loc("North")), period=None)
    assert prepare(draft, FACTS).transaction.period == "2025-03"


# -- billing -------------------------------------------------------------------------------


def test_unit_price_items_bill_from_the_jobs_price_level() -> None:
    side = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), item="PRICED", quantity=3))).to_side
    assert side is not None
    assert side.billing == JobBilling(
        quantity_billable=D(3),
        billing_rate=BillingRate.UNIT_PRICE,
        revenue_rate=D("12.50"),
        unit_price=D("12.50"),
        amount_revenue=D("37.50"),
        use_tax_rate=D(0),
    )


def test_other_items_bill_by_the_rate_schedules_material_markup() -> None:
    # Cost 55.232 x (1 + 20%) = 66.2784; 2 x 66.2784 = 132.5568 -> 132.56.
    side = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), quantity=2))).to_side
    assert side is not None
    billing = side.billing
    assert (billing.billing_rate, billing.revenue_rate, billing.unit_price) == (
        BillingRate.MARKUP,
        D(20),
        D("66.278400"),
    )
    assert (billing.quantity_billable, billing.amount_revenue) == (D(2), D("132.56"))


def test_the_entered_billing_rate_drives_the_other_defaults() -> None:
    side = first(
        tx(
            T.LOC_TO_JOB,
            line(
                loc("Main"),
                job("J1", billing=JobBilling(billing_rate=BillingRate.MARKUP)),
                item="PRICED",
            ),
        )
    ).to_side
    assert side is not None and side.billing.unit_price == D("4.800000")


def test_entered_billing_values_are_kept_and_quantity_billable_may_be_cleared() -> None:
    entered = JobBilling(quantity_billable=D(0), unit_price=D(99))
    side = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1", billing=entered)))).to_side
    assert side is not None
    assert (side.billing.quantity_billable, side.billing.unit_price) == (D(0), D(99))
    assert side.billing.amount_revenue == D(0)


def test_fixed_fee_and_allow_extra_billing_earn_revenue_only_on_extras() -> None:
    for code in ("FIX", "XTRA"):
        plain = first(tx(T.LOC_TO_JOB, line(loc("Main"), job(code), item="PRICED"))).to_side
        assert plain is not None and plain.billing.amount_revenue == D(0)
        extra = first(
            tx(
                T.LOC_TO_JOB,
                line(loc("Main"), job(code, billing=JobBilling(extra=True)), item="PRICED"),
            )
        ).to_side
        assert extra is not None and extra.billing.amount_revenue == D("12.50")


def test_wizard_lines_default_quantity_billable_only_if_the_setting_says_so() -> None:
    wizard = line(job("J1"), loc("Main"), quantity=2, origin=LineOrigin.WIZARD)
    off = first(tx(T.JOB_TO_LOC, wizard)).from_side.billing
    assert off.quantity_billable == D(0) and off.amount_revenue == D(0)
    on = facts(settings=replace(FACTS.settings, wizard_defaults_quantity_billable=True))
    assert first(tx(T.JOB_TO_LOC, wizard), on).from_side.billing.quantity_billable == D(2)


def test_a_job_without_price_level_prices_at_zero() -> None:
    side = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J2"), item="PRICED"))).to_side
    assert side is not None and side.billing.unit_price == D(0)


def test_billing_is_defaulted_on_job_sides_only() -> None:
    got = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"))))
    assert got.from_side.billing == JobBilling()
    adjusted = first(tx(T.ADJUSTMENT, line(job("J1"), loc("Main"))))
    assert adjusted.from_side.billing.quantity_billable == D(1)
    assert adjusted.to_side is not None and adjusted.to_side.billing == JobBilling()


# -- burden --------------------------------------------------------------------------------


def test_burden_from_the_item_and_the_location_when_the_group_applies_it() -> None:
    # BURD: cost 10, item burden 10%, group applies location burden, Main has 5%.
    got = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"), item="BURD")))
    assert got.burden_unit_cost == D("1.500000")
    north = first(tx(T.LOC_TO_JOB, line(loc("North"), job("J1"), item="BURD", unit_cost=D(10))))
    assert north.burden_unit_cost == D("1.000000")  # North has no burden rate
    job_to_job = first(tx(T.JOB_TO_JOB, line(job("J1"), job("J1"), item="BURD")))
    assert job_to_job.burden_unit_cost == D("1.000000")


def test_location_burden_needs_the_groups_flag_and_burden_only_on_job_transfers() -> None:
    no_flag = facts(
        locations={**FACTS.locations, "Main": replace(FACTS.locations["Main"], burden_rate=D(50))}
    )
    # 123106's group STD does not apply location burden, and the item has none.
    assert first(tx(T.LOC_TO_JOB, line(loc("Main"), job("J1"))), no_flag).burden_unit_cost == D(0)
    assert first(
        tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"), item="BURD"))
    ).burden_unit_cost == D(0)
    assert first(tx(T.ADJUSTMENT, line(loc("Main"), item="BURD"))).burden_unit_cost == D(0)


def test_use_tax_rate_comes_from_the_job() -> None:
    side = first(tx(T.LOC_TO_JOB, line(loc("Main"), job("TAX")))).to_side
    assert side is not None and side.billing.use_tax_rate == D(8)


def test_unknown_item_leaves_cost_undefaulted() -> None:
    data = facts(items={}, positions={("X", "Main"): Position(D(1), D(1))})
    from server.domain.journal import apply_defaults

    got = apply_defaults(tx(T.ADJUSTMENT, line(loc("Main"), item="X")), data).lines[0]
    assert got.unit_cost is None and got.uom is None


def test_no_settings_are_needed_for_plain_transfers() -> None:
    plain = facts(settings=JournalSettings())
    assert prepare(tx(T.LOC_TO_LOC, line(loc("Main"), loc("North"))), plain).warnings == ()


# -- the copies the defaults make ------------------------------------------------------------


def test_the_defaults_copies_keep_every_other_field_as_replace_does() -> None:
    """`with_gl`, `with_costs` and `with_sides` list the fields by position (for speed): each
    field of the model set to a value unlike its default, the copy must equal what
    `dataclasses.replace` gives, so a field added to the model and left out fails here."""
    billing = JobBilling(D(2), True, BillingRate.MARKUP, D(10), D(3), D(6), D("1.5"))
    side = JournalSide("L", "B", "J", "CC", "BI", "CAT", "WO", "EQ", "5000", "E1", billing)
    other = JournalSide("L2", "B2")
    assert side.with_gl("6000", "E2") == replace(side, gl_account="6000", gl_entity="E2")
    assert side.with_gl(None, None, JobBilling()) == replace(
        side, gl_account=None, gl_entity=None, billing=JobBilling()
    )
    full = JournalLine(
        7, "ITEM", D(3), side, other, "SN", "LOT", D(4), "EA", D(1), LineOrigin.WIZARD
    )
    assert full.with_costs("BOX", D(9), D(2)) == replace(
        full, uom="BOX", unit_cost=D(9), burden_unit_cost=D(2)
    )
    assert full.with_sides(other, None) == replace(full, from_side=other, to_side=None)


# -- what a side holds, and the sides that write job history --------------------------------

BILLED = JobBilling(extra=True)
SHAPES = {
    "nothing": JournalSide(),
    "location": JournalSide("L"),
    "bin only": JournalSide(bin="B"),
    "job": JournalSide(job="J"),
    "work order only": JournalSide(work_order="WO"),
    "billing only": JournalSide(billing=BILLED),
    "location and job": JournalSide("L", job="J"),
    "bin and billing": JournalSide(bin="B", billing=BILLED),
}


def test_a_sides_kind_is_a_location_or_a_job_never_both() -> None:
    """`kind` is written for speed: against the rule as the model states it."""
    assert {name: side.kind for name, side in SHAPES.items()} == {
        "nothing": None,
        "location": SideKind.LOCATION,
        "bin only": SideKind.LOCATION,
        "job": SideKind.JOB,
        "work order only": SideKind.JOB,
        "billing only": SideKind.JOB,
        "location and job": None,
        "bin and billing": None,
    }


def test_job_sides_are_the_job_sides_by_type_and_an_adjustments_from_side_at_a_job() -> None:
    """`job_sides` looks a transfer's sides up by its type: against `side_kind` read side by
    side, for every type, every shape of side and a line with and without a To side."""
    for transaction_type in TransactionType:
        for source in SHAPES.values():
            for target in (None, *SHAPES.values()):
                made = JournalLine(1, "ITEM", D(1), source, target)
                expected = []
                if side_kind(transaction_type, source, False) is SideKind.JOB:
                    expected.append("from_side")
                if (
                    transaction_type is not TransactionType.ADJUSTMENT
                    and target is not None
                    and side_kind(transaction_type, target, True) is SideKind.JOB
                ):
                    expected.append("to_side")
                assert job_sides(transaction_type, made) == tuple(expected), (
                    transaction_type,
                    source,
                    target,
                )
