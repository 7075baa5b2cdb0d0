"""The sync protocol on the wire: a device pushes its scan events, and pulls reference data.

Push (device -> server): `PushRequest` carries a batch of `Event`s from the device's outbox.
Each event has the device's own sequence number `seq` (1, 2, 3, ... per install, never
reused); the server stores each (device, install_id, seq) exactly once and answers one
`EventAck` per event: applied, duplicate (already stored), or rejected with a reason (kept
on the server for supervisors, never dropped). When a batch starts past the next seq the
server expects, it stores nothing of the batch and answers `expected_seq`: the device
re-sends from there. A new `install_id` (the local database was created anew) starts a new
sequence, so a re-imaged device starting at seq 1 is not taken for a replay.

The device's clock is recorded (`device_time`) and never trusted for ordering: order is
`seq`.

Pull (device <- server): `PullRequest` with the last `PullCursor` (None the first time);
`PullResponse` is one page of what changed since that cursor, and the cursor to store
with it, in one transaction. A cursor is the server's epoch and a server-assigned change
sequence, never a timestamp. A cursor from another epoch (a server restored from backup)
answers `reset=True`: the device replaces its reference data and re-sends the events the
server no longer has (see `PushResponse.high_water`).

Event kinds are a tagged union on "kind"; a new kind gets a new tag (and needs a protocol
version the server accepts). Quantities are decimal strings.

Protocol 2 adds: the signed-in counter's user name on every event (`counter`, "" when no
counter signed in), `QuantityKeyed.mode` ("set" makes the quantity the bin's total of that
item and lot) and `source="scan"` (one unit per scan of an item's barcode), the
`BarcodeUnknown` event (a scan that matched nothing, kept for the supervisor, never
counted), and in the pull: each item's `count_mode`, the site's counters with their PIN
verifiers (`counters`) and the site's device settings (`settings`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.common import CODE_PATTERN, Code, QuantityText
from schemas.masterdata import Barcode, BinKind, Tracking

# Limits a device keeps to, and a server enforces: a batch is bounded by count and bytes.
MAX_PUSH_EVENTS = 500
MAX_PUSH_BYTES = 1_048_576  # the encoded, uncompressed request body
MAX_PULL_PAGE = 1_000  # records of all kinds in one pull page

MEDIA_TYPE_JSON = "application/json"
MEDIA_TYPE_MSGPACK = "application/x-msgpack"
# The problem `code` a server answers for a protocol version it does not accept (HTTP 426).
PROBLEM_PROTOCOL_UNSUPPORTED = "protocol_version_unsupported"

Seq = Annotated[int, msgspec.Meta(ge=1, description="A per-install event sequence number.")]
InstallId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9a-f]{32}$",
        description="Created with the device's local database: 32 lower-case hex digits.",
    ),
]
# The codes in event bodies (count, item) are Codes whose pattern the server checks once
# per distinct value of a push (`event_code_problem`), not msgspec once per field: its
# pattern check cost about 0.6 microseconds a value, most of the time a push took to
# decode, and a push of 500 scans repeats one count code and a few item codes. The
# published schema still carries the pattern.
EventCode = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="An identifying code: letters, digits and . _ / -",
        extra_json_schema={"pattern": CODE_PATTERN},
    ),
]
_CODE = re.compile(CODE_PATTERN)
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
RawText = Annotated[str, msgspec.Meta(max_length=4096)]
SerialNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Lot = Annotated[str, msgspec.Meta(max_length=200)]
CountMode = Literal["unit", "measure"]
CountStatusName = Literal["open", "counting_in_process", "counted", "completed", "cancelled"]


# --- events: what the counter did, one per outbox entry --------------------------------


class BinOpened(msgspec.Struct, kw_only=True, tag_field="kind", tag="bin_opened"):
    """The counter scanned a bin label: a bin count starts. Its `seq` names the bin count:
    every later event of this bin count carries it as `bin_seq`."""

    count: EventCode
    bin: Barcode
    counter: str = ""


class SerialScanned(msgspec.Struct, kw_only=True, tag_field="kind", tag="serial_scanned"):
    count: EventCode
    bin: Barcode
    bin_seq: Seq
    item: EventCode
    serial: SerialNumber
    raw: RawText  # the barcode as scanned: AIM prefix and GS (0x1D) kept
    symbology: str = ""  # "CODE128", "DATAMATRIX", ... or "" when typed
    also_in_bin: str = ""  # set when the count already has this serial in another bin
    counter: str = ""  # the signed-in counter's user name (protocol 2)


class QuantityKeyed(msgspec.Struct, kw_only=True, tag_field="kind", tag="quantity_keyed"):
    """A quantity of an untracked or lot item (or units of an auto-serialized item without
    a serial) in the bin: keyed, read from GS1 AI 30, or one unit per scan of the item's
    barcode (`source="scan"`). Quantities of one item and lot in one bin count add up;
    `mode="set"` makes this quantity the bin count's total of that item and lot so far
    (`qty ITEM N`; it may be 0)."""

    count: EventCode
    bin: Barcode
    bin_seq: Seq
    item: EventCode
    quantity: QuantityText
    lot: Lot = ""
    source: Literal["keyed", "gs1", "scan"] = "keyed"
    raw: RawText = ""
    counter: str = ""  # protocol 2
    mode: Literal["add", "set"] = "add"  # protocol 2


class ScanUndone(msgspec.Struct, kw_only=True, tag_field="kind", tag="scan_undone"):
    """The counter took back the scan with seq `target_seq` (of the same bin count)."""

    count: EventCode
    bin: Barcode
    bin_seq: Seq
    target_seq: Seq
    counter: str = ""  # protocol 2


class BinClosed(msgspec.Struct, kw_only=True, tag_field="kind", tag="bin_closed"):
    """The bin count is complete. A bin count with no scans needs `confirmed_empty`."""

    count: EventCode
    bin: Barcode
    bin_seq: Seq
    confirmed_empty: bool = False
    counter: str = ""  # protocol 2


class BarcodeUnknown(msgspec.Struct, kw_only=True, tag_field="kind", tag="barcode_unknown"):
    """A scan that matched no bin, item or serial, or whose GS1 data does not parse
    (`problem="malformed"`), in the open count: kept and listed for the supervisor, never
    counted. `bin`/`bin_seq` name the bin count that was open ("" and 0: none was).
    Protocol 2."""

    count: EventCode
    raw: RawText
    bin: Barcode = ""
    bin_seq: Annotated[int, msgspec.Meta(ge=0)] = 0
    symbology: str = ""
    problem: Literal["unknown", "malformed"] = "unknown"
    message: Annotated[str, msgspec.Meta(max_length=500)] = ""
    counter: str = ""


EventBody = BinOpened | SerialScanned | QuantityKeyed | ScanUndone | BinClosed | BarcodeUnknown
EventKind = Literal[
    "bin_opened", "serial_scanned", "quantity_keyed", "scan_undone", "bin_closed", "barcode_unknown"
]


class Event(msgspec.Struct, kw_only=True):
    seq: Seq
    device_time: AwareDatetime  # recorded, never trusted for ordering
    body: EventBody


def event_code_problem(events: Sequence[Event]) -> str | None:
    """Where the first count or item code of the events that is not a Code is, in the
    words msgspec uses for a pattern; None when every one is."""
    codes = {e.body.count for e in events}
    codes.update(e.body.item for e in events if isinstance(e.body, SerialScanned | QuantityKeyed))
    if all(_CODE.search(code) for code in codes):
        return None
    for i, e in enumerate(events):
        for name in ("count", "item"):
            value = getattr(e.body, name, None)
            if value is not None and not _CODE.search(value):
                where = f"$.events[{i}].body.{name}"
                return f"Expected `str` matching regex {CODE_PATTERN!r} - at `{where}`"
    return None  # pragma: no cover - a bad code above is found in the loop


# --- push ---------------------------------------------------------------------------------


class PushRequest(msgspec.Struct, kw_only=True):
    protocol_version: int
    device_id: int
    install_id: InstallId
    device_time: AwareDatetime  # when the batch was sent: the server derives clock skew
    events: list[Event]
    app_version: str = ""
    queue_depth: int = 0  # events still waiting on the device after this batch
    # The highest seq the device holds an acknowledgement for: above the server's
    # high-water mark, it proves the server went back (restored from a backup).
    acked_seq: int = 0


EventOutcome = Literal["applied", "duplicate", "rejected"]


class EventAck(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The server's answer for one event. `rejected` events are stored on the server and
    shown to supervisors; `reason` is a code ("count_completed", ...), `detail` a sentence."""

    seq: Seq
    outcome: EventOutcome
    reason: str = ""
    detail: str = ""


class PushResponse(msgspec.Struct, kw_only=True):
    protocol_version: int
    server_epoch: str
    acks: list[EventAck]
    # The highest seq the server holds for this (device, install): after a restore from
    # backup it can be lower than what the device had acknowledged; the device re-sends.
    high_water: int = 0
    # Set when the batch left a gap: nothing of it was stored, send from this seq.
    expected_seq: int | None = None


# --- pull: reference data ----------------------------------------------------------------


class PullCursor(msgspec.Struct, kw_only=True):
    epoch: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    change_seq: Annotated[int, msgspec.Meta(ge=0)]


class PullRequest(msgspec.Struct, kw_only=True):
    protocol_version: int
    device_id: int
    install_id: InstallId
    cursor: PullCursor | None = None  # None: everything from the start
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PULL_PAGE)] = MAX_PULL_PAGE


class ExpectedSerial(msgspec.Struct, kw_only=True):
    item: Code
    serial: SerialNumber
    bin: Barcode


class ExpectedQuantity(msgspec.Struct, kw_only=True):
    item: Code
    bin: Barcode
    quantity: QuantityText
    lot: Lot = ""


class AssignedCount(msgspec.Struct, kw_only=True):
    """A stock count this device may count. `active=False` withdraws it from the device.

    A blind count never carries expected serials or quantities: decoding one that does
    fails, so a server bug cannot reveal them to the counter.
    """

    count: Code
    location: Code
    status: CountStatusName
    blind: bool
    bins: list[Barcode]
    description: str = ""
    expected_serials: list[ExpectedSerial] = msgspec.field(default_factory=list)
    expected_quantities: list[ExpectedQuantity] = msgspec.field(default_factory=list)
    active: bool = True

    def __post_init__(self) -> None:
        if self.blind and (self.expected_serials or self.expected_quantities):
            raise ValueError("a blind count carries no expected serials or quantities")


class BinRef(msgspec.Struct, kw_only=True):
    location: Code
    label: Barcode
    kind: BinKind = "stock"


class ItemRef(msgspec.Struct, kw_only=True):
    code: Code
    name: str
    tracking: Tracking
    barcodes: list[Barcode] = msgspec.field(default_factory=list)
    auto_serialized: bool = False
    uom: str = "EA"
    # "measure": counted by weight or length, a scan asks for a keyed quantity (protocol 2)
    count_mode: CountMode = "unit"


class PinVerifier(msgspec.Struct, kw_only=True):
    """What a device checks a counter's PIN against, offline: scrypt(PIN, salt, n, r, p)
    of `length` bytes, hex. Never the PIN itself. Protocol 2."""

    salt: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16,128}$")]
    hash: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32,128}$")]
    n: Annotated[int, msgspec.Meta(ge=2, le=262_144)]
    r: Annotated[int, msgspec.Meta(ge=1, le=16)]
    p: Annotated[int, msgspec.Meta(ge=1, le=16)]
    length: Annotated[int, msgspec.Meta(ge=16, le=64)] = 32
    algorithm: Literal["scrypt"] = "scrypt"


class CounterRef(msgspec.Struct, kw_only=True):
    """A counter who may count at the device's site, with the verifier of their PIN."""

    username: str
    verifier: PinVerifier


class DeviceSettings(msgspec.Struct, kw_only=True):
    """A site's settings for its devices (the device's environment variables still
    override them). "" means the app's default. Protocol 2."""

    bin_pattern: str = ""  # the bin label regex
    gs_replacement: str = ""  # what the scanners type for the GS1 separator (0x1D)
    aim_prefixes: bool = True  # the scanners send AIM symbology identifiers ("]C1", ...)
    idle_sign_out_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15
    pin_attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5  # wrong PINs before a lock


class RecountOrder(msgspec.Struct, kw_only=True):
    """A supervisor asks for a bin to be counted again. `active=False`: done or withdrawn."""

    order_id: int
    count: Code
    bin: Barcode
    reason: str = ""
    active: bool = True


class PullResponse(msgspec.Struct, kw_only=True):
    protocol_version: int
    cursor: PullCursor  # store it with this page, in the same transaction
    has_more: bool
    reset: bool = False  # drop all reference data before applying this page
    counts: list[AssignedCount] = msgspec.field(default_factory=list)
    bins: list[BinRef] = msgspec.field(default_factory=list)
    items: list[ItemRef] = msgspec.field(default_factory=list)
    recounts: list[RecountOrder] = msgspec.field(default_factory=list)
    # Protocol 2. None: unchanged since the device's cursor. A list: every counter of the
    # site (replacing those the device holds); settings: the site's, whole.
    counters: list[CounterRef] | None = None
    settings: DeviceSettings | None = None


# --- supervisors: device status and rejected events (additions of protocol 1) ---------


class DeviceSyncStatus(msgspec.Struct, kw_only=True):
    """A device as its syncs show it. `stale`: no sync for longer than the server allows
    (STOCKCOUNT_DEVICE_STALE_MINUTES), or never synced."""

    device_id: int
    name: str
    location: Code
    stale: bool
    install_id: str = ""
    last_seen_at: datetime | None = None
    last_seq: int = 0  # the high-water mark: every seq up to it is stored
    queue_depth: int = 0  # events waiting on the device, as it said at its last push
    app_version: str = ""
    clock_skew_ms: int = 0  # server time minus device time at the last push


class DeviceStatusList(msgspec.Struct, kw_only=True):
    items: list[DeviceSyncStatus]
    stale_after_minutes: int


class RejectedEvent(msgspec.Struct, kw_only=True):
    """An event the server stored but could not apply: kept, never dropped."""

    id: int
    device_id: int
    install_id: str
    seq: int
    kind: str
    count: str
    reason: str
    detail: str
    device_time: datetime
    received_at: datetime
    body: EventBody


class RejectedPage(msgspec.Struct, kw_only=True):
    items: list[RejectedEvent]
    next_cursor: str | None = None
