"""The sync rules: whether a count takes a device's event, and how a closed bin's events
fold into one bin count. Pure: the push use case (`server.sync.usecases`) loads what
they need, calls them, and stores what they decide.

A push's events reach the use case as `SyncEvent`s (the HTTP adapter makes them from the
wire, `server.sync.wire`): what judging needs (kind, count, bin, the bin count's seq), the
device's time, and the body as the device sent it, stored as is. Folding a bin needs the
scans' contents too; it reads them as `EventContent`, decoded from the stored bodies only
for the bins that close (a push of 500 scans pays nothing for it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, NamedTuple

from server.domain.counting import SubmittedBinCount

# The protocol's bound on a batch (schemas.sync.MAX_PUSH_EVENTS; a unit test holds them
# equal): the use case refuses more, whoever calls it.
MAX_PUSH_EVENTS = 500

BIN_OPENED = "bin_opened"
SERIAL_SCANNED = "serial_scanned"
QUANTITY_KEYED = "quantity_keyed"
SCAN_UNDONE = "scan_undone"
BIN_CLOSED = "bin_closed"
BARCODE_UNKNOWN = "barcode_unknown"  # kept for the supervisor, never counted

# A Counted count still takes scans: a device that docks after the last bin was counted
# is heard (counts.takes_bin_counts).
_TAKES_SCANS = frozenset({"counting_in_process", "counted"})
_STATUS_REASON = {
    "completed": "count_completed",
    "cancelled": "count_cancelled",
    "open": "count_not_started",
}
DETAIL_LIMIT = 500  # characters of a rejection's sentence that are stored


class SyncEvent(NamedTuple):
    """One event of a push. A tuple: ingest handles tens of thousands a second."""

    seq: int
    kind: str
    count_number: str
    bin: str
    bin_seq: int  # the seq of its bin count's BinOpened (a BinOpened's own seq)
    device_time: datetime  # recorded, never trusted for ordering
    body: str  # the body as the device sent it (JSON), stored as is
    counter: str = ""  # the user name of the counter signed in on the device ("": none)


@dataclass(frozen=True, slots=True)
class EventContent:
    """What folding a bin reads of an event's body (the other fields are ignored)."""

    kind: str
    item: str = ""
    serial: str = ""
    lot: str = ""
    quantity: Decimal = Decimal(0)
    target_seq: int = 0  # a ScanUndone's
    confirmed_empty: bool = False  # a BinClosed's
    mode: str = "add"  # a QuantityKeyed's: "set" makes it the total of its item and lot
    counter: str = ""  # a BinOpened's: who counts the bin


@dataclass(frozen=True, slots=True)
class CounterFacts:
    """What judging a counter's events needs: may they count at the device's site, and
    were they deactivated (when)."""

    username: str
    user_id: int
    location_ids: frozenset[int]
    deactivated_at: datetime | None  # set while the user is inactive


def counter_refusal(
    facts: CounterFacts | None, username: str, location_id: int | None, scanned_at: datetime
) -> Verdict | None:
    """Why an event by the counter `username`, scanned at `scanned_at` (the device's time
    corrected by its clock skew) on a device of `location_id`, is refused, or None."""
    if facts is None:
        return rejected("counter_unknown", f"{username} is no counter with a PIN")
    if facts.deactivated_at is not None and facts.deactivated_at <= scanned_at:
        return rejected(
            "counter_deactivated",
            f"{username} was deactivated at {facts.deactivated_at.isoformat()}, before the scan",
        )
    if location_id not in facts.location_ids:
        return rejected("counter_other_site", f"{username} may not count at this site")
    return None


@dataclass(frozen=True, slots=True)
class PushBatch:
    """A device's push: its install's status and its events, in any order."""

    device_id: int
    install_id: str
    device_time: datetime  # when the batch was sent: the clock skew is measured from it
    events: list[SyncEvent]
    app_version: str = ""
    queue_depth: int = 0
    acked_seq: int = 0  # the highest seq the device holds an acknowledgement for


class Ack(NamedTuple):
    """The answer for one event: applied, duplicate or rejected (with reason and detail)."""

    seq: int
    outcome: Literal["applied", "duplicate", "rejected"]
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PushResult:
    """The answer to a push: one ack per event, `acks` first (duplicates, and the events
    judged when any of them was rejected), then one `applied` for each seq of `applied`
    (the contiguous run stored when all of it was applied: no object per event)."""

    server_epoch: str
    acks: list[Ack]
    high_water: int  # every seq up to it is stored
    expected_seq: int | None = None  # set when the batch left a gap at this seq
    applied: range = range(0)


class Verdict(NamedTuple):
    """What the server decided for an event, as stored."""

    outcome: Literal["applied", "rejected"]
    reason: str = ""
    detail: str = ""


APPLIED = Verdict("applied")


def rejected(reason: str, detail: str) -> Verdict:
    return Verdict("rejected", reason, detail[:DETAIL_LIMIT])


@dataclass(frozen=True, slots=True)
class CountFacts:
    """What judging an event needs to know of the count it names. `bins`: those of the
    bins asked about that are in the count (not every bin of a count of thousands)."""

    number: str
    location_id: int
    status: str
    bins: frozenset[str]


def refusal(
    facts: CountFacts | None,
    count: str,
    label: str | None,
    location_id: int | None,
    location: str | None,
) -> Verdict | None:
    """Why the count `count` does not take an event of bin `label` from a device at
    `location_id` (`location` its code), or None when it does. The same for every event
    of one (count, bin): the use case judges each pair once. `label` None: an event of the
    count that needs no bin of it (an unknown barcode, scanned with no bin open or in a bin
    outside the count: kept for the supervisor all the same)."""
    if facts is None:
        return rejected("count_unknown", f"stock count {count} does not exist")
    if facts.location_id != location_id:
        return rejected(
            "count_other_site",
            f"stock count {count} is not at this device's site {location}",
        )
    if facts.status not in _TAKES_SCANS:
        reason = _STATUS_REASON.get(facts.status, "count_not_counting")
        return rejected(
            reason,
            f"stock count {count} is {facts.status.replace('_', ' ')}: it takes no scans",
        )
    if label is not None and label not in facts.bins:
        return rejected("bin_outside_scope", f"bin {label} is not in stock count {count}")
    return None


# Reference data a pull sends of the counts, as the counts feature reads it for sync.
@dataclass(frozen=True, slots=True)
class RefCount:
    number: str
    location: str
    status: str
    blind: bool
    bins: Sequence[str]
    expected_serials: Sequence[tuple[str, str, str]]  # (item, serial, bin)
    expected_quantities: Sequence[tuple[str, str, str, Decimal]]  # (item, bin, lot, quantity)
    # The devices its bins are assigned to; empty: no device assignment (every device).
    devices: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class RefRecount:
    order_id: int
    count: str
    bin: str
    reason: str
    active: bool


class BinEvent(NamedTuple):
    """An applied event of the bin being closed, stored or in the same push."""

    seq: int
    device_time: datetime
    content: EventContent


def fold_bin(
    close: SyncEvent,
    confirmed_empty: bool,
    events: Sequence[BinEvent],
    skew: timedelta,
    already_closed: bool,
) -> SubmittedBinCount | Verdict:
    """The bin count that the BinClosed `close` makes of its bin's `events` (its
    BinOpened, its scans, minus the undone ones), as `counts.record_bin_count` takes it
    (times are the device's, corrected by the clock skew measured at the push), or the
    rejection of the BinClosed: no
    BinOpened before it, the bin already a bin count (`already_closed`), or no scans
    without the counter confirming the bin empty."""
    before = sorted((e for e in events if e.seq < close.seq), key=lambda e: e.seq)
    opened = [e for e in before if e.seq == close.bin_seq and e.content.kind == BIN_OPENED]
    if not opened:
        return rejected("bin_not_opened", f"bin count {close.bin_seq} has no stored BinOpened")
    if already_closed:
        return rejected("bin_already_closed", f"bin count {close.bin_seq} is already a bin count")
    undone = {e.content.target_seq for e in before if e.content.kind == SCAN_UNDONE}
    serials: dict[tuple[str, str], None] = {}
    # Quantities in seq order: one adds to its item and lot; a "set" one replaces what
    # they added up to so far (the device's running total, handheld_sync.counting).
    totals: dict[tuple[str, str], Decimal] = {}
    for e in before:
        if e.seq in undone:
            continue
        scan = e.content
        if scan.kind == SERIAL_SCANNED:
            serials[(scan.item, scan.serial)] = None
        elif scan.kind == QUANTITY_KEYED:
            key = (scan.item, scan.lot)
            so_far = Decimal(0) if scan.mode == "set" else totals.get(key, Decimal(0))
            totals[key] = so_far + scan.quantity
    quantities = [(item, lot, q) for (item, lot), q in totals.items() if q]
    if not serials and not quantities and not confirmed_empty:
        return rejected("empty_not_confirmed", f"bin {close.bin} has no scans and no confirmation")
    started = opened[0].device_time + skew
    finished = max(close.device_time + skew, started)
    counter = opened[0].content.counter
    return SubmittedBinCount(close.bin, started, finished, list(serials), quantities, counter)


# -- what a pull sends: reference data of a location, by change sequence ------------------
# Each record is stored as its JSON (the change log, `sync_ref`) and digested: its fields
# are the wire records' (schemas.sync), in the same order, so the JSON is the same bytes
# (a unit test holds them equal) and a device sees a record change only when it changed.


@dataclass(frozen=True, slots=True)
class ExpectedSerialRef:
    item: str
    serial: str
    bin: str


@dataclass(frozen=True, slots=True)
class ExpectedQuantityRef:
    item: str
    bin: str
    quantity: Decimal
    lot: str = ""


@dataclass(frozen=True, slots=True)
class CountRef:
    """A stock count a device may count; `active=False` withdraws it from the device. A
    blind count carries no expected serials or quantities."""

    count: str
    location: str
    status: str
    blind: bool
    bins: list[str]
    description: str = ""
    expected_serials: list[ExpectedSerialRef] = field(default_factory=list)
    expected_quantities: list[ExpectedQuantityRef] = field(default_factory=list)
    active: bool = True


@dataclass(frozen=True, slots=True)
class BinRef:
    location: str
    label: str
    kind: str = "stock"


@dataclass(frozen=True, slots=True)
class ItemRef:
    code: str
    name: str
    tracking: str
    barcodes: list[str] = field(default_factory=list)
    auto_serialized: bool = False
    uom: str = "EA"
    count_mode: str = "unit"  # "measure": the device asks for a keyed quantity


@dataclass(frozen=True, slots=True)
class VerifierRef:
    """A counter's PIN verifier as a device gets it (never the PIN)."""

    salt: str
    hash: str
    n: int
    r: int
    p: int
    length: int = 32
    algorithm: str = "scrypt"


@dataclass(frozen=True, slots=True)
class CounterRef:
    username: str
    verifier: VerifierRef


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """A site's settings for its devices; "" means the app's default."""

    bin_pattern: str = ""
    gs_replacement: str = ""
    aim_prefixes: bool = True
    idle_sign_out_minutes: int = 15
    pin_attempts: int = 5


def device_settings_problems(settings: DeviceSettings) -> list[tuple[str, str]]:
    """(field, why) of every setting a device could not use."""
    problems: list[tuple[str, str]] = []
    if settings.bin_pattern:
        try:
            re.compile(settings.bin_pattern)
        except re.error as exc:
            problems.append(("bin_pattern", f"not a regular expression: {exc}"))
    if len(settings.gs_replacement) > 1 or settings.gs_replacement.isalnum():
        problems.append(
            ("gs_replacement", "one character that is no letter or digit (| or ~), or empty")
        )
    if not 1 <= settings.idle_sign_out_minutes <= 1440:
        problems.append(("idle_sign_out_minutes", "from 1 to 1440 minutes"))
    if not 1 <= settings.pin_attempts <= 20:
        problems.append(("pin_attempts", "from 1 to 20"))
    return problems


@dataclass(frozen=True, slots=True)
class RecountRef:
    order_id: int
    count: str
    bin: str
    reason: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a device's reference data stands: the server's epoch and a change sequence."""

    epoch: str
    change_seq: int


@dataclass(frozen=True, slots=True)
class PullQuery:
    device_id: int
    cursor: Cursor | None
    limit: int


@dataclass(slots=True)
class PullPage:
    """One page of what changed after a cursor, and the cursor to store with it."""

    cursor: Cursor
    has_more: bool
    reset: bool  # the device drops its reference data before applying this page
    counts: list[CountRef] = field(default_factory=list)
    bins: list[BinRef] = field(default_factory=list)
    items: list[ItemRef] = field(default_factory=list)
    recounts: list[RecountRef] = field(default_factory=list)
    counters: list[CounterRef] | None = None  # the site's, whole
    settings: DeviceSettings | None = None


# -- what supervisors see -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceSyncRecord:
    """A device as its syncs show it. `stale`: no sync within the allowed minutes."""

    device_id: int
    name: str
    location: str
    stale: bool
    install_id: str = ""
    last_seen_at: datetime | None = None
    last_seq: int = 0
    queue_depth: int = 0
    app_version: str = ""
    clock_skew_ms: int = 0


@dataclass(frozen=True, slots=True)
class DeviceSyncRecords:
    items: list[DeviceSyncRecord]
    stale_after_minutes: int
