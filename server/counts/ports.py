"""What the stock count use cases need from persistence (`server.counts.sql`, and
`server.db.posting` for the posting writer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from server.auth.ports import DeviceRepository, UserRepository
from server.domain.counting import (
    CountDocument,
    CountItemFacts,
    CountStatus,
    GlSetup,
    ReasonCode,
    Review,
    Snapshot,
    SnapshotSerial,
    ToleranceRules,
)
from server.domain.posting import Position, PositionKey
from server.masterdata.ports import MasterDataRepository
from server.ports import AuditTrail, CodeLookup, PostingIds, PostingPort, Transaction

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CountRecord:
    id: int
    number: str
    location_id: int
    location: str
    scope_kind: str  # bins, prefix, zone, all
    scope_spec: str
    blind: bool
    status: CountStatus
    version: int
    snapshot_token: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    counted_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class CountScope:
    """Which bins of its location a count takes: `kind` bins (the `bins` listed), prefix
    or zone (named by `spec`), or all."""

    kind: str  # bins, prefix, zone, all
    spec: str = ""
    bins: Collection[str] = ()


@dataclass(frozen=True, slots=True)
class CountBinRecord:
    bin_id: int
    label: str
    device_id: int | None
    counter: str | None
    picked_bin_count_id: int | None
    recount_ordered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BinCountHeader:
    """A bin count without its contents. `counter` is who counted as reconciliation names
    them (a username, or "device:<id>"); `counter_name` the person when one is known and
    `device_name` the device's name, for people to read."""

    id: int
    bin: str
    counter: str
    device_id: int | None
    started_at: datetime
    finished_at: datetime
    counter_name: str | None = None
    device_name: str | None = None


class SerialsById(Collection[tuple[int, str]]):
    """A bin count's (item code, serial number) pairs seen as (item id, serial number)
    through `ids` (code -> id), made when iterated: a lot of bin counts holds tens of
    thousands, and an adapter that writes them as rows of its own (`rows`) makes each row
    once, in C, instead of a pair and then a row."""

    __slots__ = ("by_code", "ids")

    def __init__(self, by_code: Collection[tuple[str, str]], ids: Mapping[str, int]) -> None:
        self.by_code = by_code
        self.ids = ids

    def __iter__(self) -> Iterator[tuple[int, str]]:
        by_code = self.by_code
        return zip(
            map(self.ids.__getitem__, map(_first, by_code)), map(_second, by_code), strict=True
        )

    def __len__(self) -> int:
        return len(self.by_code)

    def __contains__(self, pair: object) -> bool:
        return any(pair == p for p in self)

    def rows(self, bin_count_id: int) -> Iterator[tuple[int, int, str]]:
        """(bin count id, item id, serial number) of each serial."""
        by_code = self.by_code
        return zip(
            repeat(bin_count_id),
            map(self.ids.__getitem__, map(_first, by_code)),
            map(_second, by_code),
        )


_first, _second = itemgetter(0), itemgetter(1)


@dataclass(frozen=True, slots=True)
class NewBinCount:
    """A checked bin count as it is stored: its count, bin, counter and device by id (the
    counter as reconciliation names them), its lines by item id."""

    count_id: int
    bin_id: int
    counter_id: int | None
    device_id: int | None
    counter: str
    started_at: datetime
    finished_at: datetime
    serials: Collection[tuple[int, str]]  # (item id, serial number)
    quantities: Mapping[tuple[int, str], Decimal]  # (item id, lot) -> quantity


@dataclass(frozen=True, slots=True)
class CountEventRecord:
    at: datetime
    kind: str
    detail: str
    user: str | None


@dataclass(frozen=True, slots=True)
class SerialDifference:
    """A serial that the effective bin counts do not hold exactly once, in its system bin:
    expected in a counted bin and not scanned there, scanned where the snapshot does not
    have it, or scanned in two bins. `system` is its snapshot row (None: not in the
    snapshot); `scanned_in` the bins of the effective bin counts that hold it."""

    item: str
    serial: str
    system: SnapshotSerial | None
    scanned_in: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LineReview:
    """The decision stored on one line: cleared or not, approved (by whom, why) or not."""

    line_id: str
    cleared: bool
    approved_by: str | None
    reason_code: str | None


class CountRows(Protocol):
    """A count's own row, its scope and its events (server.counts.sql.counts.SqlCounts):
    what every count use case reads, claims and logs."""

    async def add(
        self, location_id: int, scope: CountScope, blind: bool, created_by: int, now: datetime
    ) -> int:
        """A new count of the location's bins in `scope`, Open; its id."""
        ...

    async def assign(
        self, count_id: int, assignments: Sequence[tuple[int, int | None, int | None]]
    ) -> None: ...
    async def get(self, number: str) -> CountRecord | None: ...
    async def get_by_id(self, count_id: int) -> CountRecord: ...
    async def page(
        self, after: int, limit: int, location: str | None, status: str | None
    ) -> Sequence[CountRecord]: ...
    async def bins(
        self,
        count_id: int,
        labels: Collection[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        decided: bool = False,
    ) -> Sequence[CountBinRecord]:
        """The count's bins by label; only those of `labels` when given; `limit` of them
        from `offset` when given; with `decided`, only those with a picked bin count or a
        recount order (what decides which bin count stands)."""
        ...

    async def claim(
        self,
        number: str,
        allowed: Collection[CountStatus],
        status: CountStatus | None,
        now: datetime,
        user_id: int | None = None,
        bump_version: bool = True,
    ) -> int | None:
        """The count's version after the claim, None when it was in no allowed status."""
        ...

    async def add_event(
        self, count_id: int, kind: str, detail: str, user_id: int | None, now: datetime
    ) -> None: ...
    async def events(self, count_id: int) -> Sequence[CountEventRecord]: ...


class Snapshots(Protocol):
    """The count's snapshot, taken set-based at start, and the live facts reconciliation
    and a bin count's check read beside it (server.counts.sql.snapshot.SqlSnapshots)."""

    async def take_snapshot(self, count_id: int, location_id: int, token: str) -> None: ...
    async def expected_by_bin(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> dict[str, Decimal]:
        """System quantity per bin label in the snapshot; only these bins when given."""
        ...

    async def load_snapshot(self, count: CountRecord) -> Snapshot: ...
    async def serial_differences(
        self,
        count: CountRecord,
        bin_count_ids: Collection[int],
        held: dict[tuple[str, str], int] | None = None,
    ) -> list[SerialDifference]: ...
    async def snapshot_quantities(
        self, count: CountRecord, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]: ...
    async def serial_facts(
        self, location_id: int, keys: Collection[tuple[str, str]]
    ) -> tuple[list[SnapshotSerial], set[tuple[str, str]]]: ...
    async def item_facts(
        self, location_id: int, codes: Collection[str], *, costs: bool = True
    ) -> dict[str, CountItemFacts]:
        """`costs` False: tracking only, average costs left at zero (checking a bin count
        needs no cost, and a serialized item's average sums its serials)."""
        ...

    async def item_facts_and_ids(
        self, location_id: int, codes: Collection[str]
    ) -> tuple[dict[str, CountItemFacts], dict[str, int]]:
        """`item_facts(..., costs=False)` and the items' ids by code, in one read."""
        ...


class BinCounts(Protocol):
    """Bin counts and their lines, recount orders, conflict picks
    (server.counts.sql.bincounts.SqlBinCounts)."""

    async def bin_count_headers(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> Sequence[BinCountHeader]:
        """The count's bin counts by id order; only those of these bins when given."""
        ...

    async def bin_count_lines(
        self, ids: Collection[int], serials: bool = True
    ) -> dict[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]]: ...
    async def add_bin_count(self, new: NewBinCount, now: datetime) -> tuple[int, bool]:
        """The bin count's id, and whether a bin of the count still waits for a count
        (none yet, or none since its recount order)."""
        ...

    async def awaiting(
        self, count_id: int, bin_ids: Collection[int] | None = None
    ) -> dict[int, datetime | None]:
        """The bins (by id) that await a count, with the time of their recount order;
        `bin_ids` given: those of them that await, and one other that awaits when any does."""
        ...

    async def add_bin_counts(self, new: Sequence[NewBinCount], now: datetime) -> list[int]:
        """`add_bin_count` of each in order, set-based: their ids, in that order."""
        ...

    async def together(self, work: Callable[[], Awaitable[T]]) -> T:
        """`await work()`, whose awaits are this transaction's statements only: an adapter
        may send them to the database together (SQLite: one hand-over to its thread)."""
        ...

    async def add_recounts(
        self, count_id: int, bin_ids: Collection[int], user_id: int, reason: str, now: datetime
    ) -> None: ...
    async def pick(self, count_id: int, bin_id: int, bin_count_id: int) -> None: ...


class Reviews(Protocol):
    """The supervisor's review: decisions per line, tolerances per location, the reason
    codes to approve with, the names of the lines' items (server.counts.sql.review.SqlReviews;
    the reason codes are the master data's list, server.db.reasons)."""

    async def review(self, count_id: int) -> Review: ...
    async def set_reviews(
        self, count_id: int, decisions: Sequence[LineReview], user_id: int, now: datetime
    ) -> None: ...
    async def tolerances(self, location_id: int) -> ToleranceRules: ...
    async def set_tolerances(
        self, location_id: int, rules: ToleranceRules, user_id: int, now: datetime
    ) -> None: ...
    async def reason_codes(self, codes: Collection[str] | None = None) -> dict[str, ReasonCode]: ...
    async def item_labels(self, codes: Collection[str]) -> dict[str, tuple[str, str]]: ...


class CountDocuments(Protocol):
    """What finalize reads besides the reconciliation (GL setup, positions, serial numbers
    in use), the documents it writes, and the documents read back
    (server.counts.sql.documents.SqlCountDocuments)."""

    async def gl_setup(self, location_id: int, item_codes: Collection[str]) -> GlSetup: ...
    async def positions(
        self, location_id: int, location: str, item_codes: Collection[str]
    ) -> dict[PositionKey, Position]: ...
    async def taken_serial_numbers(
        self, item_codes: Collection[str], prefix: str
    ) -> set[tuple[str, str]]: ...
    async def add_documents(
        self, count: CountRecord, user_id: int, documents: Sequence[CountDocument], ids: PostingIds
    ) -> dict[str, int]:
        """The documents' ids by kind; `ids` resolved their codes (PostingPort.resolve)."""
        ...

    async def documents(self, count_id: int) -> Sequence[CountDocument]: ...
    async def document(self, kind: str, number: str) -> CountDocument | None: ...


class SnapshotCache(Protocol):
    """The process's cache of counts' snapshots and reconciliations by snapshot token
    (server.counts.usecases.cache; one per process, made by server.bootstrap). Its
    entries are the reconciliation use cases' own, hence Any here."""

    def get(self, token: str) -> Any: ...
    def put(self, token: str, entry: Any) -> None: ...
    def clear(self) -> None: ...


# -- units of work: each use case names the narrowest that has what it reads and writes --


class CountsTransaction(Transaction, Protocol):
    """Reading, listing, cancelling a count; every other unit of work has this too."""

    @property
    def counts(self) -> CountRows: ...
    @property
    def audit(self) -> AuditTrail: ...


class CreateCountUnitOfWork(CountsTransaction, Protocol):
    """Creating a count: its location, and the counters and devices assigned to bins."""

    @property
    def codes(self) -> CodeLookup: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def devices(self) -> DeviceRepository: ...


class CountingUnitOfWork(CountsTransaction, Protocol):
    """The count with its snapshot and its bin counts: starting, showing, ordering a
    recount, picking a bin count, and which bin counts stand."""

    @property
    def snapshots(self) -> Snapshots: ...
    @property
    def bin_counts(self) -> BinCounts: ...


class ReconcilingUnitOfWork(CountingUnitOfWork, Protocol):
    """Whatever reads the reconciliation: through the process's cache."""

    @property
    def reconciliations(self) -> SnapshotCache: ...


class RecordBinCountUnitOfWork(CountingUnitOfWork, Protocol):
    """Recording a bin count (from the API, or from a device's closed bin through sync):
    the items' ids to store its lines by."""

    @property
    def masterdata(self) -> MasterDataRepository: ...


class TolerancesUnitOfWork(Transaction, Protocol):
    @property
    def codes(self) -> CodeLookup: ...
    @property
    def reviews(self) -> Reviews: ...


class ReviewUnitOfWork(ReconcilingUnitOfWork, Protocol):
    """The review of a count's lines and the decisions on them."""

    @property
    def reviews(self) -> Reviews: ...


class DocumentsUnitOfWork(CountsTransaction, Protocol):
    """A count's documents, read back."""

    @property
    def count_documents(self) -> CountDocuments: ...


class FinalizeUnitOfWork(ReviewUnitOfWork, DocumentsUnitOfWork, Protocol):
    """The preview and finalize: the review, the documents' facts, the posting writer."""

    @property
    def postings(self) -> PostingPort: ...


class CountsUnitOfWork(
    FinalizeUnitOfWork, RecordBinCountUnitOfWork, CreateCountUnitOfWork, Protocol
):
    """Every port of the counts feature (server.uow.SqlUnitOfWork has them all)."""


# -- unknown barcodes: kept for the supervisor, never counted ------------------------------


@dataclass(frozen=True, slots=True)
class NewUnknownBarcode:
    """A device's scan that matched nothing, as a push stores it."""

    count: str  # the count's number
    device_id: int
    install_id: str
    seq: int
    bin: str
    counter: str
    raw: str
    symbology: str
    problem: str  # "unknown" or "malformed"
    message: str
    scanned_at: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True)
class UnknownBarcodeRecord:
    id: int
    device_id: int
    device_name: str
    seq: int
    bin: str
    counter: str
    raw: str
    symbology: str
    problem: str
    message: str
    scanned_at: datetime
    received_at: datetime


class UnknownBarcodes(Protocol):
    async def add(self, rows: Sequence[NewUnknownBarcode]) -> None: ...
    async def page(
        self, number: str, after: int, limit: int
    ) -> list[UnknownBarcodeRecord] | None: ...  # None: no such count
