"""The sync protocol's wire structs (schemas.sync) to and from the use cases' types: the
one module that does it for the sync feature.

A push changes shape twice on its way in: the request body decodes to a `PushRequest`
(msgspec, with the wire's checks), and `push_batch` makes its events the domain's
`SyncEvent`s in the same pass that encodes each body for storage (one tuple an event: the
work the use case did before to make each event's columns). On the way out, `push_response`
makes the one `EventAck` an event the wire needs from the use case's `PushResult`, whose
applied run is a range (no object an event in between).
"""

from __future__ import annotations

import msgspec

from schemas import PROTOCOL_VERSION
from schemas.sync import (
    AssignedCount,
    BarcodeUnknown,
    BinClosed,
    BinOpened,
    BinRef,
    CounterRef,
    DeviceSettings,
    DeviceStatusList,
    EventAck,
    EventBody,
    ItemRef,
    PullCursor,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    QuantityKeyed,
    RecountOrder,
    RejectedEvent,
    RejectedPage,
    ScanUndone,
    SerialScanned,
)
from server.domain.sync import (
    DeviceSyncRecords,
    PullPage,
    PullQuery,
    PushBatch,
    PushResult,
    SyncEvent,
)
from server.sync.ports import StoredEvent
from server.sync.usecases import RejectedEvents

_ENCODER = msgspec.json.Encoder()
_BODY: msgspec.json.Decoder[EventBody] = msgspec.json.Decoder(EventBody)
# Each event body's tag, looked up once (`__struct_config__` builds a new object per access).
_KIND: dict[type, str] = {
    kind: str(kind.__struct_config__.tag)
    for kind in (BinOpened, SerialScanned, QuantityKeyed, ScanUndone, BinClosed, BarcodeUnknown)
}


def push_batch(request: PushRequest) -> PushBatch:
    """The push as the use case takes it: each event's kind, count, bin and bin count
    (a BinOpened's own seq), and its body as the device sent it, encoded once."""
    encode = _ENCODER.encode
    return PushBatch(
        device_id=request.device_id,
        install_id=request.install_id,
        device_time=request.device_time,
        events=[
            SyncEvent(
                e.seq,
                _KIND[type(body)],
                body.count,
                body.bin,
                e.seq if isinstance(body, BinOpened) else body.bin_seq,
                e.device_time,
                encode(body).decode(),
                body.counter,
            )
            for e in request.events
            for body in (e.body,)
        ],
        app_version=request.app_version,
        queue_depth=request.queue_depth,
        acked_seq=request.acked_seq,
    )


def push_response(result: PushResult) -> PushResponse:
    acks = [
        EventAck(seq=seq, outcome=outcome, reason=reason, detail=detail)
        for seq, outcome, reason, detail in result.acks
    ]
    acks += [EventAck(seq=seq, outcome="applied") for seq in result.applied]
    return PushResponse(
        protocol_version=PROTOCOL_VERSION,
        server_epoch=result.server_epoch,
        acks=acks,
        high_water=result.high_water,
        expected_seq=result.expected_seq,
    )


# -- pull and supervisors: the shapes match, msgspec maps them -------------------------


def pull_query(request: PullRequest) -> PullQuery:
    return msgspec.convert(request, PullQuery, from_attributes=True)


def pull_response(page: PullPage) -> PullResponse:
    """The page as the wire sends it (a blind count's wire struct refuses expected
    serials or quantities: a bug cannot reveal them)."""
    return PullResponse(
        protocol_version=PROTOCOL_VERSION,
        cursor=msgspec.convert(page.cursor, PullCursor, from_attributes=True),
        has_more=page.has_more,
        reset=page.reset,
        counts=msgspec.convert(page.counts, list[AssignedCount], from_attributes=True),
        bins=msgspec.convert(page.bins, list[BinRef], from_attributes=True),
        items=msgspec.convert(page.items, list[ItemRef], from_attributes=True),
        recounts=msgspec.convert(page.recounts, list[RecountOrder], from_attributes=True),
        counters=None
        if page.counters is None
        else msgspec.convert(page.counters, list[CounterRef], from_attributes=True),
        settings=None
        if page.settings is None
        else msgspec.convert(page.settings, DeviceSettings, from_attributes=True),
    )


def device_status_list(records: DeviceSyncRecords) -> DeviceStatusList:
    return msgspec.convert(records, DeviceStatusList, from_attributes=True)


def rejected_page(page: RejectedEvents) -> RejectedPage:
    return RejectedPage(items=[_rejected(e) for e in page.items], next_cursor=page.next_cursor)


def _rejected(e: StoredEvent) -> RejectedEvent:
    return RejectedEvent(
        id=e.id,
        device_id=e.device_id,
        install_id=e.install_id,
        seq=e.seq,
        kind=e.kind,
        count=e.count_number,
        reason=e.reason,
        detail=e.detail,
        device_time=e.device_time,
        received_at=e.received_at,
        body=_BODY.decode(e.body),
    )
