"""Which BinCount is effective: recounts replace, concurrent disagreement conflicts."""

from __future__ import annotations

from server.domain.counting import counters_by_bin, effective_bin_counts
from tests.unit.counting.factory import bin_count


def test_recount_replaces_the_earlier_count() -> None:
    first = bin_count("B1", ["S1"], device="dev1", start=0)
    recount = bin_count("B1", ["S1", "S2"], device="dev2", start=30, counter="rita")
    effective, conflicts = effective_bin_counts([recount, first])
    assert effective == {"B1": recount}
    assert conflicts == []


def test_concurrent_counts_from_two_devices_that_differ_conflict() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, minutes=10)
    b = bin_count("B1", ["S1", "S2"], device="dev2", start=5, minutes=10, counter="rita")
    effective, conflicts = effective_bin_counts([a, b])
    assert effective == {}
    (conflict,) = conflicts
    assert conflict.bin == "B1"
    assert set(conflict.bin_count_ids) == {a.id, b.id}
    assert conflict.counters == {"carl", "rita"}


def test_concurrent_counts_that_agree_raise_nothing() -> None:
    a = bin_count("B1", ["S1"], {("BULK", ""): "5"}, device="dev1", start=0)
    b = bin_count("B1", ["S1"], {("BULK", ""): "5.0", ("LOT", "L1"): "0"}, device="dev2", start=2)
    effective, conflicts = effective_bin_counts([a, b])
    assert conflicts == []
    assert effective["B1"] in (a, b)


def test_same_device_overlap_is_a_recount() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, minutes=10, id="a")
    b = bin_count("B1", ["S2"], device="dev1", start=5, minutes=10, id="b")
    effective, conflicts = effective_bin_counts([a, b])
    assert effective == {"B1": b} and conflicts == []


def test_a_recount_after_a_conflict_resolves_it() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0)
    b = bin_count("B1", ["S2"], device="dev2", start=5)
    c = bin_count("B1", ["S3"], device="dev3", start=60)
    effective, conflicts = effective_bin_counts([a, b, c])
    assert effective == {"B1": c} and conflicts == []


def test_supervisor_pick_resolves_a_conflict() -> None:
    a = bin_count("B1", ["S1"], device="dev1", start=0, id="a")
    b = bin_count("B1", ["S2"], device="dev2", start=5, id="b")
    effective, conflicts = effective_bin_counts([a, b], picked={"B1": "a"})
    assert effective == {"B1": a} and conflicts == []


def test_counters_by_bin_includes_replaced_counts() -> None:
    a = bin_count("B1", counter="carl", start=0)
    b = bin_count("B1", counter="rita", device="dev2", start=30)
    assert counters_by_bin([a, b]) == {"B1": frozenset({"carl", "rita"})}
