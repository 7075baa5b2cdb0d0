"""Reconciliation: every classification of issue 3 and seed 000, with the seed's columns."""

from __future__ import annotations

import gc

import pytest

from server.domain.counting import (
    BinCount,
    LineKind,
    Reconciliation,
    effective_bin_counts,
    reconcile,
)
from server.domain.counting.reconciliation import RELEASED_SUGGESTION, line_id
from server.domain.errors import ValidationFailed
from tests.unit.counting.factory import D, balance, bin_count, counts, serial, snapshot

K = LineKind


def kinds(recon: Reconciliation) -> list[tuple[LineKind, str, str]]:
    return [(x.kind, x.serial or x.lot, x.bin) for x in recon.lines]


def test_matched_serials_make_no_line_only_a_count() -> None:
    snap = snapshot([serial("S1", "B1"), serial("S2", "B1")])
    recon = reconcile(snap, counts(bin_count("B1", ["S1", "S2"])))
    assert recon.lines == ()
    assert recon.matched == {("SER", "B1"): 2}


def test_missing_serial_is_written_off_at_its_actual_cost() -> None:
    snap = snapshot([serial("S1", "B1", "10"), serial("S2", "B1", "123.456789")])
    recon = reconcile(snap, counts(bin_count("B1", ["S1"])))
    (line,) = recon.lines
    assert line.kind is K.MISSING and line.bin == "B1" and line.serial == "S2"
    assert line.adjustment_quantity == D(-1)
    assert line.stock_transfer_quantity == D(0)
    assert line.adjustment_cost == D("123.456789")
    assert line.adjustment_value == D("-123.46")  # quantity x cost, half-up to the cent
    assert line.stock_transfer_value == D(0)
    assert (line.system_quantity, line.counted_quantity) == (D(2), D(1))
    assert line.adjustable


def test_serial_in_another_bin_is_a_transfer_proposal() -> None:
    snap = snapshot([serial("S1", "B1", "40.5")])
    recon = reconcile(snap, counts(bin_count("B1"), bin_count("B2", ["S1"], counter="rita")))
    (line,) = recon.serial_transfer_proposals
    assert recon.lines == (line,)
    assert (line.from_bin, line.bin) == ("B1", "B2")
    assert line.stock_transfer_quantity == D(1)
    assert line.adjustment_quantity == D(0)
    assert line.adjustment_cost == D("40.5")  # the actual cost of the serial transferred
    assert line.adjustment_value == D(0)
    assert line.stock_transfer_value == D("40.50")
    assert line.counters == {"carl", "rita"}  # both bins concerned
    assert (line.system_quantity, line.counted_quantity) == (D(0), D(1))


def test_serial_from_a_bin_outside_the_scope_is_a_transfer_proposal() -> None:
    snap = snapshot(outside=[serial("S7", "X1", "9")])
    recon = reconcile(snap, counts(bin_count("B2", ["S7"])))
    (line,) = recon.lines
    assert line.kind is K.SERIAL_TRANSFER and line.from_bin == "X1" and line.bin == "B2"


def test_uncounted_bins_are_left_alone_but_their_serials_can_be_found_elsewhere() -> None:
    snap = snapshot([serial("S1", "B3"), serial("S2", "B3")], [balance("BULK", "B3", "4")])
    recon = reconcile(snap, counts(bin_count("B1", ["S1"])))
    assert kinds(recon) == [(K.SERIAL_TRANSFER, "S1", "B1")]
    assert recon.not_counted_bins == ("B2", "B3", "B4", "B9")


def test_unknown_serial_is_a_gain_at_the_average_cost() -> None:
    recon = reconcile(snapshot(), counts(bin_count("B1", ["S9", ("NEW", "N1")])))
    by_serial = {x.serial: x for x in recon.lines}
    gain = by_serial["S9"]
    assert gain.kind is K.UNKNOWN and gain.adjustment_quantity == D(1)
    assert gain.adjustment_cost == D(100) and gain.adjustment_value == D("100.00")
    # No average cost at the location: the item's last cost (seed 004's default).
    assert by_serial["N1"].adjustment_cost == D(7)


def test_auto_serialized_units_without_serial_generate_serials_at_average_cost() -> None:
    recon = reconcile(snapshot(), counts(bin_count("B1", quantities={("AUTO", ""): "3"})))
    (line,) = recon.lines
    assert line.kind is K.GENERATED and line.item == "AUTO"
    assert line.adjustment_quantity == D(3)
    assert line.adjustment_cost == D("12.5")
    assert line.adjustment_value == D("37.50")


def test_serial_found_away_from_its_out_bin_is_a_released_exception() -> None:
    snap = snapshot(outside=[serial("R1", "X9")])
    recon = reconcile(snap, counts(bin_count("B2", ["R1"])))
    (line,) = recon.lines
    assert line.kind is K.RELEASED and not line.adjustable
    assert line.note == RELEASED_SUGGESTION
    assert "credit memo" in line.note and "purchase receipt" in line.note
    assert "Quantity Adjustment" in line.note
    assert line.adjustment_quantity == line.stock_transfer_quantity == D(0)


def test_out_bin_in_scope_matched_or_released_never_written_off() -> None:
    snap = snapshot([serial("R1", "B9"), serial("R2", "B9")])
    recon = reconcile(snap, counts(bin_count("B9", ["R1"])))
    assert recon.matched == {("SER", "B9"): 1}
    assert kinds(recon) == [(K.RELEASED, "R2", "B9")]
    assert recon.exceptions == recon.lines


def test_serial_scanned_in_two_bins_is_a_conflict_not_a_write_off() -> None:
    snap = snapshot([serial("S1", "B1")])
    recon = reconcile(
        snap, counts(bin_count("B1"), bin_count("B2", ["S1"]), bin_count("B3", ["S1"]))
    )
    (line,) = recon.lines
    assert line.kind is K.SERIAL_CONFLICT and not line.adjustable
    assert line.bins == ("B2", "B3")


def test_serial_known_outside_the_location_is_not_gained_twice() -> None:
    recon = reconcile(snapshot(elsewhere=[("SER", "Z1")]), counts(bin_count("B1", ["Z1"])))
    (line,) = recon.lines
    assert line.kind is K.FOREIGN and not line.adjustable


def test_quantity_variances_per_bin_and_lot_at_average_cost() -> None:
    snap = snapshot(
        balances=[
            balance("LOT", "B1", "10", lot="L1"),
            balance("LOT", "B1", "2", lot="L2"),
            balance("BULK", "B1", "5"),
            balance("BULK", "B3", "4"),  # not counted: no line
        ]
    )
    count = bin_count(
        "B1", quantities={("LOT", "L1"): "8", ("LOT", "L2"): "2", ("BULK", ""): "8.5"}
    )
    recon = reconcile(snap, counts(count, bin_count("B2", quantities={("BULK", ""): "3"})))
    lines = {(x.item, x.bin, x.lot): x for x in recon.lines}
    assert set(lines) == {("LOT", "B1", "L1"), ("BULK", "B1", ""), ("BULK", "B2", "")}
    lot = lines["LOT", "B1", "L1"]
    assert lot.kind is K.QUANTITY_VARIANCE
    assert (lot.system_quantity, lot.counted_quantity) == (D(10), D(8))
    assert lot.adjustment_quantity == D(-2) and lot.adjustment_value == D("-6.50")
    assert lines["BULK", "B1", ""].adjustment_value == D("1.17")  # 3.5 x 0.333333
    assert lines["BULK", "B2", ""].adjustment_value == D("1.00")  # 0.999999 half-up


def test_an_item_not_seen_in_a_counted_bin_was_counted_as_zero() -> None:
    snap = snapshot(balances=[balance("BULK", "B1", "5", cost="2")])
    (line,) = reconcile(snap, counts(bin_count("B1"))).lines
    assert line.adjustment_quantity == D(-5) and line.adjustment_value == D("-10.00")


def test_bin_count_conflicts_become_lines_and_leave_the_bin_uncounted() -> None:
    snap = snapshot([serial("S1", "B1")])
    effective, conflicts, _ = effective_bin_counts(
        [bin_count("B1", [], device="d1"), bin_count("B1", ["S1"], device="d2", start=1)]
    )
    recon = reconcile(snap, effective, conflicts=conflicts)
    (line,) = recon.lines
    assert line.kind is K.BIN_COUNT_CONFLICT and line.bin == "B1" and not line.adjustable
    assert "B1" not in recon.not_counted_bins and "B1" not in recon.counted_bins


def test_line_ids_are_stable_and_distinct() -> None:
    snap = snapshot([serial("S1", "B1"), serial("A|B", "B1")])
    effective = counts(bin_count("B2", ["S1"]), bin_count("B1"))
    first = [x.id for x in reconcile(snap, effective).lines]
    again = [x.id for x in reconcile(snap, dict(reversed(effective.items()))).lines]
    assert first == again
    assert len(set(first)) == len(first)
    assert line_id(K.MISSING, "SER", "A|B", "B1") == "missing|SER|A%7CB|B1"
    assert line_id(K.MISSING, "SER", "A", "B|1") != line_id(K.MISSING, "SER", "A|B", "1")


@pytest.mark.parametrize(
    ("count", "where"),
    [
        (bin_count("X1", ["S1"]), "bins/X1"),
        (bin_count("B1", [("GHOST", "1")]), "bins/B1/serials/1"),
        (bin_count("B1", [("BULK", "1")]), "bins/B1/serials/1"),
        (bin_count("B1", quantities={("SER", ""): "1"}), "bins/B1/items/SER"),
        (bin_count("B1", quantities={("AUTO", ""): "1.5"}), "bins/B1/items/AUTO"),
        (bin_count("B1", quantities={("BULK", ""): "-1"}), "bins/B1/items/BULK"),
        (bin_count("B1", quantities={("BULK", "L1"): "1"}), "bins/B1/items/BULK"),
        (bin_count("B1", quantities={("LOT", ""): "1"}), "bins/B1/items/LOT"),
        (bin_count("B1", quantities={("BULK", ""): "0.00001"}), "bins/B1/items/BULK"),
        (bin_count("B1", quantities={("GHOST", ""): "1"}), "bins/B1/items/GHOST"),
    ],
)
def test_bin_counts_that_do_not_fit_master_data_are_refused(count: BinCount, where: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        reconcile(snapshot(), {count.bin: count})
    assert exc.value.details[0].location == where


def test_serial_scanned_in_its_own_bin_and_another_is_a_conflict_not_a_match() -> None:
    snap = snapshot([serial("S1", "B1"), serial("S2", "B1")])
    recon = reconcile(snap, counts(bin_count("B1", ["S1", "S2"]), bin_count("B2", ["S1"])))
    (line,) = recon.lines
    assert line.kind is K.SERIAL_CONFLICT and line.bins == ("B1", "B2")
    assert recon.matched == {("SER", "B1"): 1}


def test_snapshot_indexes_are_reused_between_recomputations() -> None:
    snap = snapshot([serial("S1", "B1")])
    first = reconcile(snap, counts(bin_count("B1")))
    assert snap.serial_index is snap.serial_index
    assert reconcile(snap, counts(bin_count("B1"))) == first


def test_a_reconciliation_keeps_no_collector_tracked_object_per_bin_beside_its_lines() -> None:
    """Its matched counts are plain dicts of ints (the cycle collector leaves them alone:
    10,000 bins are 10,000 objects fewer for each full collection) and a line of two bins
    counted by the same people holds that bin's own set of counters, not an equal copy."""
    snap = snapshot([serial("S1", "B1"), serial("S2", "B1"), serial("S3", "B2")])
    recon = reconcile(
        snap,
        counts(bin_count("B1", ["S1", "S3"]), bin_count("B2")),
        settled={("SER", "B2"): 4},
    )
    assert recon.matched == {("SER", "B1"): 1, ("SER", "B2"): 4}
    for found in recon.matched_by_bin.values():
        assert type(found) is dict and not gc.is_tracked(found)
    by_kind = {x.kind: x for x in recon.lines}
    transfer, missing = by_kind[K.SERIAL_TRANSFER], by_kind[K.MISSING]
    assert transfer.counters == {"carl"} and (transfer.from_bin, transfer.bin) == ("B2", "B1")
    assert transfer.counters is missing.counters  # one set: the bins' counters are equal


def test_a_line_of_two_bins_counted_by_different_people_names_them_all() -> None:
    snap = snapshot([serial("S1", "B1"), serial("S2", "B2")])
    recon = reconcile(
        snap,
        counts(bin_count("B1", ["S2"]), bin_count("B2", ["S1"], counter="rita")),
        counters={"B1": frozenset({"carl"}), "B2": frozenset({"rita", "carl"})},
    )
    assert {x.counters for x in recon.lines} == {frozenset({"carl", "rita"})}
    # B2's set holds B1's: the lines hold it, not a union made for each.
    assert all(x.counters is recon.lines[0].counters for x in recon.lines)
