"""Stock count use cases: create, start, bin counts, recount, counted, cancel, and the
reconciliation every other use case reads (review, preview and finalize are in
server.counts.usecases.review).

Every change of a count starts its transaction with one conditional UPDATE of the count's
row (`CountRows.claim`): the database checks the status rule and serializes
concurrent changes of one count on that row. The statuses a change is allowed from come
from the domain's own transition functions (`_allowed`).

The database matches the snapshot's serials against the effective bin counts and hands
over only the serials of discrepancies (a million-serial count reconciles with tens of
thousands of rows through Python). The rest of a count's Snapshot (scope, bins, items,
balances) is cached in the process by its snapshot token (a snapshot never changes once
taken), and the Reconciliation by the count's version. The version is bumped in the
database by every change of what the reconciliation is computed from (snapshot, bin
counts, picks, recounts): a process never serves a reconciliation another process has
made stale. A review decision, counted and finalize change nothing of that and leave the
version, so a clear or approve on a million-serial count recomputes nothing; the review
itself is read from the database on every request, so it is visible at once in every
process.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from types import MappingProxyType

from server.counts.ports import (
    BinCountHeader,
    CountBinRecord,
    CountEventRecord,
    CountingUnitOfWork,
    CountRecord,
    CountScope,
    CountsTransaction,
    CreateCountUnitOfWork,
    NewBinCount,
    ReconcilingUnitOfWork,
    RecordBinCountUnitOfWork,
    SerialDifference,
    SerialsById,
)
from server.counts.usecases.bulk import collector_paused
from server.domain.auth import Caller, CallerKind
from server.domain.counting import (
    BinCount,
    CountItemFacts,
    CountStatus,
    EffectiveBinCounts,
    Reconciliation,
    Snapshot,
    SnapshotSerial,
    cancel,
    counters_by_bin,
    current_bin_counts,
    mark_counted,
    order_recount,
    reconcile,
    resolve_bin_counts,
    start_counting,
)
from server.domain.counting import (
    # The domain's; named here too for callers that build it beside the use case.
    SubmittedBinCount as SubmittedBinCount,
)
from server.domain.counting.checks import (
    check_contents,
    check_contents_of_many,
    check_counter,
    checked_quantities,
    takes_bin_counts,
)
from server.domain.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from server.domain.masterdata import Role, Tracking
from server.ports import AuditAction, AuditEntry

SCOPE_KINDS = ("bins", "prefix", "zone", "all")
MAX_BINS_LISTED = 10_000


# -- inputs and views ------------------------------------------------------------------

_first = itemgetter(0)
_NONE: frozenset[tuple[str, str]] = frozenset()
# One read-only empty mapping for the headers' bin counts (10,000 of them), not a dict each.
_NO_QUANTITIES: Mapping[tuple[str, str], Decimal] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class BinAssignment:
    bin: str
    device_id: int | None = None
    counter: str | None = None


@dataclass(frozen=True, slots=True)
class NewCount:
    location: str
    scope: str
    bins: Sequence[str] = ()
    prefix: str = ""
    zone: str = ""
    blind: bool = False
    assignments: Sequence[BinAssignment] = ()


@dataclass(frozen=True, slots=True)
class CountView:
    """A count as its caller may see it. `expected` (system quantity per bin) is None
    before the snapshot exists, and for counters and devices on a blind count."""

    count: CountRecord
    bins: Sequence[CountBinRecord]
    counted_bins: frozenset[str]
    expected: Mapping[str, Decimal] | None
    awaiting_recount: frozenset[str] = frozenset()
    more: bool = False  # a page of the bins: more follow it


# -- the process cache (the unit of work's `reconciliations`: the runtime's) -------------


@dataclass
class _Cached:
    snapshot: Snapshot  # without its serials: the database matches those
    version: int = -1
    reconciliation: Reconciliation | None = None
    standing: StandingBinCounts | None = None
    # The snapshot's serials per (item, bin) asked for so far (0 where it has none): the
    # snapshot never changes, so a recomputation asks the database only for new pairs.
    held: dict[tuple[str, str], int] = field(default_factory=dict)


def _entry(uow: ReconcilingUnitOfWork, token: str) -> _Cached | None:
    found: _Cached | None = uow.reconciliations.get(token)
    return found


def forget_cached(uow: ReconcilingUnitOfWork) -> None:
    """Drop every cached snapshot and reconciliation (a benchmark's cold start)."""
    uow.reconciliations.clear()


# -- helpers ---------------------------------------------------------------------------


def _allowed(
    transition: Callable[[CountStatus], CountStatus],
) -> tuple[frozenset[CountStatus], CountStatus]:
    """The statuses a domain transition accepts, and the status it leads to."""
    allowed: set[CountStatus] = set()
    target = CountStatus.OPEN
    for status in CountStatus:
        try:
            target = transition(status)
        except Conflict:
            continue
        allowed.add(status)
    return frozenset(allowed), target


def under_review(status: CountStatus) -> CountStatus:
    if status not in (CountStatus.COUNTING, CountStatus.COUNTED):
        raise Conflict(
            f"a count is reviewed while Counting in Process or Counted, not {status}",
            [FieldProblem("status", status.value)],
            code="count-status",
        )
    return status


async def load_count(uow: CountsTransaction, number: str) -> CountRecord:
    count = await uow.counts.get(number)
    if count is None:
        raise NotFound(f"stock count {number} does not exist")
    return count


async def claim(
    uow: CountsTransaction,
    number: str,
    transition: Callable[[CountStatus], CountStatus],
    now: datetime,
    *,
    keep_status: bool = False,
    user_id: int | None = None,
    bump_version: bool = True,
) -> tuple[CountRecord, CountStatus]:
    """Take the count's row for a change, as the transaction's first statement.

    Answers the count after the claim and its status before it. When the count is in no
    status the transition accepts, raises the domain's own refusal (or NotFound).
    `bump_version` False: the change leaves the reconciliation's inputs as they are.
    """
    allowed, target = _allowed(transition)
    claimed = await uow.counts.claim(
        number, allowed, None if keep_status else target, now, user_id, bump_version
    )
    count = await load_count(uow, number)
    if claimed is None:
        transition(count.status)  # raises the refusal that names the status
        raise Conflict(f"stock count {number} changed at the same time: try again")
    # The status before the claim, where the transition has a single source.
    before = next(iter(allowed)) if len(allowed) == 1 and not keep_status else count.status
    return count, before


def can_see_expected(caller: Caller, count: CountRecord) -> bool:
    if not count.blind:
        return True
    return caller.kind is CallerKind.USER and caller.role in (Role.ADMIN, Role.SUPERVISOR)


def check_site(caller: Caller, count: CountRecord) -> None:
    """A device reads and writes only counts of its own site."""
    if caller.kind is CallerKind.DEVICE and caller.location_id != count.location_id:
        raise PermissionDenied(
            f"stock count {count.number} is at {count.location}, not at this device's site "
            f"{caller.location_code}",
            [FieldProblem("count", count.number)],
        )


def counting_source(device_id: int | None, counter: str) -> str:
    """Who a bin count comes from, for telling concurrent counts from recounts: its
    device, or for a count submitted through the API without a device, its counter. Two
    users who count one bin at the same time and disagree are a conflict, as two devices
    are; one user's overlapping counts are a recount."""
    return f"device:{device_id}" if device_id is not None else f"user:{counter}"


def counter_name(caller: Caller) -> str:
    """Who counted, as reconciliation names them: a username, or the device."""
    if caller.kind is CallerKind.DEVICE:
        return f"device:{caller.device_id}"
    return caller.name


# -- create, read, list ----------------------------------------------------------------


async def create_count(
    uow: CreateCountUnitOfWork, caller: Caller, new: NewCount, now: datetime
) -> CountView:
    if new.scope not in SCOPE_KINDS:
        raise ValidationFailed(
            f"scope must be one of {', '.join(SCOPE_KINDS)}, not {new.scope!r}",
            [FieldProblem("scope", new.scope)],
        )
    spec = {"prefix": new.prefix, "zone": new.zone}.get(new.scope, "")
    if new.scope in ("prefix", "zone") and not spec.strip():
        raise ValidationFailed(
            f"a count over a {new.scope} names it", [FieldProblem(new.scope, "required")]
        )
    labels = list(dict.fromkeys(new.bins))
    if new.scope == "bins" and not labels:
        raise ValidationFailed("list the bins to count", [FieldProblem("bins", "empty")])
    if len(labels) > MAX_BINS_LISTED:
        raise ValidationFailed(f"at most {MAX_BINS_LISTED} bins can be listed: use a prefix")
    assert caller.user_id is not None
    async with uow:
        location_id = await uow.codes.location_id(new.location)
        if location_id is None:
            raise ValidationFailed(
                f"location {new.location!r} does not exist", [FieldProblem("location", "unknown")]
            )
        scope = CountScope(new.scope, spec, labels)
        count_id = await uow.counts.add(location_id, scope, new.blind, caller.user_id, now)
        bins = {b.label: b for b in await uow.counts.bins(count_id)}
        problems = [FieldProblem(f"bins/{x}", "no such bin here") for x in labels if x not in bins]
        if not bins:
            problems.append(FieldProblem("scope", "no bin of the location is in this scope"))
        await _assign(uow, count_id, bins, new.assignments, location_id, problems)
        if problems:
            raise ValidationFailed("the count's scope does not fit the location", problems[:100])
        count = await uow.counts.get_by_id(count_id)
        await uow.commit()
    return CountView(count, list(bins.values()), frozenset(), None)


async def _assign(
    uow: CreateCountUnitOfWork,
    count_id: int,
    bins: Mapping[str, CountBinRecord],
    assignments: Sequence[BinAssignment],
    location_id: int,
    problems: list[FieldProblem],
) -> None:
    rows: list[tuple[int, int | None, int | None]] = []
    for a in assignments:
        where = f"assignments/{a.bin}"
        record = bins.get(a.bin)
        if record is None:
            problems.append(FieldProblem(where, "bin is not in the count's scope"))
            continue
        counter_id = None
        if a.counter is not None:
            user = await uow.users.by_username(a.counter)
            if user is None or not user.active:
                problems.append(FieldProblem(f"{where}/counter", f"no active user {a.counter!r}"))
                continue
            counter_id = user.id
        if a.device_id is not None:
            device = await uow.devices.by_id(a.device_id)
            if device is None or device.status != "active" or device.location_id != location_id:
                problems.append(
                    FieldProblem(f"{where}/device_id", "no active device of this location")
                )
                continue
        rows.append((record.bin_id, a.device_id, counter_id))
    if rows and not problems:
        await uow.counts.assign(count_id, rows)


async def get_count(
    uow: CountingUnitOfWork,
    caller: Caller,
    number: str,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> CountView:
    """The count with its bins by label: every bin, or `limit` of them from `offset`
    (`CountView.more`: bins follow). Only the page's bins are read, with their bin counts
    and expected quantities: a page costs the same at 10 bins or 10,000."""
    async with uow:
        count = await load_count(uow, number)
        check_site(caller, count)
        if limit is None:
            bins = await uow.counts.bins(count.id, offset=offset)
            more = False
        else:
            bins = await uow.counts.bins(count.id, offset=offset, limit=limit + 1)
            more = len(bins) > limit
            bins = bins[:limit]
        ids = None if limit is None and not offset else [b.bin_id for b in bins]
        headers = await uow.bin_counts.bin_count_headers(count.id, ids) if bins else []
        expected = None
        if count.snapshot_token is not None and can_see_expected(caller, count):
            expected = await uow.snapshots.expected_by_bin(count.id, ids) if bins else {}
    standing = current_bin_counts([_bin_count(h) for h in headers], recount_orders(bins)).current
    counted = frozenset(label for label, found in standing.items() if found)
    if expected is not None:
        expected = {b.label: expected.get(b.label, Decimal(0)) for b in bins}
    awaiting = frozenset(
        b.label for b in bins if b.recount_ordered_at is not None and b.label not in counted
    )
    return CountView(count, bins, counted, expected, awaiting, more)


async def count_events(uow: CountsTransaction, number: str) -> Sequence[CountEventRecord]:
    """What happened to the count, oldest first."""
    async with uow:
        count = await load_count(uow, number)
        return await uow.counts.events(count.id)


async def list_counts(
    uow: CountsTransaction,
    caller: Caller,
    after: int,
    limit: int,
    location: str | None,
    status: str | None,
) -> Sequence[CountRecord]:
    if status and status not in {s.value for s in CountStatus}:
        allowed = ", ".join(s.value for s in CountStatus)
        raise ValidationFailed(f"status must be one of {allowed}, not {status!r}")
    if caller.kind is CallerKind.DEVICE:
        location = caller.location_code
    async with uow:
        return await uow.counts.page(after, limit, location, status)


# -- lifecycle -------------------------------------------------------------------------


async def start_count(
    uow: CountingUnitOfWork, caller: Caller, number: str, now: datetime
) -> CountRecord:
    """Open -> Counting in Process, with the snapshot taken in the same transaction."""
    async with uow:
        count, _ = await claim(uow, number, start_counting, now)
        await uow.snapshots.take_snapshot(count.id, count.location_id, uuid.uuid4().hex)
        count = await load_count(uow, number)
        await uow.counts.add_event(
            count.id, "started", "Counting in Process: the snapshot is taken", caller.user_id, now
        )
        await uow.commit()
    return count


async def cancel_count(
    uow: CountsTransaction, caller: Caller, number: str, now: datetime
) -> CountRecord:
    async with uow:
        count, _ = await claim(uow, number, cancel, now)
        await uow.counts.add_event(count.id, "cancelled", "Cancelled", caller.user_id, now)
        await uow.audit.record(AuditEntry(AuditAction.CANCEL, caller.user_id, now, number))
        await uow.commit()
    return count


async def mark_count_counted(
    uow: ReconcilingUnitOfWork, caller: Caller, number: str, override: bool, now: datetime
) -> CountRecord:
    """Counted once every bin has an effective count, or when the supervisor says so."""
    async with uow:
        count, before = await claim(
            uow,
            number,
            lambda s: mark_counted(s, (), (), supervisor_override=True),
            now,
            bump_version=False,
        )
        recon = await reconciliation_of(uow, count)
        scope = await uow.counts.bins(count.id)
        mark_counted(
            before,
            [b.label for b in scope],
            recon.counted_bins,
            supervisor_override=override,
        )
        missing = len(scope) - len(recon.counted_bins)
        detail = "Counted: marked by the supervisor"
        if missing:
            detail += f" with {missing} bin(s) without an effective count"
        await uow.counts.add_event(count.id, "counted", detail, caller.user_id, now)
        await uow.audit.record(
            AuditEntry(AuditAction.COUNTED, caller.user_id, now, number, detail=detail)
        )
        await uow.commit()
    return count


async def order_recounts(
    uow: CountingUnitOfWork,
    caller: Caller,
    number: str,
    labels: Sequence[str],
    reason: str,
    now: datetime,
) -> CountRecord:
    """A recount of bins: a Counted count goes back to Counting in Process."""
    if not labels:
        raise ValidationFailed("name the bins to recount", [FieldProblem("bins", "empty")])
    assert caller.user_id is not None
    async with uow:
        count, _ = await claim(uow, number, order_recount, now)
        scope = {b.label: b.bin_id for b in await uow.counts.bins(count.id)}
        unknown = [
            FieldProblem(f"bins/{x}", "not in the count's scope") for x in labels if x not in scope
        ]
        if unknown:
            raise ValidationFailed("only bins of the count can be recounted", unknown[:100])
        await uow.bin_counts.add_recounts(
            count.id, {scope[x] for x in labels}, caller.user_id, reason, now
        )
        named = ", ".join(sorted(set(labels))[:20]) + (" ..." if len(set(labels)) > 20 else "")
        detail = f"Recount ordered: {named}" + (f" ({reason})" if reason else "")
        await uow.counts.add_event(count.id, "recount_ordered", detail, caller.user_id, now)
        await uow.audit.record(
            AuditEntry(AuditAction.RECOUNT, caller.user_id, now, number, named, detail)
        )
        await uow.commit()
    return count


async def pick_bin_count(
    uow: CountingUnitOfWork,
    caller: Caller,
    number: str,
    label: str,
    bin_count_id: int,
    now: datetime,
) -> CountRecord:
    """Resolve a conflict between bin counts of a bin: this one counts."""
    async with uow:
        count, _ = await claim(uow, number, under_review, now, keep_status=True)
        scope = {b.label: b.bin_id for b in await uow.counts.bins(count.id)}
        headers = {h.id: h for h in await uow.bin_counts.bin_count_headers(count.id)}
        header = headers.get(bin_count_id)
        if label not in scope or header is None or header.bin != label:
            raise NotFound(f"bin {label} of count {number} has no bin count {bin_count_id}")
        before = await standing_bin_counts(uow, count)
        if str(bin_count_id) in before.replaced:
            standing = [
                str(h.id) for h in before.headers
                if h.bin == label and str(h.id) not in before.replaced
            ]  # fmt: skip
            raise Conflict(
                f"bin count {bin_count_id} of bin {label} was replaced (by a recount or by "
                "its counter's later count): pick one that stands"
                + (f" ({', '.join(standing)})" if standing else ""),
                [FieldProblem("bin_count_id", str(bin_count_id))],
                code="bin-count-replaced",
            )
        await uow.bin_counts.pick(count.id, scope[label], bin_count_id)
        who = header.counter_name or header.device_name or header.counter
        await uow.audit.record(
            AuditEntry(
                AuditAction.PICK,
                caller.user_id,
                now,
                number,
                label,
                f"bin count {bin_count_id} by {who} counts",
            )
        )
        await uow.counts.add_event(
            count.id,
            "conflict_resolved",
            f"Conflict in bin {label} resolved: bin count {bin_count_id} by {who} counts",
            caller.user_id,
            now,
        )
        if count.status is CountStatus.COUNTING:
            await _counted_when_complete(
                uow, count, set(scope), f"the conflict in bin {label} is resolved", now
            )
        await uow.commit()
    return count


# -- bin counts ------------------------------------------------------------------------


async def submit_bin_count(
    uow: RecordBinCountUnitOfWork,
    caller: Caller,
    number: str,
    submitted: SubmittedBinCount,
    now: datetime,
) -> BinCountHeader:
    """One counter's complete count of one bin (from the API, or from a device's scans)."""
    async with uow:
        header = await record_bin_count(uow, caller, number, submitted, now)
        await uow.commit()
    return header


async def record_bin_count(
    uow: RecordBinCountUnitOfWork,
    caller: Caller,
    number: str,
    submitted: SubmittedBinCount,
    now: datetime,
    counted_by: tuple[int, str] | None = None,
) -> BinCountHeader:
    """`submit_bin_count` inside the caller's open unit of work, which commits (the sync
    service turns a device's closed bin into a bin count in the push's transaction).
    `counted_by`: (user id, user name) of the counter signed in on the device, when one
    was: the bin count names them as well as the device."""
    quantities = checked_quantities(
        submitted.started_at, submitted.finished_at, submitted.quantities
    )
    count, _ = await claim(uow, number, takes_bin_counts, now, keep_status=True)
    check_site(caller, count)
    scope = {b.label: b for b in await uow.counts.bins(count.id, [submitted.bin])}
    codes = {i for i, _ in submitted.serials} | {i for i, _ in quantities}
    facts = await uow.snapshots.item_facts(count.location_id, codes, costs=False)
    place, new, header = _checked(caller, count, scope, facts, submitted, quantities, counted_by)
    items = await uow.masterdata.items_by_code(codes)
    ids = {code: found[0] for code, found in items.items()}
    header_id, awaiting = await uow.bin_counts.add_bin_count(_by_id(new, ids), now)
    await _after_bin_count(uow, count, place.label, awaiting, now)
    return replace(header, id=header_id)


async def submit_bin_counts(
    uow: RecordBinCountUnitOfWork,
    caller: Caller,
    number: str,
    submitted: Sequence[SubmittedBinCount],
    now: datetime,
) -> list[BinCountHeader]:
    """Many complete bin counts of one count in one transaction (all or none)."""
    async with uow:
        headers = await record_bin_counts(uow, caller, number, submitted, now)
        await uow.commit()
    return headers


async def record_bin_counts(
    uow: RecordBinCountUnitOfWork,
    caller: Caller,
    number: str,
    submitted: Sequence[SubmittedBinCount],
    now: datetime,
) -> list[BinCountHeader]:
    """`record_bin_count` of each submitted bin count in turn, in the caller's open unit of
    work, with the same checks, rows, events and status, written set-based: one claim, one
    read of the bins, items and still-awaited bins for the lot, and one statement per table
    for the rows. The bin counts up to the one that leaves no bin awaiting a count are
    written together (none of them can change the count's status: a bin awaits a count
    until one started after its recount order, so every earlier step still leaves a bin
    awaiting); that one moves the count as `record_bin_count` does, and any after it are
    recorded one by one (they meet a count that may have become Counted). A refused bin
    count refuses the lot (raised before anything is written for the checks on the bin
    counts themselves)."""
    with collector_paused():
        return await _record_bin_counts(uow, caller, number, submitted, now)


async def _record_bin_counts(
    uow: RecordBinCountUnitOfWork,
    caller: Caller,
    number: str,
    submitted: Sequence[SubmittedBinCount],
    now: datetime,
) -> list[BinCountHeader]:
    if not submitted:
        return []
    checked = [
        (s, checked_quantities(s.started_at, s.finished_at, s.quantities)) for s in submitted
    ]
    count, _ = await claim(uow, number, takes_bin_counts, now, keep_status=True)
    check_site(caller, count)
    if count.status is not CountStatus.COUNTING:
        return [await record_bin_count(uow, caller, number, s, now) for s in submitted]
    # The lot's reads, checks and writes in one hand-over to the database (SQLite).
    done, awaiting, last, ids = await uow.bin_counts.together(
        lambda: _checked_and_written(uow, caller, count, checked, now)
    )
    headers = [
        BinCountHeader(
            i, h.bin, h.counter, h.device_id, h.started_at, h.finished_at, h.counter_name,
            h.device_name,
        )
        for (_, _, h), i in zip(done[:last], ids, strict=True)
    ]  # fmt: skip
    if last < len(done) or not awaiting:
        await _after_bin_count(uow, count, done[last - 1][0].label, False, now)
        headers += [await record_bin_count(uow, caller, number, s, now) for s in submitted[last:]]
    return headers


async def _checked_and_written(
    uow: RecordBinCountUnitOfWork,
    caller: Caller,
    count: CountRecord,
    checked: Sequence[tuple[SubmittedBinCount, Mapping[tuple[str, str], Decimal]]],
    now: datetime,
) -> tuple[
    list[tuple[CountBinRecord, _Checked, BinCountHeader]],
    dict[int, datetime | None],
    int,
    list[int],
]:
    """A lot's bin counts checked, and those up to the one that can change the count's
    status written: the checked bin counts, the awaited bins left, how many were written
    and their ids."""
    scope = {b.label: b for b in await uow.counts.bins(count.id, {s.bin for s, _ in checked})}
    serial_items = [set(map(_first, s.serials)) for s, _ in checked]  # a few items a bin
    codes = {i for _, q in checked for i, _ in q}.union(*serial_items)
    facts, item_ids = await uow.snapshots.item_facts_and_ids(count.location_id, codes)
    done = [_checked(caller, count, scope, facts, s, q, None, alone=False) for s, q in checked]
    check_contents_of_many(
        [new.bin_count for _, new, _ in done], count.location, facts, serial_items
    )
    # Where the count's status can change: at the first bin count that leaves no bin
    # awaiting a count (`add_bin_count`'s rule, bin by bin).
    # (The lot's bins that await, and one other when any does: then none can be the last.)
    awaiting = await uow.bin_counts.awaiting(count.id, {place.bin_id for place, _, _ in done})
    last = len(done)
    for n, (place, new, _) in enumerate(done):
        if place.bin_id in awaiting:
            ordered = awaiting[place.bin_id]
            if ordered is None or ordered <= new.started_at:
                del awaiting[place.bin_id]
        if not awaiting:
            last = n + 1
            break
    ids = await uow.bin_counts.add_bin_counts(
        [_by_id(new, item_ids) for _, new, _ in done[:last]], now
    )
    return done, awaiting, last, ids


def _checked(
    caller: Caller,
    count: CountRecord,
    scope: Mapping[str, CountBinRecord],
    facts: Mapping[str, CountItemFacts],
    submitted: SubmittedBinCount,
    quantities: Mapping[tuple[str, str], Decimal],
    counted_by: tuple[int, str] | None,
    *,
    alone: bool = True,
) -> tuple[CountBinRecord, _Checked, BinCountHeader]:
    """One submitted bin count checked against its bin and the items' facts: the bin, the
    bin count to store (lines by item code yet) and its header (id 0 yet). `alone`
    False: the caller checks the contents of its bin counts together."""
    place = scope.get(submitted.bin)
    if place is None:
        raise ValidationFailed(
            f"bin {submitted.bin} is not in stock count {count.number}",
            [FieldProblem("bin", submitted.bin)],
        )
    if counted_by is None or place.counter != counted_by[1]:  # a bin assigned to them
        check_counter(caller, place.label, place.device_id, place.counter)
    counter = counted_by[1] if counted_by is not None else counter_name(caller)
    serials = frozenset(submitted.serials)
    in_order = (
        submitted.serials
        if len(serials) == len(submitted.serials)
        else list(dict.fromkeys(submitted.serials))
    )
    bin_count = BinCount(
        id="new",
        bin=place.label,
        counter=counter,
        device=counting_source(caller.device_id, counter),
        started_at=submitted.started_at,
        finished_at=submitted.finished_at,
        serials=serials,
        quantities=quantities,
    )
    if alone:
        check_contents(bin_count, count.location, facts)
    new = _Checked(
        count.id,
        place.bin_id,
        counted_by[0] if counted_by is not None else caller.user_id,
        caller.device_id,
        bin_count,
        in_order,
    )
    header = BinCountHeader(
        0,
        place.label,
        bin_count.counter,
        caller.device_id,
        submitted.started_at,
        submitted.finished_at,
        counted_by[1]
        if counted_by is not None
        else caller.name
        if caller.kind is CallerKind.USER
        else None,
        caller.name if caller.kind is CallerKind.DEVICE else None,
    )
    return place, new, header


@dataclass(frozen=True, slots=True)
class _Checked:
    """A checked bin count and who stores it, its lines by item code yet."""

    count_id: int
    bin_id: int
    counter_id: int | None
    device_id: int | None
    bin_count: BinCount
    # The bin count's serials in the order submitted, once each: its rows are written in
    # that order (the order a device scanned them, cheaper to index than a set's).
    serials: Collection[tuple[str, str]]

    @property
    def started_at(self) -> datetime:
        return self.bin_count.started_at


def _by_id(new: _Checked, ids: Mapping[str, int]) -> NewBinCount:
    """The checked bin count as it is stored: its lines by item id (`ids`: by code)."""
    bc = new.bin_count
    return NewBinCount(
        count_id=new.count_id,
        bin_id=new.bin_id,
        counter_id=new.counter_id,
        device_id=new.device_id,
        counter=bc.counter,
        started_at=bc.started_at,
        finished_at=bc.finished_at,
        serials=SerialsById(new.serials, ids),
        quantities={(ids[i], lot): q for (i, lot), q in bc.quantities.items()},
    )


async def _counted_when_complete(
    uow: CountingUnitOfWork, count: CountRecord, scope: set[str] | None, why: str, now: datetime
) -> None:
    """Counting in Process -> Counted by itself (an event with no user) when every bin of
    the scope has an effective count and no conflict is left. `scope` None: the caller
    knows that no bin waits for a count."""
    standing = await standing_bin_counts(uow, count)
    resolved = standing.resolved
    if resolved.conflicts or (scope is not None and not scope <= resolved.effective.keys()):
        return
    await uow.counts.claim(
        count.number, {CountStatus.COUNTING}, CountStatus.COUNTED, now, bump_version=False
    )
    await uow.counts.add_event(
        count.id, "counted", f"Counted by itself: {why}, no conflict", None, now
    )


async def _after_bin_count(
    uow: CountingUnitOfWork, count: CountRecord, label: str, awaiting: bool, now: datetime
) -> None:
    """The status a new bin count leads to. Counting in Process becomes Counted by itself
    when the last bin of the scope is counted with no conflict; a Counted count whose new
    bin count conflicts with another goes back to Counting in Process. Each is an event."""
    if count.status is CountStatus.COUNTING:
        if awaiting:
            return  # a bin still waits for a count: most bin counts stop here
        await _counted_when_complete(
            uow, count, None, f"the last bin ({label}) of the scope is counted", now
        )
    elif count.status is CountStatus.COUNTED:
        standing = await standing_bin_counts(uow, count)
        if any(c.bin == label for c in standing.resolved.conflicts):
            await uow.counts.claim(
                count.number,
                {CountStatus.COUNTED, CountStatus.COUNTING},
                CountStatus.COUNTING,
                now,
                bump_version=False,
            )
            await uow.counts.add_event(
                count.id,
                "reopened",
                f"Back to Counting in Process: a new bin count of bin {label} conflicts "
                "with another",
                None,
                now,
            )


# -- reconciliation --------------------------------------------------------------------


async def reconciliation_of(uow: ReconcilingUnitOfWork, count: CountRecord) -> Reconciliation:
    """The count's reconciliation now, inside the caller's transaction, through the cache."""
    return (await reconciliation_and_bin_counts(uow, count))[0]


async def reconciliation_and_bin_counts(
    uow: ReconcilingUnitOfWork, count: CountRecord
) -> tuple[Reconciliation, StandingBinCounts]:
    """The reconciliation and the bin counts it was computed from (who counted what)."""
    if count.snapshot_token is None:
        raise Conflict(
            f"stock count {count.number} has not started: it has no snapshot yet",
            [FieldProblem("status", count.status.value)],
            code="count-status",
        )
    entry = _entry(uow, count.snapshot_token)
    if entry is None:
        entry = _Cached(await uow.snapshots.load_snapshot(count))
        uow.reconciliations.put(count.snapshot_token, entry)
    if (
        entry.reconciliation is not None
        and entry.standing is not None
        and entry.version == count.version
    ):
        return entry.reconciliation, entry.standing
    with collector_paused():
        recon, standing = await _reconciled(uow, count, entry.snapshot, entry.held)
    entry.version, entry.reconciliation, entry.standing = count.version, recon, standing
    return recon, standing


async def _reconciled(
    uow: ReconcilingUnitOfWork,
    count: CountRecord,
    base: Snapshot,
    held: dict[tuple[str, str], int],
) -> tuple[Reconciliation, StandingBinCounts]:
    standing = await standing_bin_counts(uow, count)
    effective, whole = standing.resolved, standing.contents
    chosen = [int(bc.id) for bc in effective.effective.values()]
    keyed = await uow.bin_counts.bin_count_lines(
        [i for i in chosen if i not in whole], serials=False
    )
    keyed.update(whole)
    # The first reconciliation of the snapshot in this process has the matching statement
    # count the snapshot's serials of the pairs its rows name; later ones ask only for
    # pairs not seen (`_settled`).
    differences = await uow.snapshots.serial_differences(count, chosen, None if held else held)
    keyed_items = {item for i in chosen for item, _lot in keyed[i][1]}
    snapshot, counted = await _differences_only(uow, count, base, differences, keyed_items)
    settled = await _settled(uow, count, snapshot, effective.effective, keyed, differences, held)
    recon = reconcile(
        snapshot,
        {
            label: bc.with_contents(counted.get(label, _NONE), keyed[int(bc.id)][1])
            for label, bc in effective.effective.items()
        },
        conflicts=effective.conflicts,
        counters=counters_by_bin(standing.every),
        settled=settled,
    )
    return recon, standing


@dataclass(frozen=True, slots=True)
class StandingBinCounts:
    """Every bin count of a count, which of them stand and what they decide. `contents`
    holds the serials and quantities of the bin counts that had to be compared (bins with
    more than one standing count), by id."""

    headers: Sequence[BinCountHeader]
    every: Sequence[BinCount]
    replaced: frozenset[str]
    resolved: EffectiveBinCounts
    contents: Mapping[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]]


def recount_orders(bins: Sequence[CountBinRecord]) -> dict[str, datetime]:
    return {b.label: b.recount_ordered_at for b in bins if b.recount_ordered_at is not None}


async def standing_bin_counts(uow: CountingUnitOfWork, count: CountRecord) -> StandingBinCounts:
    """Which bin count of each bin stands, from the headers (the domain decides); the
    contents are read only where two counts of one bin compete."""
    headers = await uow.bin_counts.bin_count_headers(count.id)
    bins = await uow.counts.bins(count.id, decided=True)
    every = [_bin_count(h) for h in headers]
    current = current_bin_counts(every, recount_orders(bins))
    rivals = [int(c.id) for found in current.current.values() if len(found) > 1 for c in found]
    whole = await uow.bin_counts.bin_count_lines(rivals) if rivals else {}
    compared = current.current
    if whole:  # only the bins with rival counts get their contents
        compared = {**compared, **{
            label: [c.with_contents(*whole[int(c.id)]) if int(c.id) in whole else c
                    for c in found]
            for label, found in compared.items() if len(found) > 1
        }}  # fmt: skip
    picked = {
        b.label: str(b.picked_bin_count_id) for b in bins if b.picked_bin_count_id is not None
    }
    return StandingBinCounts(
        headers, every, current.replaced, resolve_bin_counts(compared, picked), whole
    )


def _bin_count(
    h: BinCountHeader,
    serials: frozenset[tuple[str, str]] = frozenset(),
    quantities: Mapping[tuple[str, str], Decimal] | None = None,
) -> BinCount:
    return BinCount(
        id=str(h.id),
        bin=h.bin,
        counter=h.counter,
        device=counting_source(h.device_id, h.counter),
        started_at=h.started_at,
        finished_at=h.finished_at,
        serials=serials,
        quantities=quantities or _NO_QUANTITIES,
    )


async def _differences_only(
    uow: ReconcilingUnitOfWork,
    count: CountRecord,
    base: Snapshot,
    differences: Sequence[SerialDifference],
    keyed_items: set[str],
) -> tuple[Snapshot, dict[str, frozenset[tuple[str, str]]]]:
    """The snapshot and the scanned serials reduced to the serials of discrepancies (the
    domain's `settled` stands for the rest), with the live facts of serials scanned
    outside the snapshot and of counted items it does not name."""
    index: dict[tuple[str, str], SnapshotSerial] = {}
    expected: dict[str, list[tuple[str, str]]] = {}
    counted: dict[str, set[tuple[str, str]]] = {}
    strangers: set[tuple[str, str]] = set()
    for d in differences:
        key = (d.item, d.serial)
        if d.system is None:
            strangers.add(key)
        else:
            index[key] = d.system
            expected.setdefault(d.system.bin, []).append(key)
        for label in d.scanned_in:
            counted.setdefault(label, set()).add(key)
    outside, elsewhere = (
        await uow.snapshots.serial_facts(count.location_id, strangers) if strangers else ([], set())
    )
    # Items of the serials the snapshot knows are in the snapshot's items already.
    unknown_items = ({item for item, _ in strangers} | keyed_items) - base.items.keys()
    more = await uow.snapshots.item_facts(count.location_id, unknown_items) if unknown_items else {}
    snapshot = Snapshot.indexed(
        index,
        {label: frozenset(keys) for label, keys in expected.items()},
        location=base.location,
        scope=base.scope,
        bin_kinds=base.bin_kinds,
        items={**base.items, **more} if more else base.items,
        balances=base.balances,
        outside_serials=outside,
        known_elsewhere=elsewhere,
    )
    return snapshot, {label: frozenset(keys) for label, keys in counted.items()}


async def _settled(
    uow: ReconcilingUnitOfWork,
    count: CountRecord,
    snapshot: Snapshot,
    effective: Mapping[str, BinCount],
    keyed: Mapping[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]],
    differences: Sequence[SerialDifference],
    held: dict[tuple[str, str], int],
) -> dict[tuple[str, str], int]:
    """Serials matched by the database, per (item, counted bin), for the pairs the lines
    report: those of the discrepancies' serials and of units counted without serial. The
    snapshot's serials of the pair less those among the discrepancies. `held`: the
    snapshot's serials per pair known already (the cache entry's), completed here."""
    # Tens of thousands of differences and keyed quantities at a million serials: plain
    # dicts and hoisted look-ups (a Counter's miss is a Python-level __missing__ call).
    pairs: set[tuple[str, str]] = set()
    among: dict[tuple[str, str], int] = {}
    add = pairs.add
    for d in differences:
        system = d.system
        if system is not None and system.bin in effective:
            pair = (d.item, system.bin)
            add(pair)
            among[pair] = among.get(pair, 0) + 1
        for label in d.scanned_in:
            add((d.item, label))
    items, serial = snapshot.items, Tracking.SERIAL
    for label, bc in effective.items():
        for item, _lot in keyed[int(bc.id)][1]:
            facts = items.get(item)
            if facts is not None and facts.tracking is serial:
                add((item, label))
    new = pairs.difference(held)
    if new:
        found = await uow.snapshots.snapshot_quantities(count, new)
        held.update((pair, found.get(pair, 0)) for pair in new)
    return {pair: n - among.get(pair, 0) for pair in pairs if (n := held[pair])}
