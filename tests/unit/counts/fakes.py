"""In-memory fakes of the counts' ports (server/counts/ports.py), for the use cases' unit
tests: no database, no framework, as cosmicpython's FakeUnitOfWork. A
FakeCountsUnitOfWork works on a copy of the state and keeps it only at commit, as the SQL
unit of work does; its `reconciliations` is the runtime's real cache (one per process,
not part of a transaction).

A fake per port (CountRows, Snapshots, BinCounts, Reviews, CountDocuments, as the SQL
has a class per port) defines the methods the tested use cases call, with the
protocol's own signatures, and answers any other with `_unfaked`'s AttributeError. That
`__getattr__` is also what lets mypy take the fakes for the protocols they stand for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from server.auth.ports import DeviceRecord, UserRecord
from server.counts.ports import (
    BinCountHeader,
    CountBinRecord,
    CountRecord,
    CountScope,
    NewBinCount,
    SerialDifference,
)
from server.counts.usecases.cache import ReconciliationCache
from server.domain.counting import (
    CountDocument,
    CountItemFacts,
    CountStatus,
    GlSetup,
    Review,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
    ToleranceRules,
)
from server.domain.masterdata import BinKind, Tracking
from server.domain.posting import Position, PositionKey, PostingResult
from server.ports import AuditEntry, PostingContext, PostingIds
from tests.unit.fakes import FakePostings, FakeTransaction

T = TypeVar("T")

# The time a claim stamps on the count when it enters a status (as the SQL's _STAMP).
_STAMPED: dict[CountStatus, Callable[[CountRecord, datetime], CountRecord]] = {
    CountStatus.COUNTING: lambda c, now: replace(c, started_at=now),
    CountStatus.COUNTED: lambda c, now: replace(c, counted_at=now),
    CountStatus.COMPLETED: lambda c, now: replace(c, completed_at=now),
    CountStatus.CANCELLED: lambda c, now: replace(c, cancelled_at=now),
}


@dataclass
class StoredBinCount:
    count_id: int
    header: BinCountHeader
    serials: frozenset[tuple[str, str]]  # (item code, serial)
    quantities: dict[tuple[str, str], Decimal]  # (item code, lot)


@dataclass
class CountsState:
    """What the database would hold: committed data only. Master data (locations, bins,
    items, users, devices, stock) is given by the test; the rest the use cases write."""

    locations: dict[str, int] = field(default_factory=dict)
    bins: dict[int, dict[str, int]] = field(default_factory=dict)  # location -> label -> id
    zones: dict[int, str] = field(default_factory=dict)  # bin id -> zone
    items: dict[str, CountItemFacts] = field(default_factory=dict)
    item_ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, UserRecord] = field(default_factory=dict)
    devices: dict[int, DeviceRecord] = field(default_factory=dict)
    stock_serials: dict[int, list[SnapshotSerial]] = field(default_factory=dict)
    stock_balances: dict[int, list[SnapshotBalance]] = field(default_factory=dict)
    gl: GlSetup = field(default_factory=GlSetup)
    tolerances: ToleranceRules = field(default_factory=ToleranceRules)  # none: approve all
    # (location, bin label) -> the number of another count in process that freezes it
    frozen_by_others: dict[tuple[str, str], str] = field(default_factory=dict)
    # written by the use cases
    counts: dict[str, CountRecord] = field(default_factory=dict)
    count_bins: dict[int, list[CountBinRecord]] = field(default_factory=dict)
    awaiting: dict[tuple[int, int], bool] = field(default_factory=dict)  # (count, bin)
    snapshots: dict[int, tuple[list[SnapshotSerial], list[SnapshotBalance]]] = field(
        default_factory=dict
    )
    bin_counts: dict[int, StoredBinCount] = field(default_factory=dict)
    recounts: list[tuple[int, int, int, str]] = field(default_factory=list)
    events: list[tuple[int, str, str, int | None]] = field(default_factory=list)
    documents: list[tuple[int, CountDocument]] = field(default_factory=list)
    postings: list[tuple[PostingResult, PostingContext]] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)

    def count(self, number: str) -> CountRecord:
        return self.counts[number]

    def event_kinds(self, number: str) -> list[str]:
        count_id = self.counts[number].id
        return [kind for c, kind, _, _ in self.events if c == count_id]


def _unfaked(owner: object, name: str) -> AttributeError:
    return AttributeError(f"{type(owner).__name__} does not fake {name}: no tested path calls it")


class _OverState:
    """A fake port over a CountsState; the port's methods no tested path calls answer
    `_unfaked`'s AttributeError."""

    def __init__(self, state: CountsState) -> None:
        self.state = state

    def __getattr__(self, name: str) -> Any:  # the protocol's other methods: see the module
        raise _unfaked(self, name)

    def _by_id(self, count_id: int) -> CountRecord:
        (found,) = [c for c in self.state.counts.values() if c.id == count_id]
        return found

    def _put(self, count: CountRecord) -> None:
        self.state.counts[count.number] = count


class FakeCounts(_OverState):
    """The CountRows port over a CountsState."""

    async def add(
        self, location_id: int, scope: CountScope, blind: bool, created_by: int, now: datetime
    ) -> int:
        count_id = len(self.state.counts) + 1
        location = next(c for c, i in self.state.locations.items() if i == location_id)
        creator = next(u.username for u in self.state.users.values() if u.id == created_by)
        here = self.state.bins.get(location_id, {})

        def in_scope(label: str, bin_id: int) -> bool:
            if scope.kind == "bins":
                return label in scope.bins
            if scope.kind == "prefix":
                return label.startswith(scope.spec)
            if scope.kind == "zone":
                return self.state.zones.get(bin_id) == scope.spec
            return True

        self.state.count_bins[count_id] = [
            CountBinRecord(bin_id, label, None, None, None)
            for label, bin_id in sorted(here.items())
            if in_scope(label, bin_id)
        ]
        for b in self.state.count_bins[count_id]:
            self.state.awaiting[(count_id, b.bin_id)] = True
        self._put(
            CountRecord(
                count_id, f"SC-{count_id}", location_id, location, scope.kind, scope.spec,
                blind, CountStatus.OPEN, 1, None, creator, now, None, None, None, None,
            )
        )  # fmt: skip
        return count_id

    async def assign(
        self, count_id: int, assignments: Sequence[tuple[int, int | None, int | None]]
    ) -> None:
        names = {u.id: u.username for u in self.state.users.values()}
        by_bin = {bin_id: (device, counter) for bin_id, device, counter in assignments}
        self.state.count_bins[count_id] = [
            replace(b, device_id=by_bin[b.bin_id][0], counter=names.get(by_bin[b.bin_id][1] or 0))
            if b.bin_id in by_bin
            else b
            for b in self.state.count_bins[count_id]
        ]

    async def get(self, number: str) -> CountRecord | None:
        return self.state.counts.get(number)

    async def get_by_id(self, count_id: int) -> CountRecord:
        return self._by_id(count_id)

    async def bins(
        self,
        count_id: int,
        labels: Collection[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        decided: bool = False,
    ) -> Sequence[CountBinRecord]:
        found = sorted(
            (
                b
                for b in self.state.count_bins[count_id]
                if (labels is None or b.label in labels)
                and (
                    not decided
                    or b.picked_bin_count_id is not None
                    or b.recount_ordered_at is not None
                )
            ),
            key=lambda b: b.label,
        )
        return found[offset : None if limit is None else offset + limit]

    async def claim(
        self,
        number: str,
        allowed: Collection[CountStatus],
        status: CountStatus | None,
        now: datetime,
        user_id: int | None = None,
        bump_version: bool = True,
    ) -> int | None:
        count = self.state.counts.get(number)
        if count is None or count.status not in allowed:
            return None
        changed = replace(count, version=count.version + (1 if bump_version else 0))
        if status is not None:
            changed = replace(changed, status=status)
            if status in _STAMPED and status not in allowed:
                changed = _STAMPED[status](changed, now)
        self._put(changed)
        return changed.version

    async def add_event(
        self, count_id: int, kind: str, detail: str, user_id: int | None, now: datetime
    ) -> None:
        self.state.events.append((count_id, kind, detail, user_id))


class FakeSnapshots(_OverState):
    """The Snapshots port over a CountsState."""

    async def take_snapshot(self, count_id: int, location_id: int, token: str) -> None:
        scope = {b.label for b in self.state.count_bins[count_id]}
        serials = [s for s in self.state.stock_serials.get(location_id, []) if s.bin in scope]
        balances = [b for b in self.state.stock_balances.get(location_id, []) if b.bin in scope]
        self.state.snapshots[count_id] = (serials, balances)
        self._put(replace(self._by_id(count_id), snapshot_token=token))

    async def load_snapshot(self, count: CountRecord) -> Snapshot:
        """Without its serials, as the SQL one: serial_differences matches those."""
        serials, balances = self.state.snapshots[count.id]
        codes = {s.item for s in serials} | {b.item for b in balances}
        return Snapshot(
            location=count.location,
            scope=frozenset(b.label for b in self.state.count_bins[count.id]),
            bin_kinds={label: BinKind.STOCK for label in self.state.bins[count.location_id]},
            items={c: self.state.items[c] for c in codes},
            balances=balances,
        )

    async def serial_differences(
        self,
        count: CountRecord,
        bin_count_ids: Collection[int],
        held: dict[tuple[str, str], int] | None = None,
    ) -> list[SerialDifference]:
        """Serials the chosen bin counts do not hold exactly once, in their system bin;
        into `held` the snapshot's serials of the pairs the SQL one counts (the missing
        serial's snapshot bin, the bins it was scanned in away from it)."""
        system = {(s.item, s.serial): s for s in self.state.snapshots[count.id][0]}
        scanned: dict[tuple[str, str], list[str]] = {}
        counted: set[str] = set()
        for i in bin_count_ids:
            stored = self.state.bin_counts[i]
            counted.add(stored.header.bin)
            for key in stored.serials:
                scanned.setdefault(key, []).append(stored.header.bin)
        keys = set(scanned) | {k for k, s in system.items() if s.bin in counted}
        found = []
        for key in sorted(keys):
            row, where = system.get(key), tuple(scanned.get(key, ()))
            if row is None or where != (row.bin,):
                found.append(SerialDifference(key[0], key[1], row, where))
                if held is not None:
                    of_pair = Counter((s.item, s.bin) for s in system.values())
                    bins = [b for b in where if row is None or b != row.bin]
                    if row is not None and row.bin in counted and row.bin not in where:
                        bins.append(row.bin)
                    held.update(((key[0], b), of_pair[(key[0], b)]) for b in bins)
        return found

    async def snapshot_quantities(
        self, count: CountRecord, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        held = Counter((s.item, s.bin) for s in self.state.snapshots[count.id][0])
        return {pair: held[pair] for pair in pairs if held[pair]}

    async def serial_facts(
        self, location_id: int, keys: Collection[tuple[str, str]]
    ) -> tuple[list[SnapshotSerial], set[tuple[str, str]]]:
        stock = self.state.stock_serials.get(location_id, [])
        return [s for s in stock if (s.item, s.serial) in keys], set()

    async def item_facts(
        self, location_id: int, codes: Collection[str], *, costs: bool = True
    ) -> dict[str, CountItemFacts]:
        return {c: self.state.items[c] for c in codes if c in self.state.items}

    async def item_facts_and_ids(
        self, location_id: int, codes: Collection[str]
    ) -> tuple[dict[str, CountItemFacts], dict[str, int]]:
        facts = await self.item_facts(location_id, codes, costs=False)
        return facts, {c: self.state.item_ids[c] for c in codes if c in self.state.item_ids}


class FakeBinCounts(_OverState):
    """The BinCounts port over a CountsState."""

    async def bin_count_headers(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> Sequence[BinCountHeader]:
        labels = None
        if bin_ids is not None:
            labels = {b.label for b in self.state.count_bins[count_id] if b.bin_id in bin_ids}
        return [
            s.header
            for s in self.state.bin_counts.values()
            if s.count_id == count_id and (labels is None or s.header.bin in labels)
        ]

    async def bin_count_lines(
        self, ids: Collection[int], serials: bool = True
    ) -> dict[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]]:
        return {
            i: (self.state.bin_counts[i].serials if serials else frozenset(),
                dict(self.state.bin_counts[i].quantities))
            for i in ids
        }  # fmt: skip

    async def add_bin_count(self, new: NewBinCount, now: datetime) -> tuple[int, bool]:
        codes = {i: c for c, i in self.state.item_ids.items()}
        bin_count_id = len(self.state.bin_counts) + 1
        place = next(b for b in self.state.count_bins[new.count_id] if b.bin_id == new.bin_id)
        self.state.bin_counts[bin_count_id] = StoredBinCount(
            new.count_id,
            BinCountHeader(
                bin_count_id,
                place.label,
                new.counter,
                new.device_id,
                new.started_at,
                new.finished_at,
            ),
            frozenset((codes[i], s) for i, s in new.serials),
            {(codes[i], lot): q for (i, lot), q in new.quantities.items()},
        )
        # As the SQL: the bin stands unless a recount ordered after this count's start
        # waits for another; a new count drops the supervisor's pick.
        ordered = place.recount_ordered_at
        if ordered is None or ordered <= new.started_at:
            self.state.awaiting[(new.count_id, new.bin_id)] = False
        self.state.count_bins[new.count_id] = [
            replace(b, picked_bin_count_id=None) if b.bin_id == new.bin_id else b
            for b in self.state.count_bins[new.count_id]
        ]
        waiting = any(w for (c, _), w in self.state.awaiting.items() if c == new.count_id)
        return bin_count_id, waiting

    async def awaiting(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> dict[int, datetime | None]:
        ordered = {b.bin_id: b.recount_ordered_at for b in self.state.count_bins[count_id]}
        found = {
            b: ordered.get(b)
            for (c, b), waits in self.state.awaiting.items()
            if c == count_id and waits
        }
        if bin_ids is None:
            return found
        others = [b for b in found if b not in bin_ids][:1]
        return {b: at for b, at in found.items() if b in bin_ids or b in others}

    async def add_bin_counts(self, new: Sequence[NewBinCount], now: datetime) -> list[int]:
        return [(await self.add_bin_count(n, now))[0] for n in new]

    async def together(self, work: Callable[[], Awaitable[T]]) -> T:
        return await work()

    async def add_recounts(
        self, count_id: int, bin_ids: Collection[int], user_id: int, reason: str, now: datetime
    ) -> None:
        for bin_id in sorted(bin_ids):
            self.state.recounts.append((count_id, bin_id, user_id, reason))
            self.state.awaiting[(count_id, bin_id)] = True
        self.state.count_bins[count_id] = [
            replace(b, recount_ordered_at=now) if b.bin_id in bin_ids else b
            for b in self.state.count_bins[count_id]
        ]

    async def pick(self, count_id: int, bin_id: int, bin_count_id: int) -> None:
        self.state.count_bins[count_id] = [
            replace(b, picked_bin_count_id=bin_count_id) if b.bin_id == bin_id else b
            for b in self.state.count_bins[count_id]
        ]


class FakeReviews(_OverState):
    """The Reviews port over a CountsState."""

    async def review(self, count_id: int) -> Review:
        return Review()

    async def tolerances(self, location_id: int) -> ToleranceRules:
        return self.state.tolerances

    async def item_labels(self, codes: Collection[str]) -> dict[str, tuple[str, str]]:
        return {c: (c, self.state.items[c].tracking.value) for c in codes if c in self.state.items}


class FakeCountDocuments(_OverState):
    """The CountDocuments port over a CountsState."""

    async def gl_setup(self, location_id: int, item_codes: Collection[str]) -> GlSetup:
        return self.state.gl

    async def positions(
        self, location_id: int, location: str, item_codes: Collection[str]
    ) -> dict[PositionKey, Position]:
        return {}

    async def taken_serial_numbers(
        self, item_codes: Collection[str], prefix: str
    ) -> set[tuple[str, str]]:
        return set()

    async def add_documents(
        self, count: CountRecord, user_id: int, documents: Sequence[CountDocument], ids: PostingIds
    ) -> dict[str, int]:
        made = {}
        for d in documents:
            self.state.documents.append((count.id, d))
            made[d.kind] = len(self.state.documents)
        return made


class FakeCodes(_OverState):
    async def location_id(self, code: str) -> int | None:
        return self.state.locations.get(code)


class FakeMasterData(_OverState):
    """The MasterDataRepository's item lookup over a CountsState."""

    async def items_by_code(self, codes: Collection[str]) -> dict[str, tuple[int, Tracking]]:
        return {
            c: (self.state.item_ids[c], self.state.items[c].tracking)
            for c in codes
            if c in self.state.item_ids
        }


class FakeUsers(_OverState):
    async def by_username(self, username: str) -> UserRecord | None:
        return self.state.users.get(username)


class FakeDevices(_OverState):
    async def by_id(self, device_id: int) -> DeviceRecord | None:
        return self.state.devices.get(device_id)


class FakeAudit(_OverState):
    async def record(self, entry: AuditEntry) -> None:
        self.state.audit.append(entry)


class FakeCountsUnitOfWork(FakeTransaction[CountsState]):
    """A CountsUnitOfWork whose transaction works on a copy of the state and keeps it
    only at commit; its `reconciliations` is the runtime's real cache, not part of the
    transaction."""

    def __init__(
        self, state: CountsState, reconciliations: ReconciliationCache[Any] | None = None
    ) -> None:
        super().__init__(state)
        self._cache = ReconciliationCache[Any]() if reconciliations is None else reconciliations

    @property
    def counts(self) -> FakeCounts:
        return FakeCounts(self.state)

    @property
    def snapshots(self) -> FakeSnapshots:
        return FakeSnapshots(self.state)

    @property
    def bin_counts(self) -> FakeBinCounts:
        return FakeBinCounts(self.state)

    @property
    def reviews(self) -> FakeReviews:
        return FakeReviews(self.state)

    @property
    def count_documents(self) -> FakeCountDocuments:
        return FakeCountDocuments(self.state)

    @property
    def reconciliations(self) -> ReconciliationCache[Any]:
        return self._cache

    @property
    def postings(self) -> FakePostings:
        """Bins frozen by other counts as the state says; what is applied is kept there."""
        return FakePostings(frozen=self.state.frozen_by_others, applied=self.state.postings)

    @property
    def codes(self) -> FakeCodes:
        return FakeCodes(self.state)

    @property
    def masterdata(self) -> FakeMasterData:
        return FakeMasterData(self.state)

    @property
    def users(self) -> FakeUsers:
        return FakeUsers(self.state)

    @property
    def devices(self) -> FakeDevices:
        return FakeDevices(self.state)

    @property
    def audit(self) -> FakeAudit:
        return FakeAudit(self.state)
