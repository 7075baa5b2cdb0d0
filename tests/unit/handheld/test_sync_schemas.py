"""The sync wire schemas: tagged event kinds, blind counts, cursors, evolution both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from schemas import PROTOCOL_VERSION
from schemas.sync import (
    AssignedCount,
    BinClosed,
    BinOpened,
    Event,
    EventAck,
    ExpectedSerial,
    PullResponse,
    PushRequest,
    PushResponse,
    QuantityKeyed,
    ScanUndone,
    SerialScanned,
)

WHEN = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
BODIES = [
    BinOpened(count="SC-1", bin="MAIN-A01-01", counter="ana"),
    SerialScanned(
        count="SC-1", bin="MAIN-A01-01", bin_seq=1, item="PUMP", serial="SN-1", raw="]d2\x1dX"
    ),
    QuantityKeyed(count="SC-1", bin="MAIN-A01-01", bin_seq=1, item="BOLT", quantity=Decimal("2.5")),
    ScanUndone(count="SC-1", bin="MAIN-A01-01", bin_seq=1, target_seq=3),
    BinClosed(count="SC-1", bin="MAIN-A01-01", bin_seq=1, confirmed_empty=False),
]


def push() -> PushRequest:
    return PushRequest(
        protocol_version=PROTOCOL_VERSION,
        device_id=7,
        install_id="0123456789abcdef0123456789abcdef",
        device_time=WHEN,
        events=[Event(seq=n, device_time=WHEN, body=b) for n, b in enumerate(BODIES, 1)],
    )


@pytest.mark.parametrize("codec", [msgspec.json, msgspec.msgpack])
def test_push_round_trips_with_kinds_tagged(codec: object) -> None:
    raw = codec.encode(push())  # type: ignore[attr-defined]
    assert codec.decode(raw, type=PushRequest) == push()  # type: ignore[attr-defined]


def test_event_kind_is_the_tag_and_quantities_are_strings() -> None:
    as_json = msgspec.json.decode(msgspec.json.encode(push()))
    kinds = [e["body"]["kind"] for e in as_json["events"]]
    assert kinds == ["bin_opened", "serial_scanned", "quantity_keyed", "scan_undone", "bin_closed"]
    assert as_json["events"][2]["body"]["quantity"] == "2.5"
    assert as_json["events"][0]["device_time"] == "2026-03-01T08:30:00Z"


def test_an_unknown_kind_or_a_naive_clock_is_refused() -> None:
    message = msgspec.json.decode(msgspec.json.encode(push()))
    message["events"][0]["body"]["kind"] = "bin_teleported"
    with pytest.raises(msgspec.ValidationError, match="Invalid value 'bin_teleported'"):
        msgspec.convert(message, PushRequest)
    message = msgspec.json.decode(msgspec.json.encode(push()))
    message["events"][0]["device_time"] = "2026-03-01T08:30:00"
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(message, PushRequest)
    message = msgspec.json.decode(msgspec.json.encode(push()))
    message["events"][0]["seq"] = 0
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(message, PushRequest)


def test_a_blind_count_cannot_carry_expected_serials() -> None:
    blind = {"count": "SC-2", "location": "MAIN", "status": "open", "blind": True, "bins": ["B"]}
    assert msgspec.convert(blind, AssignedCount).expected_serials == []
    leaking = {**blind, "expected_serials": [{"item": "PUMP", "serial": "SN-1", "bin": "B"}]}
    with pytest.raises(msgspec.ValidationError, match="blind count"):
        msgspec.json.decode(msgspec.json.encode(leaking), type=AssignedCount)
    with pytest.raises(ValueError, match="blind count"):
        AssignedCount(
            count="SC-2",
            location="MAIN",
            status="open",
            blind=True,
            bins=[],
            expected_serials=[ExpectedSerial(item="PUMP", serial="SN-1", bin="B")],
        )


class PushResponseV2(PushResponse, kw_only=True):
    retry_after_ms: int = 0


def test_old_device_reads_a_newer_push_response_and_the_reverse() -> None:
    newer = PushResponseV2(
        protocol_version=1,
        server_epoch="e1",
        acks=[EventAck(seq=1, outcome="rejected", reason="count_completed")],
        retry_after_ms=500,
    )
    older = msgspec.json.decode(msgspec.json.encode(newer), type=PushResponse)
    assert older.acks == newer.acks and older.expected_seq is None
    back = msgspec.json.decode(msgspec.json.encode(older), type=PushResponseV2)
    assert back.retry_after_ms == 0


def test_a_minimal_pull_page_decodes_with_defaults() -> None:
    page = msgspec.json.decode(
        b'{"protocol_version":1,"cursor":{"epoch":"e","change_seq":0},"has_more":false}',
        type=PullResponse,
    )
    assert page.reset is False and page.counts == [] and page.items == []
