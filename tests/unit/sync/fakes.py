"""In-memory fakes of the sync ports (server/sync/ports.py), for the use cases' unit
tests: no database, no framework. A FakeSyncUnitOfWork keeps what a transaction changed
only when it commits, as the SQL unit of work does."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from server.counts.ports import NewUnknownBarcode, UnknownBarcodeRecord
from server.domain.sync import (
    CounterFacts,
    CounterRef,
    CountFacts,
    DeviceSettings,
    RefCount,
    RefRecount,
)
from server.sync.ports import (
    InstallMarks,
    InstallSeen,
    InstallStatus,
    NewEvents,
    RefBin,
    RefItem,
    RefRecord,
    StoredEvent,
)
from tests.unit.fakes import FakeTransaction


@dataclass
class SyncState:
    """What the database would hold: committed data only."""

    epoch: str = field(default_factory=lambda: uuid.uuid4().hex)
    marks: dict[tuple[int, str], int] = field(default_factory=dict)
    installs: dict[tuple[int, str], InstallSeen] = field(default_factory=dict)
    events: dict[tuple[int, str, int], StoredEvent] = field(default_factory=dict)
    bin_count_sources: dict[tuple[int, str, int], int] = field(default_factory=dict)
    scopes: dict[int, int] = field(default_factory=dict)
    pulled: dict[int, int] = field(default_factory=dict)  # each device's last cursor
    refs: dict[tuple[int, str, str], RefRecord] = field(default_factory=dict)
    facts: dict[str, CountFacts] = field(default_factory=dict)  # every bin of each count
    ref_counts: list[RefCount] = field(default_factory=list)
    ref_bins: list[RefBin] = field(default_factory=list)
    ref_items: list[RefItem] = field(default_factory=list)
    ref_recounts: list[RefRecount] = field(default_factory=list)
    touched: dict[int, datetime] = field(default_factory=dict)
    counters: dict[str, CounterFacts] = field(default_factory=dict)
    site_counters: list[CounterRef] = field(default_factory=list)
    settings: dict[int, DeviceSettings] = field(default_factory=dict)
    unknown_barcodes: list[NewUnknownBarcode] = field(default_factory=list)


class FakeSync:
    """The SyncRepository over a SyncState."""

    def __init__(self, state: SyncState) -> None:
        self.state = state

    async def epoch(self) -> str:
        return self.state.epoch

    async def renew_epoch(self) -> str:
        self.state.epoch = uuid.uuid4().hex
        return self.state.epoch

    async def lock_installs(self, installs: Sequence[InstallSeen]) -> InstallMarks:
        for i in installs:
            key = (i.device_id, i.install_id)
            self.state.installs[key] = i
            self.state.marks.setdefault(key, 0)
        keys = {(i.device_id, i.install_id) for i in installs}
        return InstallMarks({k: self.state.marks[k] for k in keys}, self.state.epoch)

    async def set_high_waters(self, marks: Mapping[tuple[int, str], int]) -> None:
        self.state.marks.update(marks)

    async def touch_devices(self, device_ids: Collection[int], now: datetime) -> None:
        for device_id in device_ids:
            self.state.touched[device_id] = now

    async def stored(
        self, device_id: int, install_id: str, seqs: Collection[int]
    ) -> dict[int, StoredEvent]:
        events = self.state.events
        return {
            s: events[(device_id, install_id, s)]
            for s in seqs
            if (device_id, install_id, s) in events
        }

    async def insert_events(self, pushes: Sequence[NewEvents]) -> None:
        for push in pushes:
            for e, (outcome, reason, detail) in zip(push.events, push.verdicts, strict=True):
                key = (push.device_id, push.install_id, e.seq)
                if key in self.state.events:
                    raise AssertionError(f"event {key} stored twice")
                self.state.events[key] = StoredEvent(
                    len(self.state.events) + 1,
                    push.device_id,
                    push.install_id,
                    e.seq,
                    e.kind,
                    e.count_number,
                    e.bin_seq,
                    e.body,
                    e.device_time,
                    push.received_at,
                    outcome,
                    reason,
                    detail,
                )

    async def bin_events(
        self, device_id: int, install_id: str, bin_seqs: Collection[int]
    ) -> list[StoredEvent]:
        return sorted(
            (
                e
                for (d, i, _), e in self.state.events.items()
                if d == device_id and i == install_id and e.bin_seq in bin_seqs
            ),
            key=lambda e: e.seq,
        )

    async def bin_count_source(self, device_id: int, install_id: str, bin_seq: int) -> bool:
        return (device_id, install_id, bin_seq) in self.state.bin_count_sources

    async def add_bin_count_source(
        self, device_id: int, install_id: str, bin_seq: int, bin_count_id: int
    ) -> None:
        self.state.bin_count_sources[(device_id, install_id, bin_seq)] = bin_count_id

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        saved = copy.deepcopy(self.state)
        try:
            yield self
        except BaseException:
            self.state.__dict__.update(saved.__dict__)
            raise

    async def installs(self, location_id: int | None) -> list[InstallStatus]:
        return [
            InstallStatus(
                d,
                f"hh-{d}",
                "MAIN",
                "active",
                i,
                s.seen_at,
                self.state.marks[(d, i)],
                s.queue_depth,
                s.app_version,
                s.clock_skew_ms,
            )
            for (d, i), s in sorted(self.state.installs.items())
        ]

    async def rejected(
        self, after: int, limit: int, device_id: int | None, count: str | None
    ) -> list[StoredEvent]:
        found = [
            e
            for e in sorted(self.state.events.values(), key=lambda e: e.id)
            if e.outcome == "rejected"
            and e.id > after
            and device_id in (None, e.device_id)
            and count in (None, e.count_number)
        ]
        return found[:limit]

    async def lock_scope(self, location_id: int) -> int:
        return self.state.scopes.setdefault(location_id, 0)

    async def pulled_mark(self, device_id: int) -> int:
        return self.state.pulled.get(device_id, 0)

    async def set_pulled_mark(self, device_id: int, change_seq: int) -> None:
        self.state.pulled[device_id] = change_seq

    async def set_scope(self, location_id: int, change_seq: int) -> None:
        self.state.scopes[location_id] = change_seq

    async def ref_digests(self, location_id: int) -> dict[tuple[str, str], str]:
        return {
            (k, key): r.digest for (loc, k, key), r in self.state.refs.items() if loc == location_id
        }

    async def upsert_refs(self, location_id: int, rows: Sequence[RefRecord]) -> None:
        for r in rows:
            self.state.refs[(location_id, r.kind, r.ref_key)] = r

    async def ref_page(self, location_id: int, after: int, limit: int) -> list[RefRecord]:
        rows = [r for (loc, _, _), r in self.state.refs.items() if loc == location_id]
        return sorted((r for r in rows if r.change_seq > after), key=lambda r: r.change_seq)[:limit]

    async def ref_bins(self, location_id: int) -> list[RefBin]:
        return list(self.state.ref_bins)

    async def ref_items(self) -> list[RefItem]:
        return list(self.state.ref_items)

    async def counters(self, usernames: Collection[str]) -> dict[str, CounterFacts]:
        return {n: f for n, f in self.state.counters.items() if n in usernames}

    async def site_counters(self, location_id: int) -> list[CounterRef]:
        return list(self.state.site_counters)

    async def device_settings(self, location_id: int) -> DeviceSettings:
        return self.state.settings.get(location_id, DeviceSettings())

    async def set_device_settings(
        self, location_id: int, settings: DeviceSettings, by: int | None, now: datetime
    ) -> None:
        self.state.settings[location_id] = settings


class FakeUnknownBarcodes:
    def __init__(self, state: SyncState) -> None:
        self.state = state

    async def add(self, rows: Sequence[NewUnknownBarcode]) -> None:
        self.state.unknown_barcodes.extend(rows)

    async def page(self, number: str, after: int, limit: int) -> list[UnknownBarcodeRecord] | None:
        raise NotImplementedError  # the counts' use case, tested on both databases


class FakeCountsForSync:
    """The CountsForSync port over a SyncState."""

    def __init__(self, state: SyncState) -> None:
        self.state = state

    async def count_facts(
        self, numbers: Collection[str], bins: Collection[str]
    ) -> dict[str, CountFacts]:
        return {
            n: CountFacts(f.number, f.location_id, f.status, f.bins & frozenset(bins))
            for n, f in self.state.facts.items()
            if n in numbers
        }

    async def ref_counts(self, location_id: int) -> list[RefCount]:
        return list(self.state.ref_counts)

    async def ref_recounts(self, location_id: int) -> list[RefRecount]:
        return list(self.state.ref_recounts)


class FakeSyncUnitOfWork(FakeTransaction[SyncState]):
    """A SyncUnitOfWork whose transaction works on a copy of the state and keeps it only
    at commit. The counts' repositories are not faked: a test that closes a bin replaces
    `counts.record_bin_count` (the counts feature's use case) with its own."""

    @property
    def sync(self) -> FakeSync:
        return FakeSync(self.state)

    @property
    def sync_counts(self) -> FakeCountsForSync:
        return FakeCountsForSync(self.state)

    @property
    def unknown_barcodes(self) -> FakeUnknownBarcodes:
        return FakeUnknownBarcodes(self.state)
