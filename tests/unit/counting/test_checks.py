"""Checking a bin count before it is recorded (server.domain.counting.checks): status,
who may count the bin, times and quantities, contents against the master data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

import pytest

from server.domain.auth import Caller, CallerKind
from server.domain.counting import BinCount, CountStatus, Snapshot, reconcile
from server.domain.counting.checks import (
    check_contents,
    check_contents_of_many,
    check_counter,
    checked_quantities,
    takes_bin_counts,
)
from server.domain.counting.reconciliation import content_problems
from server.domain.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from server.domain.masterdata import Role
from tests.unit.counting.factory import ITEMS, SCOPE, T0, D, bin_count, counts

CARL = Caller(CallerKind.USER, "carl", user_id=3, role=Role.COUNTER)
SUPER = Caller(CallerKind.USER, "sue", user_id=2, role=Role.SUPERVISOR)
DEVICE = Caller(CallerKind.DEVICE, "scanner", device_id=7, location_id=1)


@pytest.mark.parametrize("status", [CountStatus.COUNTING, CountStatus.COUNTED])
def test_bin_counts_are_taken_while_counting_and_counted(status: CountStatus) -> None:
    assert takes_bin_counts(status) is status


@pytest.mark.parametrize("status", [CountStatus.OPEN, CountStatus.COMPLETED, CountStatus.CANCELLED])
def test_bin_counts_are_refused_in_other_statuses(status: CountStatus) -> None:
    with pytest.raises(Conflict) as exc:
        takes_bin_counts(status)
    assert exc.value.code == "count-status"


def test_quantities_are_summed_per_item_and_lot() -> None:
    entries = [("BULK", "", D("1.5")), ("LOT", "L1", D(2)), ("BULK", "", D(1))]
    assert checked_quantities(T0, T0, entries) == {("BULK", ""): D("2.5"), ("LOT", "L1"): D(2)}


def test_a_bin_count_finishes_after_it_starts() -> None:
    with pytest.raises(ValidationFailed) as exc:
        checked_quantities(T0, T0 - timedelta(seconds=1), [])
    assert exc.value.details[0].location == "finished_at"


def test_a_quantity_with_too_many_places_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        checked_quantities(T0, T0, [("BULK", "", D("1.0000001"))])
    assert exc.value.details[0].location == "quantities/BULK"


def test_an_assigned_bin_is_counted_by_its_counter_or_device_or_a_supervisor() -> None:
    check_counter(CARL, "B1", None, None)  # not assigned: anyone
    check_counter(CARL, "B1", None, "carl")
    check_counter(DEVICE, "B1", 7, None)
    check_counter(SUPER, "B1", 7, "bob")
    for caller, device, counter in ((CARL, None, "bob"), (CARL, 7, None), (DEVICE, 8, "carl")):
        with pytest.raises(PermissionDenied):
            check_counter(caller, "B1", device, counter)


def test_good_contents_pass() -> None:
    check_contents(
        bin_count("B1", ["S1", "S77"], {("LOT", "L1"): "2", ("AUTO", ""): "3"}), "MAIN", ITEMS
    )


@pytest.mark.parametrize(
    ("serials", "quantities", "problem"),
    [
        ([("NOPE", "S1")], {}, "unknown item 'NOPE'"),
        ([("BULK", "S1")], {}, "item 'BULK' is not serial-tracked"),
        ([], {("SER", ""): "1"}, "a serialized item is counted by scanning its serials"),
        ([], {("LOT", ""): "1"}, "a lot-tracked item is counted per lot"),
        ([], {("BULK", ""): "-1"}, "a counted quantity cannot be negative"),
    ],
)
def test_contents_that_do_not_fit_the_master_data_are_refused(
    serials: list[tuple[str, str]], quantities: dict[tuple[str, str], str], problem: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_contents(bin_count("B1", serials, quantities), "MAIN", ITEMS)
    assert [p.message for p in exc.value.details] == [problem]


BAD_CONTENTS = [
    ([("NOPE", "S1")], {}),
    ([("BULK", "S1")], {}),
    ([], {("SER", ""): "1"}),
    ([], {("LOT", ""): "1"}),
    ([], {("BULK", ""): "-1"}),
]


@pytest.mark.parametrize(("serials", "quantities"), BAD_CONTENTS)
def test_a_lot_of_bin_counts_is_refused_with_the_problems_each_has_alone(
    serials: list[tuple[str, str]], quantities: dict[tuple[str, str], str]
) -> None:
    bad = bin_count("B2", serials, quantities)
    with pytest.raises(ValidationFailed) as alone:
        check_contents(bad, "MAIN", ITEMS)
    good = [bin_count("B1", ["S1"], {("LOT", "L1"): "2"}), bin_count("B3", ["S77"])]
    with pytest.raises(ValidationFailed) as together:
        check_contents_of_many([good[0], bad, good[1]], "MAIN", ITEMS)
    assert together.value.details == alone.value.details
    # Two counts of one bin are checked one by one: the good one does not hide the bad.
    with pytest.raises(ValidationFailed) as same_bin:
        check_contents_of_many([bin_count("B2", ["S1"]), bad], "MAIN", ITEMS)
    assert same_bin.value.details == alone.value.details


def test_a_lot_of_good_bin_counts_passes() -> None:
    check_contents_of_many(
        [bin_count(f"B{n}", ["S1", "S77"], {("AUTO", ""): "3"}) for n in range(50)], "MAIN", ITEMS
    )


def _reconcile_problems(
    scope: frozenset[str], effective: dict[str, BinCount]
) -> list[FieldProblem]:
    try:
        reconcile(Snapshot("MAIN", scope, {}, ITEMS), effective)
    except ValidationFailed as exc:
        return list(exc.details)
    return []


def _contents(
    effective: dict[str, BinCount],
) -> dict[str, tuple[frozenset[tuple[str, str]], Mapping[tuple[str, str], Decimal]]]:
    return {label: (bc.serials, bc.quantities) for label, bc in effective.items()}


def test_content_problems_are_those_of_a_reconciliation_against_an_empty_snapshot() -> None:
    """The lot's check finds exactly the problems (same messages, same order, the same
    first 100) that a reconciliation against an empty snapshot raises, without its lines:
    bins outside the scope, serials of unknown or untracked items (not when scanned in
    two bins: a conflict), every way a keyed quantity does not fit."""
    many = [("NOPE", f"N{n}") for n in range(60)] + [("BULK", f"K{n}") for n in range(60)]
    effective = counts(
        bin_count("B1", ["S1", ("NOPE", "S1"), ("BULK", "S2"), ("BULK", "TWICE")]),
        bin_count("B2", [("BULK", "TWICE"), "S7"], {("SER", ""): "1", ("LOT", ""): "1"}),
        bin_count("B3", [], {("BULK", ""): "-1", ("BULK", "L"): "1", ("NOPE", ""): "2"}),
        bin_count("X1", [("NEW", "S1")], {("AUTO", ""): "1.5", ("AUTO", "L"): "1"}),
        bin_count("B4", [], {("LOT", "L1"): "2", ("AUTO", ""): "3", ("BULK", ""): "0.5"}),
    )
    expected = _reconcile_problems(SCOPE, effective)
    assert len(expected) == 10
    assert content_problems(SCOPE, _contents(effective), ITEMS) == expected
    capped = counts(bin_count("B1", many), bin_count("B2", [], {("LOT", ""): "1"}))
    expected = _reconcile_problems(SCOPE, capped)
    assert len(expected) == 100
    assert content_problems(SCOPE, _contents(capped), ITEMS) == expected
    good = counts(bin_count("B4", ["S1", ("BULK", "TWICE")]), bin_count("B1", [("BULK", "TWICE")]))
    assert _reconcile_problems(SCOPE, good) == [] == content_problems(SCOPE, _contents(good), ITEMS)
