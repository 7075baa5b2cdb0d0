"""The sync rules with no database: judging an event, folding a closed bin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from schemas.sync import MAX_PUSH_EVENTS as WIRE_MAX_PUSH_EVENTS
from server.domain.counting import SubmittedBinCount
from server.domain.sync import (
    APPLIED,
    BIN_CLOSED,
    BIN_OPENED,
    MAX_PUSH_EVENTS,
    QUANTITY_KEYED,
    SCAN_UNDONE,
    SERIAL_SCANNED,
    BinEvent,
    CounterFacts,
    CountFacts,
    EventContent,
    SyncEvent,
    Verdict,
    counter_refusal,
    fold_bin,
    refusal,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FACTS = CountFacts("SC-1", 7, "counting_in_process", frozenset({"A-01"}))


def test_a_counting_count_takes_its_bins_events() -> None:
    assert refusal(FACTS, "SC-1", "A-01", 7, "MAIN") is None
    counted = CountFacts("SC-1", 7, "counted", frozenset({"A-01"}))
    assert refusal(counted, "SC-1", "A-01", 7, "MAIN") is None  # a late device is heard


def test_refusals_name_the_reason() -> None:
    def reason(facts: CountFacts | None, label: str = "A-01", site: int = 7) -> str:
        verdict = refusal(facts, "SC-1", label, site, "MAIN")
        assert verdict is not None and verdict.outcome == "rejected"
        return verdict.reason

    assert reason(None) == "count_unknown"
    assert reason(FACTS, site=8) == "count_other_site"
    assert reason(FACTS, label="B-02") == "bin_outside_scope"
    for status, code in [
        ("completed", "count_completed"),
        ("cancelled", "count_cancelled"),
        ("open", "count_not_started"),
        ("strange", "count_not_counting"),
    ]:
        assert reason(CountFacts("SC-1", 7, status, frozenset({"A-01"}))) == code


def test_a_rejection_detail_is_at_most_500_characters() -> None:
    verdict = refusal(None, "C" * 600, "A-01", 7, "MAIN")
    assert verdict is not None and len(verdict.detail) == 500


def test_the_batch_bound_is_the_protocols() -> None:
    assert MAX_PUSH_EVENTS == WIRE_MAX_PUSH_EVENTS


def close(seq: int, bin_seq: int = 1, at: datetime = T0) -> SyncEvent:
    return SyncEvent(seq, BIN_CLOSED, "SC-1", "A-01", bin_seq, at, "{}")


def ev(seq: int, kind: str, minutes: int = 0, **content: object) -> BinEvent:
    return BinEvent(seq, T0 + timedelta(minutes=minutes), EventContent(kind, **content))  # type: ignore[arg-type]


OPENED = ev(1, BIN_OPENED)


def test_a_closed_bin_folds_its_scans_minus_the_undone_ones() -> None:
    events = [
        OPENED,
        ev(2, SERIAL_SCANNED, item="SER", serial="S1"),
        ev(3, SERIAL_SCANNED, item="SER", serial="S2"),
        ev(4, SERIAL_SCANNED, item="SER", serial="S1"),  # the same serial again: once
        ev(5, QUANTITY_KEYED, item="BOLT", lot="L1", quantity=Decimal("2.5")),
        ev(6, QUANTITY_KEYED, item="BOLT", lot="L1", quantity=Decimal("1")),
        ev(7, SCAN_UNDONE, target_seq=3),
        ev(9, SERIAL_SCANNED, item="SER", serial="LATE"),  # after the close: not in it
    ]
    fold = fold_bin(close(8, at=T0 + timedelta(minutes=5)), False, events, timedelta(0), False)
    assert fold == SubmittedBinCount(
        "A-01",
        T0,
        T0 + timedelta(minutes=5),
        [("SER", "S1")],
        [("BOLT", "L1", Decimal("3.5"))],
    )


def test_a_set_quantity_replaces_the_total_so_far_and_undo_takes_it_back() -> None:
    events = [
        ev(1, BIN_OPENED, counter="ana"),
        ev(2, QUANTITY_KEYED, item="BOLT", quantity=Decimal("1")),
        ev(3, QUANTITY_KEYED, item="BOLT", quantity=Decimal("1")),
        ev(4, QUANTITY_KEYED, item="BOLT", quantity=Decimal("20"), mode="set"),
        ev(5, QUANTITY_KEYED, item="BOLT", quantity=Decimal("2")),
        ev(6, QUANTITY_KEYED, item="NUT", quantity=Decimal("5")),
        ev(7, QUANTITY_KEYED, item="NUT", quantity=Decimal("0"), mode="set"),  # none after all
        ev(8, QUANTITY_KEYED, item="PIN", lot="L1", quantity=Decimal("3"), mode="set"),
        ev(9, QUANTITY_KEYED, item="PIN", lot="L1", quantity=Decimal("4"), mode="set"),
        ev(10, SCAN_UNDONE, target_seq=9),  # the second set undone: the first stands
    ]
    fold = fold_bin(close(11), False, events, timedelta(0), False)
    assert isinstance(fold, SubmittedBinCount)
    assert fold.quantities == [("BOLT", "", Decimal(22)), ("PIN", "L1", Decimal(3))]
    assert fold.counter == "ana"
    undone_set = [*events[:5], ev(6, SCAN_UNDONE, target_seq=4)]
    again = fold_bin(close(7), False, undone_set, timedelta(0), False)
    assert isinstance(again, SubmittedBinCount) and again.quantities == [("BOLT", "", Decimal(4))]


def test_counters_are_refused_unknown_elsewhere_or_deactivated_before_the_scan() -> None:
    facts = CounterFacts("ana", 3, frozenset({7}), None)
    assert counter_refusal(facts, "ana", 7, T0) is None
    assert _reason(counter_refusal(None, "zoe", 7, T0)) == "counter_unknown"
    assert _reason(counter_refusal(facts, "ana", 8, T0)) == "counter_other_site"
    gone = CounterFacts("ana", 3, frozenset({7}), T0)
    assert _reason(counter_refusal(gone, "ana", 7, T0 + timedelta(seconds=1))) == (
        "counter_deactivated"
    )
    # Scanned before the deactivation: the scan stands.
    assert counter_refusal(gone, "ana", 7, T0 - timedelta(seconds=1)) is None


def _reason(verdict: Verdict | None) -> str:
    assert verdict is not None and verdict.outcome == "rejected"
    return verdict.reason


def test_fold_times_are_corrected_by_the_skew_and_never_end_before_they_start() -> None:
    skew = timedelta(minutes=-3)
    events = [ev(1, BIN_OPENED, minutes=10), ev(2, SERIAL_SCANNED, item="SER", serial="S1")]
    fold = fold_bin(close(3, at=T0), False, events, skew, False)
    assert isinstance(fold, SubmittedBinCount)
    assert fold.started_at == T0 + timedelta(minutes=7) == fold.finished_at


def test_fold_refusals() -> None:
    def reason(fold: SubmittedBinCount | Verdict) -> str:
        assert isinstance(fold, Verdict) and fold.outcome == "rejected"
        return fold.reason

    scans = [OPENED, ev(2, SERIAL_SCANNED, item="SER", serial="S1")]
    assert reason(fold_bin(close(3), False, scans[1:], timedelta(0), False)) == "bin_not_opened"
    # The BinOpened must be the bin count's own, not another's.
    assert reason(fold_bin(close(3, bin_seq=2), False, scans, timedelta(0), False)) == (
        "bin_not_opened"
    )
    assert reason(fold_bin(close(3), False, scans, timedelta(0), True)) == "bin_already_closed"
    undone = [
        OPENED,
        ev(2, SERIAL_SCANNED, item="SER", serial="S1"),
        ev(3, SCAN_UNDONE, target_seq=2),
    ]
    assert reason(fold_bin(close(4), False, undone, timedelta(0), False)) == "empty_not_confirmed"
    empty = fold_bin(close(4), True, undone, timedelta(0), False)
    assert empty == SubmittedBinCount("A-01", T0, T0, [], [])
    assert APPLIED.outcome == "applied"
