"""Supervisor review: clearing, tolerances, approvals with reasons, segregation of duties,
and the count profile's columns."""

from __future__ import annotations

import pytest

from server.domain.counting import (
    Approval,
    LineKind,
    ReasonCode,
    Reconciliation,
    Review,
    ToleranceRules,
    approve,
    lines_needing_approval,
    lines_to_adjust,
    profile_lines,
    reconcile,
)
from server.domain.errors import Conflict, PermissionDenied, ValidationFailed
from tests.unit.counting.factory import D, balance, bin_count, counts, serial, snapshot

LOOSE = ToleranceRules(quantity=D(1000), value=D(1_000_000))
CODES = {c.code: c for c in (ReasonCode("DAMAGED", "Damaged"), ReasonCode("MISPLACED", "Moved"))}


def recon_with_bulk(counted: str, system: str = "100") -> Reconciliation:
    snap = snapshot(balances=[balance("BULK", "B1", system, cost="2")])
    return reconcile(snap, counts(bin_count("B1", quantities={("BULK", ""): counted})))


def test_cleared_lines_are_not_adjusted() -> None:
    snap = snapshot([serial("S1", "B1"), serial("S2", "B1")])
    recon = reconcile(snap, counts(bin_count("B1"), bin_count("B2", ["S1"])))
    transfer = recon.serial_transfer_proposals[0]
    chosen = lines_to_adjust(recon, Review(cleared=frozenset({transfer.id})), LOOSE)
    assert [x.kind for x in chosen] == [LineKind.MISSING]


def test_exceptions_are_never_adjusted() -> None:
    snap = snapshot(outside=[serial("R1", "X9")])
    recon = reconcile(snap, counts(bin_count("B2", ["R1"])))
    assert lines_to_adjust(recon, Review(), LOOSE) == ()
    with pytest.raises(Conflict):
        approve(recon.lines[0], "sue", "DAMAGED", CODES)


@pytest.mark.parametrize(
    ("rules", "counted", "auto"),
    [
        (ToleranceRules(quantity=D(2)), "98", True),  # at the limit: approved
        (ToleranceRules(quantity=D(2)), "97", False),
        (ToleranceRules(percent=D(5)), "95", True),
        (ToleranceRules(percent=D(5)), "94.9", False),
        (ToleranceRules(value=D(10)), "105", True),  # 5 x 2.00 = 10.00
        (ToleranceRules(value=D(10)), "105.01", False),
        (ToleranceRules(quantity=D(10), value=D(1)), "99", False),  # every limit must hold
        (ToleranceRules(), "99.99", False),  # no rule set: nothing automatic
    ],
)
def test_tolerances(rules: ToleranceRules, counted: str, auto: bool) -> None:
    recon = recon_with_bulk(counted)
    assert (lines_needing_approval(recon, rules) == frozenset()) is auto


def test_percent_of_nothing_expected_always_needs_approval() -> None:
    recon = recon_with_bulk("1", system="0")
    assert lines_needing_approval(recon, ToleranceRules(percent=D(100))) == {recon.lines[0].id}


def test_gross_not_net_per_item_and_bin() -> None:
    # One serial written off and another gained in B1: net zero, gross two.
    snap = snapshot([serial("S1", "B1", "10")])
    recon = reconcile(snap, counts(bin_count("B1", ["S9"])))
    assert len(lines_needing_approval(recon, ToleranceRules(quantity=D(1)))) == 2
    assert lines_needing_approval(recon, ToleranceRules(quantity=D(2))) == frozenset()


def test_above_tolerance_needs_an_approval_with_a_reason() -> None:
    recon = recon_with_bulk("50")
    rules = ToleranceRules(quantity=D(1))
    with pytest.raises(Conflict) as exc:
        lines_to_adjust(recon, Review(), rules)
    assert exc.value.code == "approval-required"
    line = recon.lines[0]
    with pytest.raises(ValidationFailed):
        approve(line, "sue", "  ", CODES)
    approval = approve(line, "sue", " DAMAGED ", CODES)
    assert approval == Approval(line.id, "sue", "DAMAGED")
    assert lines_to_adjust(recon, Review(approvals={line.id: approval}), rules) == (line,)
    # Clearing is the other way out.
    assert lines_to_adjust(recon, Review(cleared=frozenset({line.id})), rules) == ()


def test_a_counter_cannot_approve_a_discrepancy_in_a_bin_they_counted() -> None:
    snap = snapshot([serial("S1", "B1")])
    recon = reconcile(
        snap, counts(bin_count("B1", counter="carl"), bin_count("B2", ["S1"], counter="rita"))
    )
    (line,) = recon.lines
    for user in ("carl", "rita"):
        with pytest.raises(PermissionDenied):
            approve(line, user, "MISPLACED", CODES)
    # An approval recorded before the approver counted the bin is void at finalize.
    stale = Review(approvals={line.id: Approval(line.id, "rita", "MISPLACED")})
    with pytest.raises(Conflict):
        lines_to_adjust(recon, stale, ToleranceRules(quantity=D(0)))
    assert approve(line, "sue", "MISPLACED", CODES).approved_by == "sue"


def test_profile_line_columns_for_serials() -> None:
    snap = snapshot([serial("S1", "B1", "10"), serial("S2", "B1", "20"), serial("S3", "B2", "40")])
    recon = reconcile(snap, counts(bin_count("B1", ["S3"]), bin_count("B2")))
    by_bin = {p.bin: p for p in profile_lines(recon.lines)}
    b1 = by_bin["B1"]
    assert b1.adjustment_quantity == D(-2)  # S1 and S2 written off
    assert b1.stock_transfer_quantity == D(1)  # S3 moved in from B2
    assert b1.adjustment_cost == D("23.333333")  # (10 + 20 + 40) / 3: serials concerned
    assert b1.adjustment_value == D("-30.00")
    assert b1.stock_transfer_value == D("40.00")
    assert (b1.system_quantity, b1.counted_quantity) == (D(2), D(1))
    assert "B2" not in by_bin  # the source bin's loss is the transfer, not an adjustment


def test_profile_value_is_quantity_times_cost_when_one_way() -> None:
    snap = snapshot([serial("S1", "B1", "10"), serial("S2", "B1", "20.5")])
    recon = reconcile(snap, counts(bin_count("B1")))
    (p,) = profile_lines(recon.lines)
    assert p.adjustment_value == p.adjustment_quantity * p.adjustment_cost == D("-30.50")
