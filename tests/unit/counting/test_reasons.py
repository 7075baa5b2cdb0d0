"""Reason codes (fits the line and is active) and decisions on many lines (all or nothing,
what changed), as pure domain rules."""

from __future__ import annotations

import pytest

from server.domain.counting import (
    REASON_KINDS,
    Approval,
    DiscrepancyLine,
    LineFilter,
    LineKind,
    ReasonCode,
    Reconciliation,
    Review,
    ReviewAction,
    approve,
    choose_lines,
    decide_lines,
    new_reason_code,
    reconcile,
)
from server.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.unit.counting.factory import D, balance, bin_count, counts, serial, snapshot

CODES = {
    c.code: c
    for c in (
        ReasonCode("DAMAGED", "Damaged", frozenset({LineKind.MISSING})),
        ReasonCode("MISCOUNT", "Miscounted"),  # every kind
        ReasonCode("MOVED", "Moved", frozenset({LineKind.SERIAL_TRANSFER})),
        ReasonCode("OLD", "Retired", active=False),
    )
}


def _scenario() -> Reconciliation:
    """B1 (counted by carl): S1 missing, 2 BULK short at 2.00; B2 (rita): S2 moved in."""
    snap = snapshot(
        [serial("S1", "B1", "50"), serial("S2", "B3", "80")],
        [balance("BULK", "B1", "10", cost="2")],
    )
    return reconcile(
        snap,
        counts(
            bin_count("B1", quantities={("BULK", ""): "8"}, counter="carl"),
            bin_count("B2", ["S2"], counter="rita", device="dev2"),
            bin_count("B3", counter="rita", device="dev2", start=20),
        ),
    )


def _line(recon: Reconciliation, kind: LineKind) -> DiscrepancyLine:
    return next(x for x in recon.lines if x.kind is kind)


def test_a_code_fits_its_kinds_and_an_empty_list_fits_every_adjustable_kind() -> None:
    damaged, miscount = CODES["DAMAGED"], CODES["MISCOUNT"]
    assert damaged.fits(LineKind.MISSING) and not damaged.fits(LineKind.UNKNOWN)
    assert all(miscount.fits(k) for k in REASON_KINDS) and len(REASON_KINDS) == 5
    assert not miscount.fits(LineKind.RELEASED) and not miscount.fits(LineKind.BIN_COUNT_CONFLICT)


def test_approval_needs_a_known_active_fitting_code_and_names_what_would_fit() -> None:
    recon = _scenario()
    missing = _line(recon, LineKind.MISSING)
    assert approve(missing, "sue", "DAMAGED", CODES) == Approval(missing.id, "sue", "DAMAGED")
    for code, why in (
        ("NOPE", "'NOPE' is not a reason code"),
        ("OLD", "'OLD' is not active"),
        ("MOVED", "'MOVED' does not fit a missing line"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            approve(missing, "sue", code, CODES)
        (problem,) = exc.value.details
        assert problem.location == "reason_code" and why in problem.message
        assert problem.message.endswith("codes that fit a missing line: DAMAGED, MISCOUNT")


def test_new_reason_code_checks_every_field() -> None:
    code = new_reason_code(" FOUND ", "Found", ["unknown", "GENERATED", ""])
    assert code.code == "FOUND" and code.kind_values == ("unknown", "generated")
    with pytest.raises(ValidationFailed) as exc:
        new_reason_code("has space", " ", ["released", "nope"])
    assert [p.location for p in exc.value.details] == ["code", "description", "kinds"]
    assert "can be approved" in exc.value.details[2].message
    with pytest.raises(ValidationFailed, match="not valid"):
        new_reason_code("X", "x", ["bin_count_conflict"])  # never approvable


def test_bulk_approval_is_all_or_nothing_and_lists_every_refused_line() -> None:
    recon = _scenario()
    lines = choose_lines(recon.lines, where=LineFilter())
    assert {x.kind for x in lines} == {
        LineKind.MISSING,
        LineKind.QUANTITY_VARIANCE,
        LineKind.SERIAL_TRANSFER,
    }
    # carl counted B1 (missing S1, BULK): both lines listed, nothing decided.
    with pytest.raises(PermissionDenied) as exc:
        decide_lines(lines, Review(), ReviewAction.APPROVE, "carl", "MISCOUNT", CODES)
    assert sorted(p.location for p in exc.value.details) == sorted(
        f"lines/{x.id}" for x in lines if "carl" in x.counters
    )
    # A code that fits only some lines: each other line is named with what would fit.
    with pytest.raises(ValidationFailed) as exc:
        decide_lines(lines, Review(), ReviewAction.APPROVE, "sue", "DAMAGED", CODES)
    assert len(exc.value.details) == 2
    assert all(p.location.endswith("/reason_code") for p in exc.value.details)
    # An unknown code is one problem for the whole request.
    with pytest.raises(ValidationFailed) as exc:
        decide_lines(lines, Review(), ReviewAction.APPROVE, "sue", "NOPE", CODES)
    assert [p.location for p in exc.value.details] == ["reason_code"]
    decided = decide_lines(lines, Review(), ReviewAction.APPROVE, "sue", "MISCOUNT", CODES)
    assert all(d.changed and d.approval == Approval(d.line.id, "sue", "MISCOUNT") for d in decided)


def test_decisions_report_what_changed() -> None:
    recon = _scenario()
    missing = _line(recon, LineKind.MISSING)
    bulk = _line(recon, LineKind.QUANTITY_VARIANCE)
    review = Review(
        cleared=frozenset({missing.id}),
        approvals={bulk.id: Approval(bulk.id, "sue", "MISCOUNT")},
    )
    cleared = decide_lines([missing, bulk], review, ReviewAction.CLEAR, "sue")
    assert [(d.line.id, d.changed, d.cleared) for d in cleared] == [
        (missing.id, False, True),
        (bulk.id, True, True),
    ]
    assert cleared[1].approval == review.approvals[bulk.id]  # clearing keeps the approval
    again = decide_lines([missing, bulk], review, ReviewAction.APPROVE, "sue", "MISCOUNT", CODES)
    assert [d.changed for d in again] == [True, False]  # the cleared one is selected again
    exceptional = reconcile(snapshot(outside=[serial("R1", "X9")]), counts(bin_count("B2", ["R1"])))
    with pytest.raises(Conflict):
        decide_lines(exceptional.lines, Review(), ReviewAction.SELECT, "sue")


def test_filters_choose_adjustable_lines_by_kind_value_and_tolerance() -> None:
    recon = _scenario()
    missing = _line(recon, LineKind.MISSING)  # 50.00
    bulk = _line(recon, LineKind.QUANTITY_VARIANCE)  # 4.00
    transfer = _line(recon, LineKind.SERIAL_TRANSFER)  # 80.00

    def ids(where: LineFilter, need: frozenset[str] = frozenset()) -> set[str]:
        return {x.id for x in choose_lines(recon.lines, where=where, need=need)}

    assert ids(LineFilter(max_value=D(50))) == {missing.id, bulk.id}  # at or under
    assert ids(LineFilter(max_value=D("49.99"))) == {bulk.id}
    assert ids(LineFilter(kind=LineKind.SERIAL_TRANSFER)) == {transfer.id}
    assert ids(LineFilter(bin="B3")) == {transfer.id}  # its source bin
    assert ids(LineFilter(item="BULK")) == {bulk.id}
    need = frozenset({missing.id})
    assert ids(LineFilter(above_tolerance=True), need) == {missing.id}
    assert ids(LineFilter(above_tolerance=False), need) == {bulk.id, transfer.id}
    with pytest.raises(NotFound) as exc:
        choose_lines(recon.lines, line_ids=[missing.id, "nope", "gone"])
    assert [p.location for p in exc.value.details] == ["line_ids/nope", "line_ids/gone"]
