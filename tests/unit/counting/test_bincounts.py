"""Which BinCount is effective: an ordered recount or the same counter replaces, counts of
different counters are compared whenever they were made (agree: confirmed; disagree:
conflict)."""

from __future__ import annotations

from datetime import timedelta

from server.domain.counting import counters_by_bin, current_bin_counts, effective_bin_counts
from tests.unit.counting.factory import T0, bin_count


def test_a_later_count_of_another_counter_does_not_replace_an_earlier_one() -> None:
    first = bin_count("B1", ["S1"], device="dev1", start=0, id="a")
    later = bin_count("B1", ["S1", "S2"], device="dev2", start=30, counter="rita", id="b")
    effective, conflicts, _ = effective_bin_counts([later, first])
    assert effective == {}
    (conflict,) = conflicts
    assert conflict.bin == "B1" and set(conflict.bin_count_ids) == {"a", "b"}
    assert conflict.counters == {"carl", "rita"}


def test_concurrent_counts_from_two_devices_that_differ_conflict() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, minutes=10)
    b = bin_count("B1", ["S1", "S2"], device="dev2", start=5, minutes=10, counter="rita")
    effective, conflicts, _ = effective_bin_counts([a, b])
    assert effective == {}
    assert {c.bin for c in conflicts} == {"B1"}


def test_counts_that_agree_confirm_each_other() -> None:
    a = bin_count("B1", ["S1"], {("BULK", ""): "5"}, device="dev1", start=0, id="a")
    b = bin_count(
        "B1", ["S1"], {("BULK", ""): "5.0", ("LOT", "L1"): "0"}, device="dev2", start=90, id="b"
    )
    effective, conflicts, confirmations = effective_bin_counts([a, b])
    assert conflicts == []
    assert effective["B1"] is b
    assert confirmations == {"B1": ("a",)}


def test_the_same_counter_counting_again_replaces_their_count() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, minutes=10, id="a")
    b = bin_count("B1", ["S2"], device="dev1", start=5, minutes=10, id="b")
    effective, conflicts, confirmations = effective_bin_counts([a, b])
    assert effective == {"B1": b} and conflicts == [] and confirmations == {}
    assert current_bin_counts([a, b]).replaced == {"a"}


def test_a_recount_order_replaces_every_earlier_count() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, id="a")
    b = bin_count("B1", ["S2"], device="dev2", start=5, id="b")
    ordered = {"B1": T0 + timedelta(minutes=30)}
    # Until the recount arrives the bin waits for it: no count, no conflict.
    waiting = effective_bin_counts([a, b], recount_ordered=ordered)
    assert waiting.effective == {} and waiting.conflicts == []
    assert current_bin_counts([a, b], ordered).replaced == {"a", "b"}
    c = bin_count("B1", ["S3"], device="dev3", start=60, id="c")
    effective, conflicts, _ = effective_bin_counts([a, b, c], recount_ordered=ordered)
    assert effective == {"B1": c} and conflicts == []


def test_without_an_order_a_third_counter_does_not_resolve_a_conflict() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0)
    b = bin_count("B1", ["S2"], device="dev2", start=5)
    c = bin_count("B1", ["S3"], device="dev3", start=60)
    effective, conflicts, _ = effective_bin_counts([a, b, c])
    assert effective == {} and len(conflicts[0].bin_count_ids) == 3


def test_supervisor_pick_resolves_a_conflict() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, id="a")
    b = bin_count("B1", ["S2"], device="dev2", start=5, id="b")
    effective, conflicts, _ = effective_bin_counts([a, b], picked={"B1": "a"})
    assert effective == {"B1": a} and conflicts == []


def test_counters_by_bin_includes_replaced_counts() -> None:
    a = bin_count("B1", counter="carl", start=0)
    b = bin_count("B1", counter="rita", device="dev2", start=30)
    assert counters_by_bin([a, b]) == {"B1": frozenset({"carl", "rita"})}
