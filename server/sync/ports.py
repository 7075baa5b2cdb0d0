"""What the sync use cases need from persistence. `server.sync.sql` implements it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from server.counts.ports import RecordBinCountUnitOfWork, UnknownBarcodes
from server.domain.auth import Caller
from server.domain.sync import (
    CounterFacts,
    CounterRef,
    CountFacts,
    DeviceSettings,
    PushBatch,
    PushResult,
    RefCount,
    RefRecount,
    SyncEvent,
)
from server.ports import CodeLookup

# What the transaction decided for an event: outcome, reason, detail (at most 500 chars).
EventVerdict = tuple[str, str, str]


class NewEvents(NamedTuple):
    """The events of one push to store, in seq order, and what the server decided for
    each; `received_at` is the push's. One object a push, not one an event: ingest stores
    tens of thousands of events a second. `bound`, when given, holds each event's whole
    row as the repository's EventBinder made it, for events that are all applied."""

    device_id: int
    install_id: str
    events: Sequence[SyncEvent]
    received_at: datetime
    verdicts: Sequence[EventVerdict]
    bound: Sequence[tuple[Any, ...]] | None = None


# Each event's whole `sync_event` row as the database takes it (times bound by their
# columns' types), as an applied event: made from the device, the install, the events and
# the push's time before the push waits for its transaction. The repository provides it.
EventBinder = Callable[[int, str, Sequence[SyncEvent], datetime], list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    device_id: int
    install_id: str
    seq: int
    kind: str
    count_number: str
    bin_seq: int
    body: str
    device_time: datetime
    received_at: datetime
    outcome: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class InstallSeen:
    """A device install as one push shows it: its status, written with the lock."""

    device_id: int
    install_id: str
    seen_at: datetime
    queue_depth: int
    app_version: str  # empty: keep the one stored
    clock_skew_ms: int


@dataclass(frozen=True, slots=True)
class InstallMarks:
    """What a transaction of pushes reads first, in the statement that locks their
    install rows: each install's high-water mark, and the server's epoch."""

    high_water: dict[tuple[int, str], int]  # (device_id, install_id) -> mark
    epoch: str


@dataclass(frozen=True, slots=True)
class InstallStatus:
    device_id: int
    name: str
    location: str
    device_status: str
    install_id: str | None
    last_seen_at: datetime | None
    high_water: int
    queue_depth: int
    app_version: str
    clock_skew_ms: int


# Reference data as the database holds it (the service turns these into wire records).
@dataclass(frozen=True, slots=True)
class RefBin:
    location: str
    label: str
    kind: str


@dataclass(frozen=True, slots=True)
class RefItem:
    code: str
    name: str
    tracking: str
    auto_serialized: bool
    uom: str
    barcodes: Sequence[str]
    count_mode: str = "unit"


@dataclass(frozen=True, slots=True)
class RefRecord:
    kind: str
    ref_key: str
    digest: str
    change_seq: int
    body: str


class SyncRepository(Protocol):
    # -- the epoch
    async def epoch(self) -> str: ...
    async def renew_epoch(self) -> str: ...

    # -- push
    async def lock_installs(self, installs: Sequence[InstallSeen]) -> InstallMarks: ...
    async def set_high_waters(self, marks: Mapping[tuple[int, str], int]) -> None: ...
    async def touch_devices(self, device_ids: Collection[int], now: datetime) -> None: ...
    async def stored(
        self, device_id: int, install_id: str, seqs: Collection[int]
    ) -> dict[int, StoredEvent]: ...
    async def insert_events(self, pushes: Sequence[NewEvents]) -> None: ...
    async def bin_events(
        self, device_id: int, install_id: str, bin_seqs: Collection[int]
    ) -> list[StoredEvent]: ...
    async def bin_count_source(self, device_id: int, install_id: str, bin_seq: int) -> bool: ...
    async def add_bin_count_source(
        self, device_id: int, install_id: str, bin_seq: int, bin_count_id: int
    ) -> None: ...
    def savepoint(self) -> AbstractAsyncContextManager[object]: ...

    # -- supervisors
    async def installs(self, location_id: int | None) -> list[InstallStatus]: ...
    async def rejected(
        self, after: int, limit: int, device_id: int | None, count: str | None
    ) -> list[StoredEvent]: ...

    # -- pull: the change log of a location
    async def lock_scope(self, location_id: int) -> int: ...
    async def pulled_mark(self, device_id: int) -> int: ...
    async def set_pulled_mark(self, device_id: int, change_seq: int) -> None: ...
    async def set_scope(self, location_id: int, change_seq: int) -> None: ...
    async def ref_digests(self, location_id: int) -> dict[tuple[str, str], str]: ...
    async def upsert_refs(self, location_id: int, rows: Sequence[RefRecord]) -> None: ...
    async def ref_page(self, location_id: int, after: int, limit: int) -> list[RefRecord]: ...
    async def ref_bins(self, location_id: int) -> list[RefBin]: ...
    async def ref_items(self) -> list[RefItem]: ...

    # -- counters and the site's device settings
    async def counters(self, usernames: Collection[str]) -> dict[str, CounterFacts]: ...
    async def site_counters(self, location_id: int) -> list[CounterRef]: ...
    async def device_settings(self, location_id: int) -> DeviceSettings: ...
    async def set_device_settings(
        self, location_id: int, settings: DeviceSettings, by: int | None, now: datetime
    ) -> None: ...


class CountsForSync(Protocol):
    """What sync reads of the stock counts, asked of the counts feature, whose SQL
    answers it (`server.counts.sql.for_sync`): sync's SQL never touches the counts'
    tables. Set-based, as the push and the pull need them."""

    async def count_facts(
        self, numbers: Collection[str], bins: Collection[str]
    ) -> dict[str, CountFacts]: ...
    async def ref_counts(self, location_id: int) -> list[RefCount]: ...
    async def ref_recounts(self, location_id: int) -> list[RefRecount]: ...


class SyncUnitOfWork(RecordBinCountUnitOfWork, Protocol):
    """A push records bin counts through the counts' use cases, and unknown barcodes in
    the counts' repository, in its own transaction."""

    @property
    def unknown_barcodes(self) -> UnknownBarcodes: ...
    @property
    def sync(self) -> SyncRepository: ...
    @property
    def sync_counts(self) -> CountsForSync: ...
    @property
    def codes(self) -> CodeLookup: ...


T = TypeVar("T")


class TransactionRunner(Protocol):
    """Runs a transaction's coroutine somewhere else (SQLite: a thread of its own with a
    blocking connection, `server.db.blocking.BlockingWriter`) and gives back its result
    or its exception; the units of work it uses come from the runner's side."""

    async def run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T: ...


class PushIngest(Protocol):
    """Where a device's push is written; `server.bootstrap` chooses one per process."""

    async def push(self, caller: Caller, batch: PushBatch, now: datetime) -> PushResult: ...
