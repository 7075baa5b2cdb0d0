"""The StockCount lifecycle and seed 000's finalize rules."""

from __future__ import annotations

import pytest

from server.domain.counting import (
    CountStatus,
    cancel,
    decide_finalize,
    freezes_bins,
    mark_counted,
    order_recount,
    start_counting,
)
from server.domain.counting.model import FINALIZE_WARNING, status_label
from server.domain.errors import Conflict

S = CountStatus


def test_happy_path() -> None:
    status = start_counting(S.OPEN)
    assert status is S.COUNTING
    status = mark_counted(status, {"B1", "B2"}, {"B1", "B2"})
    assert status is S.COUNTED
    assert decide_finalize(status).proceed
    assert [status_label(s) for s in S] == [
        "Open",
        "Counting in Process",
        "Counted",
        "Completed",
        "Cancelled",
    ]


def test_counted_needs_every_bin_or_the_supervisor() -> None:
    with pytest.raises(Conflict) as exc:
        mark_counted(S.COUNTING, {"B1", "B2"}, {"B1"})
    assert exc.value.details[0].location == "bins/B2"
    assert mark_counted(S.COUNTING, {"B1", "B2"}, {"B1"}, supervisor_override=True) is S.COUNTED


def test_finalize_allowed_in_counted() -> None:
    decision = decide_finalize(S.COUNTED)
    assert decision.proceed and decision.warning is None


def test_finalize_in_counting_in_process_warns_and_changes_nothing_without_confirmation() -> None:
    decision = decide_finalize(S.COUNTING)
    assert not decision.proceed
    assert decision.warning == FINALIZE_WARNING
    with pytest.raises(Conflict) as exc:
        decision.go_ahead()
    assert exc.value.code == "finalize-needs-confirmation"


def test_finalize_in_counting_in_process_with_confirmation() -> None:
    decision = decide_finalize(S.COUNTING, confirmed=True)
    assert decision.proceed and decision.warning == FINALIZE_WARNING
    decision.go_ahead()


@pytest.mark.parametrize("status", [S.OPEN, S.COMPLETED, S.CANCELLED])
def test_finalize_refused_in_other_statuses(status: CountStatus) -> None:
    with pytest.raises(Conflict) as exc:
        decide_finalize(status, confirmed=True)
    assert exc.value.code == "count-status"


def test_no_second_finalize_after_completed() -> None:
    # Seed 000: once the adjustment document exists no other can be made for the count.
    with pytest.raises(Conflict):
        decide_finalize(S.COMPLETED, confirmed=True)


@pytest.mark.parametrize("status", [S.OPEN, S.COUNTING, S.COUNTED])
def test_cancel_before_completed(status: CountStatus) -> None:
    assert cancel(status) is S.CANCELLED


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_cancel_refused_after(status: CountStatus) -> None:
    with pytest.raises(Conflict):
        cancel(status)


def test_other_transitions_refused() -> None:
    for status in (S.COUNTING, S.COUNTED, S.COMPLETED, S.CANCELLED):
        with pytest.raises(Conflict):
            start_counting(status)
    for status in (S.OPEN, S.COUNTED, S.COMPLETED, S.CANCELLED):
        with pytest.raises(Conflict):
            mark_counted(status, set(), set())
    for status in (S.OPEN, S.COMPLETED, S.CANCELLED):
        with pytest.raises(Conflict):
            order_recount(status)


def test_recount_reopens_counting() -> None:
    assert order_recount(S.COUNTED) is S.COUNTING
    assert order_recount(S.COUNTING) is S.COUNTING


def test_bins_frozen_while_in_process_free_after() -> None:
    assert [s for s in S if freezes_bins(s)] == [S.COUNTING, S.COUNTED]
