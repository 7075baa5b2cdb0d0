"""The sync protocol's use cases: push (a device's events, exactly once), pull (reference
data by change sequence), and what supervisors see (device status, rejected events).

Push. One transaction per batch (on SQLite the batches that queued meanwhile share one:
group commit, `server.sync.group`; each is still answered only after the COMMIT
that stored it). Its first statement upserts the (device, install) row of `sync_install`
with the device's status and reads its high-water mark `hw` and the server's epoch: every
seq up to `hw` is stored, none above. The row serializes two pushes of one device
(PostgreSQL: a row lock; SQLite: the write lock). Events at or below `hw` are duplicates
(answered with what was stored). The events from `hw + 1` on are taken while their seqs
are contiguous; at the first hole the batch stops and answers `expected_seq` (nothing
after a gap is applied). The taken events are judged set-based (one query for the counts
and bins they name, one for the earlier events of the bins they close), inserted with ONE
multi-row INSERT, and `hw` moves to the last one, in the same transaction. No seq above
`hw` is ever stored (the mark only moves over a contiguous run in the transaction that
stores it), so the insert cannot conflict; if it did, the batch would roll back whole and
the device would retry: never doubled. A crash anywhere before COMMIT leaves nothing;
after it, a re-push gets `duplicate` for everything.

Rejected events (a completed or cancelled count, another site's count, a bin outside the
count) are stored with outcome `rejected`, a reason code and a sentence, and listed for
supervisors: never dropped.

The use cases speak the domain's types (server.domain.sync), never the wire's: the HTTP
adapter maps them (server.sync.http.wire). The rules are the domain's too: whether a count
takes an event (`refusal`, judged once per count and bin) and how a closed bin's events
fold into a bin count (`fold_bin`); here they are given what they need, loaded set-based.

A BinClosed event turns the bin's events (its BinOpened, scans, minus undone scans) into a
bin count through `counts.record_bin_count`, the same rules as the API, inside a savepoint:
when the rules refuse it, the BinClosed is stored as rejected with their reason and the
rest of the batch stands. `sync_bin_count` (device, install, bin_seq) is the source key: a
bin of a device becomes at most one bin count, whatever is replayed. Bin count times are
the device's times corrected by the clock skew measured at the push; ordering of events is
by seq only.

Restore from backup. Nothing one device sends changes what another device is told: a
device's claims are about itself only, and a faulty or hostile one can upset no other.
A device sends the highest seq it holds an acknowledgement for (`acked_seq`); above `hw`
the database lost some of its events (restored): the answer's `hw` is below what the
device holds, and the device re-sends everything above it (it alone). Pulls: the database
keeps the last cursor it handed each device (`sync_pull_mark`); a cursor above that mark
names changes this database never sent that device (restored from an older backup, or a
faulty device), and that device's pull is a reset: full reference data again. A cursor
at or below its mark is a prefix of this database's change log (the backup holds the mark
with the log), so the device pulls on from it. The server's epoch, a random id made with
the database, is made anew by the operator only (`stockcount sync new-epoch`): a cursor
of another epoch is a reset too.

Pull. Reference data of a location (its counts, bins, the items, recount orders) is kept
as a change log in `sync_ref`: one row per record with the record as sent, its digest and
the change_seq it last changed at. A pull first refreshes the log in its transaction: it
builds every record of the location from the tables as they are, and gives each record
whose digest differs (new or changed) the location's next change_seq (`sync_scope`,
whose row also serializes refreshes). So no other service has to remember to append to a
log, and a change made by any code path is seen at the next pull. Then it answers the rows
with change_seq above the cursor, in change_seq order, a page at a time. Blind counts are
built without expected quantities or serials (the wire struct refuses them).

Counts go to the devices they are assigned to: a count with bins assigned to devices is
sent whole to those devices, and to any other device of the site only withdrawn
(`active=False`, no bins, nothing expected), its recount orders too; a count without any
device assignment goes to every device of the site. The assigned devices are part of the
count's digest, so a device granted a count gets all of it at its next pull.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

import msgspec

from server.counts.ports import NewUnknownBarcode
from server.counts.usecases import counting as counts
from server.domain.auth import Caller
from server.domain.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    StockcountError,
    ValidationFailed,
)
from server.domain.sync import (
    APPLIED,
    BARCODE_UNKNOWN,
    BIN_CLOSED,
    MAX_PUSH_EVENTS,
    Ack,
    BinEvent,
    BinRef,
    CountFacts,
    CountRef,
    Cursor,
    DeviceSettings,
    DeviceSyncRecord,
    DeviceSyncRecords,
    EventContent,
    ExpectedQuantityRef,
    ExpectedSerialRef,
    ItemRef,
    PullPage,
    PullQuery,
    PushBatch,
    PushResult,
    RecountRef,
    SyncEvent,
    Verdict,
    counter_refusal,
    device_settings_problems,
    fold_bin,
    refusal,
    rejected,
)
from server.sync.ports import (
    EventBinder,
    InstallSeen,
    NewEvents,
    RefRecord,
    StoredEvent,
    SyncUnitOfWork,
)

_ENCODER = msgspec.json.Encoder()
_CONTENT: msgspec.json.Decoder[EventContent] = msgspec.json.Decoder(EventContent)
# The change log's records as stored (their JSON is the wire records': server.domain.sync).
_RECOUNT: msgspec.json.Decoder[RecountRef] = msgspec.json.Decoder(RecountRef)
_REF_DECODERS: dict[str, Callable[[str], CountRef | BinRef | ItemRef | RecountRef]] = {
    "count": msgspec.json.Decoder(CountRef).decode,
    "bin": msgspec.json.Decoder(BinRef).decode,
    "item": msgspec.json.Decoder(ItemRef).decode,
    "recount": _RECOUNT.decode,
}
_INACTIVE = frozenset({"completed", "cancelled"})


def _own_device(caller: Caller, device_id: int) -> int:
    if caller.device_id is None or caller.device_id != device_id:
        raise PermissionDenied(
            f"this credential is device {caller.device_id}'s, not device {device_id}'s",
            [FieldProblem("device_id", str(device_id))],
        )
    return device_id


# -- push --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Push:
    """One device's push as it reached the server, at `now`, checked and made ready by
    `prepare_push`: its events in seq order and, with the repository's EventBinder, each
    one's row as the database takes it if it is applied. That work needs no database, so
    it is done before the push waits for its transaction (on SQLite, beside the writer
    that stores the pushes before it)."""

    caller: Caller
    batch: PushBatch
    now: datetime
    events: list[SyncEvent]  # in seq order
    bound: list[tuple[Any, ...]] | None  # each event's row for the database, if applied


def prepare_push(
    caller: Caller, batch: PushBatch, now: datetime, bind: EventBinder | None = None
) -> Push:
    """The refusals that need no database (another device's credential, too many events,
    a seq named twice), raised here; then the events' rows made ready (with `bind`, the
    repository's EventBinder)."""
    device_id = _own_device(caller, batch.device_id)
    if len(batch.events) > MAX_PUSH_EVENTS:
        raise ValidationFailed(
            f"a batch holds at most {MAX_PUSH_EVENTS} events, not {len(batch.events)}",
            [FieldProblem("events", "too many")],
        )
    events = sorted(batch.events, key=_seq)
    if len({e.seq for e in events}) != len(events):
        raise ValidationFailed(
            "a batch names each seq once", [FieldProblem("events", "repeated seq")]
        )
    bound = bind(device_id, batch.install_id, events, now) if bind is not None else None
    return Push(caller, batch, now, events, bound)


_seq = attrgetter("seq")


async def push(
    uow: SyncUnitOfWork,
    caller: Caller,
    batch: PushBatch,
    now: datetime,
    bind: EventBinder | None = None,
) -> PushResult:
    """One push in its own transaction."""
    return (await push_together(uow, [prepare_push(caller, batch, now, bind)]))[0]


async def push_together(uow: SyncUnitOfWork, pushes: Sequence[Push]) -> list[PushResult]:
    """Pushes one after another in ONE transaction with one COMMIT (group commit: see
    `server.sync.group`); the answers, in order, only once it committed. Any
    failure raises and leaves nothing of any of them. A later push of a device sees what
    an earlier one in the same transaction stored (its mark, its events).

    The statements are shared: one upsert locks every install of the group and reads the
    marks and the epoch; the events wait in `_Transaction.pending` and go in as multi-row
    INSERTs before anything reads `sync_event` and before COMMIT; the marks are written
    by one statement at the end. All of it commits together or not at all."""
    async with uow:
        marks = await uow.sync.lock_installs(
            [
                InstallSeen(
                    p.batch.device_id,
                    p.batch.install_id,
                    p.now,
                    max(p.batch.queue_depth, 0),
                    p.batch.app_version[:64],
                    int((p.now - p.batch.device_time) / timedelta(milliseconds=1)),
                )
                for p in pushes
            ]
        )
        tx = _Transaction(marks.high_water, marks.epoch)
        responses = [await _store(uow, tx, p) for p in pushes]
        await tx.flush(uow)
        await uow.sync.set_high_waters(tx.moved)
        # One statement for the group's devices, at the latest of their request times.
        await uow.sync.touch_devices(
            {p.batch.device_id for p in pushes}, max(p.now for p in pushes)
        )
        await uow.commit()
    return responses


@dataclass(slots=True)
class _Transaction:
    """What the pushes of one transaction share between its statements."""

    marks: dict[tuple[int, str], int]  # each install's mark as this transaction moved it
    epoch: str
    moved: dict[tuple[int, str], int] = field(default_factory=dict)  # marks to write
    pending: list[NewEvents] = field(default_factory=list)  # events not yet inserted
    facts: dict[str, CountFacts] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)  # what `facts` was read for
    bins: set[str] = field(default_factory=set)

    async def flush(self, uow: SyncUnitOfWork) -> None:
        """Insert the pending events: before any read of `sync_event`, and at the end."""
        if self.pending:
            await uow.sync.insert_events(self.pending)
            self.pending = []

    async def count_facts(
        self, uow: SyncUnitOfWork, numbers: set[str], bins: set[str]
    ) -> dict[str, CountFacts]:
        """The counts and bins named, read once for the transaction: nothing but this
        transaction writes while it holds the lock, and it forgets them when it records
        a bin count (`forget_counts`)."""
        if not (numbers <= self.numbers and bins <= self.bins):
            self.numbers |= numbers
            self.bins |= bins
            self.facts = await uow.sync_counts.count_facts(self.numbers, self.bins)
        return self.facts

    def forget_counts(self) -> None:
        self.numbers, self.bins, self.facts = set(), set(), {}


async def _store(uow: SyncUnitOfWork, tx: _Transaction, push: Push) -> PushResult:
    batch, now = push.batch, push.now
    device_id, install = batch.device_id, batch.install_id
    key = (device_id, install)
    events = push.events
    skew = now - batch.device_time
    hw = tx.marks[key]
    # An `acked_seq` above `hw` (a restored database, or a faulty device) changes nothing
    # here: the answer's `hw` tells that device what to re-send, and no other device.
    acks: list[Ack] = []
    applied = range(0)
    # Events are in seq order: those at or below the mark first (duplicates), then the
    # contiguous run from the mark on, up to the first gap.
    first = 0
    while first < len(events) and events[first].seq <= hw:
        first += 1
    if first:
        await tx.flush(uow)
        stored = await uow.sync.stored(device_id, install, [e.seq for e in events[:first]])
        acks += [Ack(seq, "duplicate", s.reason, s.detail) for seq, s in sorted(stored.items())]
    end, expected = first, None
    while end < len(events):
        if events[end].seq != hw + end - first + 1:
            expected = hw + end - first + 1
            break
        end += 1
    if end > first:
        verdicts = await _judge(uow, tx, push, first, end, skew)
        all_applied = verdicts.count(APPLIED) == len(verdicts)
        bound = push.bound[first:end] if all_applied and push.bound is not None else None
        tx.pending.append(NewEvents(device_id, install, events[first:end], now, verdicts, bound))
        if all_applied:
            applied = range(events[first].seq, events[end - 1].seq + 1)
        else:
            acks += [
                Ack(e.seq, v.outcome, v.reason, v.detail)
                for e, v in zip(events[first:end], verdicts, strict=True)
            ]
        hw = tx.marks[key] = tx.moved[key] = events[end - 1].seq
    return PushResult(tx.epoch, acks, hw, expected, applied)


async def _judge(
    uow: SyncUnitOfWork, tx: _Transaction, push: Push, first: int, end: int, skew: timedelta
) -> list[Verdict]:
    """The verdicts of the push's events first..end-1, in order. Whether a count takes an
    event depends on the event's count and bin only: judged once per (count, bin)."""
    caller, install, now = push.caller, push.batch.install_id, push.now
    assert caller.device_id is not None
    run = push.events[first:end]
    places = [(e.count_number, None if e.kind == BARCODE_UNKNOWN else e.bin) for e in run]
    named = set(places)
    facts = await tx.count_facts(uow, {c for c, _ in named}, {b for _, b in named if b is not None})
    judged = {
        (count, label): refusal(
            facts.get(count), count, label, caller.location_id, caller.location_code
        )
        or APPLIED
        for count, label in named
    }
    verdicts = [judged[p] for p in places]
    named_counters = {e.counter for e in run if e.counter}
    if named_counters:
        await _judge_counters(uow, caller, run, verdicts, named_counters, skew)
    unknown = [e for i, e in enumerate(run) if e.kind == BARCODE_UNKNOWN and verdicts[i] is APPLIED]
    if unknown:
        await uow.unknown_barcodes.add(
            [_unknown_barcode(e, caller.device_id, install, skew, now) for e in unknown]
        )
    closing = [i for i, e in enumerate(run) if e.kind == BIN_CLOSED and verdicts[i] is APPLIED]
    if not closing:
        return verdicts
    bin_seqs = {run[i].bin_seq for i in closing}
    await tx.flush(uow)
    earlier = await uow.sync.bin_events(caller.device_id, install, bin_seqs)
    by_bin: dict[int, list[BinEvent]] = {s: [] for s in bin_seqs}
    for stored in earlier:
        if stored.outcome == "applied":
            by_bin[stored.bin_seq].append(
                BinEvent(stored.seq, stored.device_time, _CONTENT.decode(stored.body))
            )
    contents: dict[int, EventContent] = {}
    for i, e in enumerate(run):
        if e.bin_seq in by_bin and verdicts[i] is APPLIED:
            content = contents[i] = _CONTENT.decode(e.body)
            by_bin[e.bin_seq].append(BinEvent(e.seq, e.device_time, content))
    for i in closing:
        close = run[i]
        verdicts[i] = await _close_bin(
            uow, caller, install, close, contents[i], by_bin[close.bin_seq], skew, now
        )
    tx.forget_counts()  # a bin count may change what the counts' facts say
    return verdicts


async def _judge_counters(
    uow: SyncUnitOfWork,
    caller: Caller,
    run: Sequence[SyncEvent],
    verdicts: list[Verdict],
    names: set[str],
    skew: timedelta,
) -> None:
    """Refuse (in `verdicts`) the events of counters who may not count at the device's
    site or were deactivated before the scan; events with no counter are the device's."""
    facts = await uow.sync.counters(names)
    for i, e in enumerate(run):
        if e.counter and verdicts[i] is APPLIED:
            refused = counter_refusal(
                facts.get(e.counter), e.counter, caller.location_id, e.device_time + skew
            )
            if refused is not None:
                verdicts[i] = refused


class _UnknownContent(msgspec.Struct):
    """What the server keeps of a BarcodeUnknown event's body."""

    raw: str = ""
    bin: str = ""
    symbology: str = ""
    problem: str = "unknown"
    message: str = ""
    counter: str = ""


_UNKNOWN: msgspec.json.Decoder[_UnknownContent] = msgspec.json.Decoder(_UnknownContent)


def _unknown_barcode(
    e: SyncEvent, device_id: int, install: str, skew: timedelta, now: datetime
) -> NewUnknownBarcode:
    body = _UNKNOWN.decode(e.body)
    return NewUnknownBarcode(
        count=e.count_number,
        device_id=device_id,
        install_id=install,
        seq=e.seq,
        bin=body.bin[:128],
        counter=body.counter[:64],
        raw=body.raw[:4096],
        symbology=body.symbology[:32],
        problem=body.problem[:16],
        message=body.message[:500],
        scanned_at=e.device_time + skew,
        received_at=now,
    )


async def _close_bin(
    uow: SyncUnitOfWork,
    caller: Caller,
    install: str,
    close: SyncEvent,
    content: EventContent,
    events: list[BinEvent],
    skew: timedelta,
    now: datetime,
) -> Verdict:
    """The BinClosed `close` judged by the rules (`fold_bin`) and, when they take it, its
    bin count recorded by the counts' rules in a savepoint: when those refuse it, the
    BinClosed is rejected with their reason and the rest of the batch stands."""
    assert caller.device_id is not None
    closed = await uow.sync.bin_count_source(caller.device_id, install, close.bin_seq)
    fold = fold_bin(close, content.confirmed_empty, events, skew, closed)
    if isinstance(fold, Verdict):
        return fold
    counted_by = None
    if fold.counter:
        found = (await uow.sync.counters({fold.counter})).get(fold.counter)
        if found is not None:  # else the BinOpened was refused: `fold_bin` said so
            counted_by = (found.user_id, found.username)
    try:
        async with uow.sync.savepoint():
            header = await counts.record_bin_count(
                uow, caller, close.count_number, fold, now, counted_by
            )
            await uow.sync.add_bin_count_source(caller.device_id, install, close.bin_seq, header.id)
    except StockcountError as exc:
        return rejected(exc.code, str(exc))
    return APPLIED


# -- pull --------------------------------------------------------------------------------


async def pull(uow: SyncUnitOfWork, caller: Caller, query: PullQuery, now: datetime) -> PullPage:
    _own_device(caller, query.device_id)
    assert caller.location_id is not None
    location_id = caller.location_id
    async with uow:
        seq = await uow.sync.lock_scope(location_id)
        epoch = await uow.sync.epoch()
        cursor = query.cursor
        # Above this device's mark: changes this database never sent it (it went back, or
        # the device is faulty). A reset for this device alone.
        reset = (
            cursor is None
            or cursor.epoch != epoch
            or cursor.change_seq > await uow.sync.pulled_mark(query.device_id)
        )
        after = 0 if reset or cursor is None else cursor.change_seq
        assigned = await _refresh(uow, location_id, seq)
        rows = await uow.sync.ref_page(location_id, after, query.limit + 1)
        counters = await uow.sync.site_counters(location_id)
        settings = await uow.sync.device_settings(location_id)
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        handed = rows[-1].change_seq if rows else after
        await uow.sync.set_pulled_mark(query.device_id, handed)
        await uow.commit()
    page = PullPage(
        cursor=Cursor(epoch, handed),
        has_more=has_more,
        reset=reset,
        counters=counters,
        settings=settings,
    )
    for row in rows:
        record = _REF_DECODERS[row.kind](row.body)
        if isinstance(record, CountRef):
            page.counts.append(_count_for(record, assigned, caller.device_id))
        elif isinstance(record, BinRef):
            page.bins.append(record)
        elif isinstance(record, ItemRef):
            page.items.append(record)
        else:
            page.recounts.append(_recount_for(record, assigned, caller.device_id))
    return page


def _withheld(assigned: dict[str, frozenset[int]], count: str, device_id: int | None) -> bool:
    """A count whose bins are assigned to devices is theirs: any other device gets it (and
    its recount orders) withdrawn, with nothing in it but its number. A count without any
    device assignment goes to every device of the site."""
    devices = assigned.get(count, frozenset())
    return bool(devices) and device_id not in devices


def _count_for(
    record: CountRef, assigned: dict[str, frozenset[int]], device_id: int | None
) -> CountRef:
    if not _withheld(assigned, record.count, device_id):
        return record
    return CountRef(
        count=record.count,
        location=record.location,
        status=record.status,
        blind=record.blind,
        bins=[],
        active=False,
    )


def _recount_for(
    record: RecountRef, assigned: dict[str, frozenset[int]], device_id: int | None
) -> RecountRef:
    if not _withheld(assigned, record.count, device_id):
        return record
    return RecountRef(order_id=record.order_id, count=record.count, bin=record.bin, active=False)


def _plain(quantity: Decimal) -> Decimal:
    """10.0000 -> 10, 2.5000 -> 2.5: the database's scale is not the quantity's."""
    return (
        quantity.quantize(Decimal(1))
        if quantity == quantity.to_integral()
        else quantity.normalize()
    )


async def _refresh(uow: SyncUnitOfWork, location_id: int, seq: int) -> dict[str, frozenset[int]]:
    """Give every record of the location that changed since the last refresh a new
    change_seq. Items first, then bins, counts, recount orders: a page never names a bin
    or item the device has not been sent. Returns the devices each count is assigned to;
    a count's (and its recount orders') digest covers them, so a device granted a count
    gets the whole count at its next pull, whatever its cursor."""
    records: list[tuple[str, str, bytes]] = []
    devices_of: dict[str, frozenset[int]] = {}
    for item in await uow.sync.ref_items():
        ref = ItemRef(
            code=item.code,
            name=item.name,
            tracking=item.tracking,
            barcodes=sorted(item.barcodes),
            auto_serialized=item.auto_serialized,
            uom=item.uom,
            count_mode=item.count_mode,
        )
        records.append(("item", item.code, _ENCODER.encode(ref)))
    for b in await uow.sync.ref_bins(location_id):
        ref_bin = BinRef(location=b.location, label=b.label, kind=b.kind)
        records.append(("bin", b.label, _ENCODER.encode(ref_bin)))
    for c in await uow.sync_counts.ref_counts(location_id):
        devices_of[c.number] = c.devices
        show = not c.blind
        assigned = CountRef(
            count=c.number,
            location=c.location,
            status=c.status,
            blind=c.blind,
            bins=sorted(c.bins),
            expected_serials=[
                ExpectedSerialRef(item=i, serial=s, bin=b) for i, s, b in sorted(c.expected_serials)
            ]
            if show
            else [],
            expected_quantities=[
                ExpectedQuantityRef(item=i, bin=b, lot=lot, quantity=_plain(q))
                for i, b, lot, q in sorted(c.expected_quantities)
            ]
            if show
            else [],
            active=c.status not in _INACTIVE,
        )
        records.append(("count", c.number, _ENCODER.encode(assigned)))
    for r in await uow.sync_counts.ref_recounts(location_id):
        order = RecountRef(
            order_id=r.order_id, count=r.count, bin=r.bin, reason=r.reason, active=r.active
        )
        records.append(("recount", str(r.order_id), _ENCODER.encode(order)))
    known = await uow.sync.ref_digests(location_id)
    changed: list[RefRecord] = []
    for kind, key, body in records:
        scope = b""
        if kind in ("count", "recount"):
            count = key if kind == "count" else _RECOUNT.decode(body).count
            scope = ",".join(str(d) for d in sorted(devices_of.get(count, ()))).encode()
        digest = hashlib.blake2b(body + b"\0" + scope, digest_size=16).hexdigest()
        if known.get((kind, key)) != digest:
            seq += 1
            changed.append(RefRecord(kind, key, digest, seq, body.decode()))
    if changed:
        await uow.sync.upsert_refs(location_id, changed)
        await uow.sync.set_scope(location_id, seq)
    return devices_of


# -- operators ---------------------------------------------------------------------------


async def force_new_epoch(uow: SyncUnitOfWork) -> str:
    """A new epoch now (`stockcount sync new-epoch`, after restoring the database from a
    backup): every device's next pull is a reset, and a device whose acknowledgements the
    database lacks sends those events again at its next push."""
    async with uow:
        epoch = await uow.sync.renew_epoch()
        await uow.commit()
    return epoch


# -- supervisors -------------------------------------------------------------------------


async def device_status(
    uow: SyncUnitOfWork, location: str | None, now: datetime, stale_minutes: int
) -> DeviceSyncRecords:
    async with uow:
        location_id = None
        if location is not None:
            location_id = await uow.codes.location_id(location)
            if location_id is None:
                raise NotFound(f"location {location!r} does not exist")
        installs = await uow.sync.installs(location_id)
    limit = timedelta(minutes=stale_minutes)
    return DeviceSyncRecords(
        items=[
            DeviceSyncRecord(
                device_id=i.device_id,
                name=i.name,
                location=i.location,
                stale=i.last_seen_at is None or now - i.last_seen_at > limit,
                install_id=i.install_id or "",
                last_seen_at=i.last_seen_at,
                last_seq=i.high_water,
                queue_depth=i.queue_depth,
                app_version=i.app_version,
                clock_skew_ms=i.clock_skew_ms,
            )
            for i in installs
            if i.device_status == "active"
        ],
        stale_after_minutes=stale_minutes,
    )


@dataclass(frozen=True, slots=True)
class RejectedEvents:
    """A page of the events stored as rejected, oldest first; `next_cursor` when there may
    be more."""

    items: list[StoredEvent]
    next_cursor: str | None


async def rejected_events(
    uow: SyncUnitOfWork, after: int, limit: int, device_id: int | None, count: str | None
) -> RejectedEvents:
    async with uow:
        rows = await uow.sync.rejected(after, limit, device_id, count)
    return RejectedEvents(rows, str(rows[-1].id) if len(rows) == limit else None)


# -- a site's device settings -----------------------------------------------------------


async def device_settings(uow: SyncUnitOfWork, location: str) -> DeviceSettings:
    async with uow:
        location_id = await uow.codes.location_id(location)
        if location_id is None:
            raise NotFound(f"location {location!r} does not exist")
        return await uow.sync.device_settings(location_id)


async def set_device_settings(
    uow: SyncUnitOfWork, caller: Caller, location: str, settings: DeviceSettings, now: datetime
) -> DeviceSettings:
    """The settings the site's devices get at their next pull (their environment
    variables still override them there)."""
    problems = device_settings_problems(settings)
    if problems:
        raise ValidationFailed(
            "the device settings are not valid", [FieldProblem(f, why) for f, why in problems]
        )
    async with uow:
        location_id = await uow.codes.location_id(location)
        if location_id is None:
            raise NotFound(f"location {location!r} does not exist")
        await uow.sync.set_device_settings(location_id, settings, caller.user_id, now)
        await uow.commit()
    return settings
