"""The sync use cases over in-memory fakes (tests/unit/sync/fakes.py): push (applied,
duplicate, rejected, gaps, the epoch, closing a bin) and pull, with no database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from schemas.sync import (
    AssignedCount,
    BarcodeUnknown,
    BinClosed,
    BinOpened,
    Event,
    EventBody,
    PullCursor,
    PullRequest,
    PushRequest,
    RecountOrder,
    SerialScanned,
)
from schemas.sync import BinRef as WireBinRef
from schemas.sync import ItemRef as WireItemRef
from server.counts.usecases import counting
from server.domain.auth import Caller, CallerKind
from server.domain.errors import PermissionDenied, ValidationFailed
from server.domain.sync import (
    BinRef,
    CounterFacts,
    CountFacts,
    CountRef,
    Cursor,
    ExpectedQuantityRef,
    ExpectedSerialRef,
    ItemRef,
    PullPage,
    PullQuery,
    PushBatch,
    PushResult,
    RecountRef,
    RefCount,
)
from server.sync import usecases as sync
from server.sync.http import wire
from server.sync.ports import RefBin
from tests.unit.sync.fakes import FakeSyncUnitOfWork, SyncState

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
INSTALL = "a" * 32
DEVICE = Caller(CallerKind.DEVICE, "device 3", device_id=3, location_id=7, location_code="MAIN")


def state() -> SyncState:
    s = SyncState()
    s.facts["SC-1"] = CountFacts("SC-1", 7, "counting_in_process", frozenset({"A-01", "A-02"}))
    s.facts["SC-9"] = CountFacts("SC-9", 7, "completed", frozenset({"A-01"}))
    return s


def scan(seq: int, count: str = "SC-1", bin_seq: int = 1) -> Event:
    body = SerialScanned(
        count=count, bin="A-01", bin_seq=bin_seq, item="SER", serial=f"S{seq}", raw=f"S{seq}"
    )
    return Event(seq=seq, device_time=T0, body=body)


def event(seq: int, body: EventBody) -> Event:
    return Event(seq=seq, device_time=T0 + timedelta(seconds=seq), body=body)


def batch(*events: Event, acked_seq: int = 0) -> PushBatch:
    request = PushRequest(
        protocol_version=1,
        device_id=3,
        install_id=INSTALL,
        device_time=T0,
        events=list(events),
        acked_seq=acked_seq,
    )
    return wire.push_batch(request)


async def push(s: SyncState, *events: Event, acked_seq: int = 0) -> PushResult:
    return await sync.push(FakeSyncUnitOfWork(s), DEVICE, batch(*events, acked_seq=acked_seq), T0)


def outcomes(result: PushResult) -> dict[int, str]:
    answers = {a.seq: a.outcome for a in result.acks}
    answers.update({seq: "applied" for seq in result.applied})
    return answers


async def test_a_push_is_applied_stored_once_and_moves_the_mark() -> None:
    s = state()
    result = await push(s, *(scan(q) for q in (3, 1, 2)))  # any order: by seq
    assert outcomes(result) == {1: "applied", 2: "applied", 3: "applied"}
    assert result.high_water == 3 and result.expected_seq is None
    assert result.server_epoch == s.epoch
    assert s.marks[(3, INSTALL)] == 3
    assert {k[2]: e.outcome for k, e in s.events.items()} == {
        1: "applied",
        2: "applied",
        3: "applied",
    }
    assert s.touched == {3: T0}


async def test_a_push_again_is_duplicate_and_stores_nothing() -> None:
    s = state()
    await push(s, scan(1), scan(2))
    again = await push(s, scan(1), scan(2), scan(3))
    assert outcomes(again) == {1: "duplicate", 2: "duplicate", 3: "applied"}
    assert again.high_water == 3 and len(s.events) == 3


async def test_events_a_count_does_not_take_are_stored_rejected_and_the_mark_moves() -> None:
    s = state()
    result = await push(s, scan(1), scan(2, count="SC-9"), scan(3, count="SC-404"))
    assert [(a.seq, a.outcome, a.reason) for a in result.acks] == [
        (1, "applied", ""),
        (2, "rejected", "count_completed"),
        (3, "rejected", "count_unknown"),
    ]
    assert not result.applied and result.high_water == 3
    assert s.events[(3, INSTALL, 2)].reason == "count_completed"
    # A re-push answers what was stored, the reason too.
    again = await push(s, scan(2, count="SC-9"))
    assert [(a.outcome, a.reason) for a in again.acks] == [("duplicate", "count_completed")]


async def test_nothing_after_a_gap_is_stored() -> None:
    s = state()
    result = await push(s, scan(1), scan(2), scan(4), scan(5))
    assert outcomes(result) == {1: "applied", 2: "applied"}
    assert result.expected_seq == 3 and result.high_water == 2
    assert sorted(k[2] for k in s.events) == [1, 2]
    late = await push(s, scan(5))
    assert outcomes(late) == {} and late.expected_seq == 3


async def test_acknowledgements_above_the_mark_tell_that_device_only_to_resend() -> None:
    """A device claiming more acks than the database holds (restored, or lying) is answered
    the mark to re-send from; the epoch every other device pulls against stays."""
    s = state()
    first = await push(s, scan(1))
    assert (await push(s, scan(2), acked_seq=1)).server_epoch == first.server_epoch
    claimed = await push(s, scan(3), acked_seq=10)
    assert claimed.high_water == 3 and outcomes(claimed) == {3: "applied"}
    assert claimed.server_epoch == s.epoch == first.server_epoch


async def test_refusals_that_need_no_database() -> None:
    s = state()
    other = Caller(CallerKind.DEVICE, "device 4", device_id=4, location_id=7)
    with pytest.raises(PermissionDenied):
        await sync.push(FakeSyncUnitOfWork(s), other, batch(scan(1)), T0)
    with pytest.raises(ValidationFailed):
        await push(s, scan(1), scan(1))
    assert not s.events


async def test_a_closed_bin_becomes_one_bin_count(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded: list[tuple[str, Any]] = []

    async def record(
        uow: Any, caller: Caller, count: str, submitted: Any, now: datetime, by: Any = None
    ) -> Any:
        recorded.append((count, submitted))
        return type("Header", (), {"id": 41})()

    monkeypatch.setattr(counting, "record_bin_count", record)
    s = state()
    opened = event(1, BinOpened(count="SC-1", bin="A-01"))
    await push(s, opened, scan(2))  # stored, then closed in a later push
    closed = event(3, BinClosed(count="SC-1", bin="A-01", bin_seq=1))
    result = await push(s, scan(4, bin_seq=9), closed)
    assert outcomes(result) == {3: "applied", 4: "applied"}
    ((count, submitted),) = recorded
    assert count == "SC-1" and list(submitted.serials) == [("SER", "S2")]
    assert submitted.started_at == T0 + timedelta(seconds=1)
    assert s.bin_count_sources == {(3, INSTALL, 1): 41}
    # The same bin count closed again (a new seq): rejected, not a second bin count.
    again = await push(s, event(5, BinClosed(count="SC-1", bin="A-01", bin_seq=1)))
    assert [(a.outcome, a.reason) for a in again.acks] == [("rejected", "bin_already_closed")]
    assert len(recorded) == 1


async def test_a_counters_events_are_refused_elsewhere_or_after_deactivation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by: list[Any] = []

    async def record(
        uow: Any, caller: Caller, count: str, submitted: Any, now: datetime, counted_by: Any = None
    ) -> Any:
        by.append(counted_by)
        return type("Header", (), {"id": 41})()

    monkeypatch.setattr(counting, "record_bin_count", record)
    s = state()
    s.counters["ana"] = CounterFacts("ana", 11, frozenset({7}), None)
    s.counters["ben"] = CounterFacts("ben", 12, frozenset({8}), None)  # another site's
    s.counters["cy"] = CounterFacts("cy", 13, frozenset({7}), T0 + timedelta(seconds=3))
    result = await push(
        s,
        event(1, BinOpened(count="SC-1", bin="A-01", counter="ana")),
        event(2, _serial("S1", "ana")),
        event(3, _serial("S2", "ben")),
        event(4, _serial("S3", "zoe")),  # no counter with a PIN
        event(5, _serial("S4", "cy")),  # scanned at T0+5s, deactivated at T0+3s
        event(6, _serial("S5", "")),  # the device alone, as before protocol 2
        event(7, BinClosed(count="SC-1", bin="A-01", bin_seq=1, counter="ana")),
    )
    assert {a.seq: a.reason for a in result.acks if a.outcome == "rejected"} == {
        3: "counter_other_site",
        4: "counter_unknown",
        5: "counter_deactivated",
    }
    assert by == [(11, "ana")]  # the bin count names her


async def test_unknown_barcodes_are_stored_for_the_count_even_with_no_bin_open() -> None:
    s = state()
    result = await push(
        s,
        event(1, BarcodeUnknown(count="SC-1", raw="]E05901234123457", counter="")),
        event(2, BarcodeUnknown(count="SC-1", raw="X", bin="A-01", bin_seq=1, problem="malformed")),
        event(3, BarcodeUnknown(count="SC-9", raw="Y")),  # a completed count: rejected, kept
    )
    assert {a.seq: a.reason for a in result.acks if a.outcome == "rejected"} == {
        3: "count_completed"
    }
    assert [(u.count, u.seq, u.bin, u.raw, u.problem) for u in s.unknown_barcodes] == [
        ("SC-1", 1, "", "]E05901234123457", "unknown"),
        ("SC-1", 2, "A-01", "X", "malformed"),
    ]
    assert {e[2] for e in s.events} == {1, 2, 3}  # every event stored, the rejected too


def _serial(serial: str, counter: str) -> SerialScanned:
    return SerialScanned(
        count="SC-1", bin="A-01", bin_seq=1, item="SER", serial=serial, raw=serial, counter=counter
    )


def pull_request(cursor: PullCursor | None = None) -> PullQuery:
    request = PullRequest(protocol_version=1, device_id=3, install_id=INSTALL, cursor=cursor)
    return wire.pull_query(request)


async def test_pull_sends_what_changed_since_the_cursor_and_withholds_others_counts() -> None:
    s = state()
    s.ref_bins = [RefBin("MAIN", "A-01", "stock")]
    s.ref_counts = [
        RefCount("SC-1", "MAIN", "counting_in_process", True, ["A-01"], [], [], frozenset({3})),
        RefCount("SC-2", "MAIN", "counting_in_process", True, ["A-01"], [], [], frozenset({5})),
    ]
    first = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(), T0)
    assert first.reset and not first.has_more
    assert [b.label for b in first.bins] == ["A-01"]
    assert [(c.count, c.active, c.bins) for c in first.counts] == [
        ("SC-1", True, ["A-01"]),
        ("SC-2", False, []),  # assigned to another device: withdrawn
    ]
    cursor = PullCursor(epoch=first.cursor.epoch, change_seq=first.cursor.change_seq)
    again = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(cursor), T0)
    assert not again.reset and not again.counts and not again.bins
    assert again.cursor == first.cursor
    s.ref_counts[1] = RefCount("SC-2", "MAIN", "counted", True, ["A-01"], [], [], frozenset({3, 5}))
    granted = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(cursor), T0)
    assert [(c.count, c.status, c.active) for c in granted.counts] == [("SC-2", "counted", True)]
    assert granted.cursor.change_seq == first.cursor.change_seq + 1


async def test_a_cursor_from_another_epoch_is_a_reset() -> None:
    s = state()
    s.ref_bins = [RefBin("MAIN", "A-01", "stock")]
    stale = PullCursor(epoch="0" * 32, change_seq=1)
    page = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(stale), T0)
    assert page.reset and [b.label for b in page.bins] == ["A-01"]
    mark = page.cursor.change_seq
    ahead = PullCursor(epoch=s.epoch, change_seq=99)  # changes this database never sent it
    page = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(ahead), T0)
    assert page.reset and [b.label for b in page.bins] == ["A-01"]
    assert (page.cursor.epoch, page.cursor.change_seq) == (s.epoch, mark)  # the epoch stays
    # One above what this database handed this device (a restored one) is a reset too.
    one_ahead = PullCursor(epoch=s.epoch, change_seq=mark + 1)
    assert (await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(one_ahead), T0)).reset
    at = PullCursor(epoch=s.epoch, change_seq=mark)
    at_mark = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(at), T0)
    assert not at_mark.reset and not at_mark.bins


async def test_after_a_restore_a_device_re_pulls_even_once_the_log_moved_past_it() -> None:
    """Restored from a backup, the database's change log goes on from the backup's: once it
    is past a device's cursor, only the mark kept in the backup tells that this device saw
    changes this database never made."""
    liar = Caller(CallerKind.DEVICE, "device 4", device_id=4, location_id=7, location_code="MAIN")
    other = wire.pull_query(PullRequest(protocol_version=1, device_id=4, install_id=INSTALL))
    s = state()
    s.ref_bins = [RefBin("MAIN", "A-01", "stock")]
    await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(), T0)
    backup = copy.deepcopy(s)
    s.ref_bins.append(RefBin("MAIN", "LOST-1", "stock"))  # made after the backup, then lost
    seen = (await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(), T0)).cursor
    restored = backup
    restored.ref_bins += [RefBin("MAIN", "NEW-1", "stock"), RefBin("MAIN", "NEW-2", "stock")]
    await sync.pull(FakeSyncUnitOfWork(restored), liar, other, T0)  # the log moves on
    assert restored.scopes[7] >= seen.change_seq
    cursor = PullCursor(epoch=seen.epoch, change_seq=seen.change_seq)
    page = await sync.pull(FakeSyncUnitOfWork(restored), DEVICE, pull_request(cursor), T0)
    assert page.reset and {b.label for b in page.bins} == {"A-01", "NEW-1", "NEW-2"}


async def test_a_device_ahead_of_its_mark_resets_only_itself() -> None:
    """Another device's cursor ahead of the location's log does not move the epoch nor
    reset this device: each device's cursor is judged against what it was handed."""
    s = state()
    s.ref_bins = [RefBin("MAIN", "A-01", "stock")]
    mine = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(), T0)
    liar = Caller(CallerKind.DEVICE, "device 4", device_id=4, location_id=7, location_code="MAIN")
    lie = PullRequest(
        protocol_version=1,
        device_id=4,
        install_id=INSTALL,
        cursor=PullCursor(epoch=s.epoch, change_seq=10_000),
    )
    told = await sync.pull(FakeSyncUnitOfWork(s), liar, wire.pull_query(lie), T0)
    assert told.reset and told.cursor.epoch == mine.cursor.epoch
    cursor = PullCursor(epoch=mine.cursor.epoch, change_seq=mine.cursor.change_seq)
    again = await sync.pull(FakeSyncUnitOfWork(s), DEVICE, pull_request(cursor), T0)
    assert not again.reset and again.cursor == mine.cursor


def test_reference_records_encode_as_the_wire_records_do() -> None:
    """The change log digests a record's JSON: the domain's records must encode to the
    same bytes as the wire's, or every device would see every record change once."""
    count = CountRef(
        count="SC-1",
        location="MAIN",
        status="counting_in_process",
        blind=False,
        bins=["A-01"],
        expected_serials=[ExpectedSerialRef("SER", "S1", "A-01")],
        expected_quantities=[ExpectedQuantityRef("BOLT", "A-01", Decimal("2.5"), "L1")],
    )
    records: list[tuple[object, type]] = [
        (count, AssignedCount),
        (BinRef("MAIN", "A-01"), WireBinRef),
        (ItemRef("SER", "Serial thing", "serial", ["123"], True, "EA"), WireItemRef),
        (RecountRef(4, "SC-1", "A-01", "variance", False), RecountOrder),
    ]
    for record, kind in records:
        as_wire = msgspec.convert(record, kind, from_attributes=True)
        assert msgspec.json.encode(record) == msgspec.json.encode(as_wire)
    page = wire.pull_response(
        PullPage(Cursor("e" * 32, 3), has_more=False, reset=True, counts=[count])
    )
    assert page.counts[0].expected_quantities[0].quantity == Decimal("2.5")
    assert page.cursor == PullCursor(epoch="e" * 32, change_seq=3)
