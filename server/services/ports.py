"""What the use cases need from persistence. `server.db` implements these."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from server.domain.counting import (
    CountStatus,
    GlSetup,
    ItemFacts,
    QuantityAdjustment,
    ReasonCode,
    Review,
    Snapshot,
    SnapshotSerial,
    StockTransfer,
    ToleranceRules,
)
from server.domain.masterdata import Role, Tracking
from server.domain.masterdata_import import (
    BinRow,
    CompanyRow,
    GlAccountRow,
    GlEntityRow,
    InventoryGroupRow,
    ItemRow,
    LocationRow,
    ReasonCodeRow,
    Row,
)
from server.domain.posting import Position, PositionKey, PostingResult


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    role: Role
    active: bool


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    id: int
    name: str
    location_id: int
    location_code: str
    status: str
    app_version: str
    enrolled_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class EnrollmentCodeRecord:
    id: int
    location_id: int
    expires_at: datetime
    used_at: datetime | None


class UserRepository(Protocol):
    async def add(self, username: str, password_hash: str, role: Role, now: datetime) -> int: ...
    async def by_username(self, username: str) -> UserRecord | None: ...
    async def by_id(self, user_id: int) -> UserRecord | None: ...
    async def page(self, after: int, limit: int) -> Sequence[UserRecord]: ...
    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...
    async def add_token(
        self, user_id: int, token_hash: str, now: datetime, expires_at: datetime
    ) -> None: ...
    async def by_token(self, token_hash: str) -> tuple[UserRecord, datetime] | None: ...


class DeviceRepository(Protocol):
    async def add_enrollment_code(
        self, code_hash: str, location_id: int, created_by: int, now: datetime, expires_at: datetime
    ) -> None: ...
    async def claim_enrollment_code(
        self, code_hash: str, now: datetime
    ) -> EnrollmentCodeRecord | None: ...
    async def add(
        self, name: str, location_id: int, credential_hash: str, app_version: str, now: datetime
    ) -> int: ...
    async def link_enrollment_code(self, code_id: int, device_id: int) -> None: ...
    async def by_id(self, device_id: int) -> DeviceRecord | None: ...
    async def by_credential(self, credential_hash: str) -> DeviceRecord | None: ...
    async def page(
        self, after: int, limit: int, location_id: int | None
    ) -> Sequence[DeviceRecord]: ...
    async def revoke(self, device_id: int, now: datetime) -> bool: ...
    async def touch(self, device_id: int, now: datetime) -> None: ...


class CodeLookup(Protocol):
    async def location_id(self, code: str) -> int | None: ...


# (item id, serial number, bin id, actual cost) and (item id, bin id, lot, quantity):
# plain tuples, because an import writes a million of them.
NewSerial = tuple[int, str, int, Decimal]
NewBalance = tuple[int, int, str, Decimal]
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class StockBalanceRecord:
    """On hand of an item in a bin; serialized items: the count of their serials there."""

    item: str
    location: str
    bin: str
    lot: str
    quantity: Decimal
    average_cost: Decimal
    # The keyset position: (item id, bin id, lot).
    key: tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class MasterDataChangeRecord:
    """One field of an existing record that an update import changed (the change log).
    `id` is 0 until stored."""

    kind: str
    code: str
    parent_code: str
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: datetime
    import_id: str
    source: str
    id: int = 0


@dataclass(frozen=True, slots=True)
class ChangeFilters:
    kind: str | None = None
    code: str | None = None
    parent_code: str | None = None
    import_id: str | None = None
    since: datetime | None = None


class MasterDataRepository(Protocol):
    """Master data: set-based lookups and bulk writes for the importer, reads for the API.

    Lookups take the codes an import names and answer with database ids in one query per
    chunk; `add_*` insert many rows at once and answer the new ids by their keys.
    """

    async def ids_by_code(self, kind: str, codes: Collection[str]) -> dict[str, int]: ...
    async def items_by_code(self, codes: Collection[str]) -> dict[str, tuple[int, Tracking]]: ...
    async def bins_in(self, location_ids: Collection[int]) -> dict[tuple[int, str], int]: ...
    async def barcode_owners(self, barcodes: Collection[str]) -> dict[str, str]: ...
    async def serial_numbers_of(self, item_ids: Collection[int]) -> set[tuple[int, str]]: ...
    async def balance_keys_of(self, item_ids: Collection[int]) -> set[tuple[int, int, str]]: ...
    async def location_costs(
        self, item_ids: Collection[int]
    ) -> dict[tuple[int, int], tuple[Decimal, Decimal]]: ...

    async def add_companies(self, rows: Sequence[CompanyRow]) -> dict[str, int]: ...
    async def add_gl_accounts(self, rows: Sequence[GlAccountRow]) -> dict[str, int]: ...
    async def add_gl_entities(self, rows: Sequence[tuple[GlEntityRow, int]]) -> dict[str, int]: ...
    async def add_inventory_groups(
        self, rows: Sequence[tuple[InventoryGroupRow, int | None, int | None, int | None]]
    ) -> dict[str, int]: ...
    async def add_locations(
        self, rows: Sequence[tuple[LocationRow, int, int | None]]
    ) -> dict[str, int]: ...
    async def add_bins(self, rows: Sequence[tuple[BinRow, int]]) -> dict[tuple[int, str], int]: ...
    async def add_items(self, rows: Sequence[tuple[ItemRow, int | None]]) -> dict[str, int]: ...
    async def add_serials(self, rows: Iterable[NewSerial], progress: Progress | None) -> int: ...
    async def add_balances(self, rows: Sequence[NewBalance]) -> None: ...
    async def set_location_costs(self, costs: Mapping[tuple[int, int], Decimal]) -> None: ...
    # Update imports (server.services.import_updates).
    async def lock_records(self, kind: str, ids: Collection[int]) -> None: ...
    async def records_by_key(
        self, kind: str, keys: Collection[tuple[str, ...]]
    ) -> dict[tuple[str, ...], Row]: ...
    async def items_with_stock(self, item_ids: Collection[int]) -> set[int]: ...
    async def update_records(
        self, kind: str, rows: Sequence[tuple[int, Mapping[str, object]]]
    ) -> None: ...
    async def remove_barcodes(self, barcodes: Collection[str]) -> None: ...
    async def add_barcodes(self, rows: Sequence[tuple[int, str]]) -> None: ...
    async def add_changes(self, rows: Sequence[MasterDataChangeRecord]) -> None: ...
    async def change_page(
        self, after: int, limit: int, filters: ChangeFilters
    ) -> Sequence[MasterDataChangeRecord]: ...
    # The journal's master data (server.services.journal_import).
    async def cost_code_ids(self, job_codes: Collection[str]) -> dict[tuple[str, str], int]: ...
    async def add_journal_rows(self, kind: str, rows: Sequence[Mapping[str, object]]) -> None: ...
    async def add_reason_codes(self, rows: Sequence[ReasonCodeRow]) -> None: ...

    async def get(self, kind: str, key: tuple[str, ...]) -> Row | None: ...
    async def page(
        self, kind: str, after: int, limit: int, filters: Mapping[str, str]
    ) -> Sequence[tuple[int, Row]]: ...
    async def stock_page(
        self, after: tuple[int, int, str] | None, limit: int, filters: Mapping[str, str]
    ) -> Sequence[StockBalanceRecord]: ...


class Transaction(Protocol):
    """One database transaction. Leaving the block without commit() rolls back."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """The repositories of one transaction."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def devices(self) -> DeviceRepository: ...
    @property
    def codes(self) -> CodeLookup: ...
    @property
    def masterdata(self) -> MasterDataRepository: ...
    @property
    def counts(self) -> CountRepository: ...
    @property
    def postings(self) -> PostingPort: ...


# -- stock counts (server.db.counts and server.db.posting implement these) -------------


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
class DocumentLineRecord:
    line_no: int
    source_line_id: str
    item: str
    bin: str
    from_bin: str | None
    lot: str
    serial: str
    generate_serials: bool
    adjustment_quantity: Decimal
    stock_transfer_quantity: Decimal
    adjustment_cost: Decimal
    adjustment_value: Decimal
    stock_transfer_value: Decimal


@dataclass(frozen=True, slots=True)
class GlPostingRecord:
    line_no: int
    account: str
    entity: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: int
    kind: str
    number: str
    count: str
    location: str
    created_by: str
    created_at: datetime
    total_value: Decimal
    lines: tuple[DocumentLineRecord, ...]
    gl_lines: tuple[GlPostingRecord, ...]


@dataclass(frozen=True, slots=True)
class LineReview:
    """The decision stored on one line: cleared or not, approved (by whom, why) or not."""

    line_id: str
    cleared: bool
    approved_by: str | None
    reason_code: str | None


class CountRepository(Protocol):
    """Stock counts: scope, snapshot (set-based), bin counts, review, documents."""

    async def add(
        self,
        location_id: int,
        scope_kind: str,
        scope_spec: str,
        labels: Collection[str],
        blind: bool,
        created_by: int,
        now: datetime,
    ) -> int: ...
    async def assign(
        self, count_id: int, assignments: Sequence[tuple[int, int | None, int | None]]
    ) -> None: ...
    async def get(self, number: str) -> CountRecord | None: ...
    async def get_by_id(self, count_id: int) -> CountRecord: ...
    async def page(
        self, after: int, limit: int, location: str | None, status: str | None
    ) -> Sequence[CountRecord]: ...
    async def bins(
        self, count_id: int, labels: Collection[str] | None = None
    ) -> Sequence[CountBinRecord]: ...
    async def expected_by_bin(self, count_id: int) -> dict[str, Decimal]: ...
    async def claim(
        self,
        number: str,
        allowed: Collection[CountStatus],
        status: CountStatus | None,
        now: datetime,
        user_id: int | None = None,
        bump_version: bool = True,
    ) -> int | None: ...
    async def take_snapshot(self, count_id: int, location_id: int, token: str) -> None: ...
    async def load_snapshot(self, count: CountRecord) -> Snapshot: ...
    async def serial_differences(
        self, count: CountRecord, bin_count_ids: Collection[int]
    ) -> list[SerialDifference]: ...
    async def snapshot_quantities(
        self, count: CountRecord, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]: ...
    async def serial_facts(
        self, location_id: int, keys: Collection[tuple[str, str]]
    ) -> tuple[list[SnapshotSerial], set[tuple[str, str]]]: ...
    async def item_facts(
        self, location_id: int, codes: Collection[str], *, costs: bool = True
    ) -> dict[str, ItemFacts]:
        """`costs` False: tracking only, average costs left at zero (checking a bin count
        needs no cost, and a serialized item's average sums its serials)."""
        ...

    async def taken_serial_numbers(
        self, item_codes: Collection[str], prefix: str
    ) -> set[tuple[str, str]]: ...
    async def bin_count_headers(self, count_id: int) -> Sequence[BinCountHeader]: ...
    async def bin_count_lines(
        self, ids: Collection[int], serials: bool = True
    ) -> dict[int, tuple[frozenset[tuple[str, str]], dict[tuple[str, str], Decimal]]]: ...
    async def add_bin_count(
        self,
        count_id: int,
        bin_id: int,
        counter_id: int | None,
        device_id: int | None,
        counter: str,
        started_at: datetime,
        finished_at: datetime,
        now: datetime,
        serials: Collection[tuple[int, str]],
        quantities: Mapping[tuple[int, str], Decimal],
    ) -> tuple[int, bool]:
        """The bin count's id, and whether a bin of the count still waits for a count
        (none yet, or none since its recount order)."""
        ...

    async def add_recounts(
        self, count_id: int, bin_ids: Collection[int], user_id: int, reason: str, now: datetime
    ) -> None: ...
    async def pick(self, count_id: int, bin_id: int, bin_count_id: int) -> None: ...
    async def add_event(
        self, count_id: int, kind: str, detail: str, user_id: int | None, now: datetime
    ) -> None: ...
    async def events(self, count_id: int) -> Sequence[CountEventRecord]: ...
    async def item_labels(self, codes: Collection[str]) -> dict[str, tuple[str, str]]: ...
    async def review(self, count_id: int) -> Review: ...
    async def set_review(
        self,
        count_id: int,
        line_id: str,
        *,
        cleared: bool,
        approved_by: str | None,
        reason_code: str | None,
        user_id: int,
        now: datetime,
    ) -> None: ...
    async def set_reviews(
        self, count_id: int, decisions: Sequence[LineReview], user_id: int, now: datetime
    ) -> None: ...
    async def tolerances(self, location_id: int) -> ToleranceRules: ...
    async def set_tolerances(
        self, location_id: int, rules: ToleranceRules, user_id: int, now: datetime
    ) -> None: ...
    async def gl_setup(self, location_id: int, item_codes: Collection[str]) -> GlSetup: ...
    async def positions(
        self, location_id: int, location: str, item_codes: Collection[str]
    ) -> dict[PositionKey, Position]: ...
    async def add_documents(
        self,
        count: CountRecord,
        user_id: int,
        now: datetime,
        adjustment: QuantityAdjustment,
        transfer: StockTransfer,
    ) -> dict[str, tuple[int, str]]: ...
    async def documents(self, count_id: int) -> Sequence[DocumentRecord]: ...
    async def document(self, kind: str, number: str) -> DocumentRecord | None: ...
    # The managed list of reason codes (server.db.counts_reasons).
    async def reason_codes(self, codes: Collection[str] | None = None) -> dict[str, ReasonCode]: ...
    async def add_reason_codes(self, codes: Sequence[ReasonCode]) -> None: ...
    async def update_reason_code(self, code: ReasonCode) -> None: ...


class PostingPort(Protocol):
    """server.db.posting.SqlPostings: the one writer of posted documents."""

    async def frozen_bins(
        self, location_codes: Collection[str], exempt_count: int | None = None
    ) -> dict[tuple[str, str], str]: ...
    async def frozen_bin_ids(
        self, bin_ids: Collection[int], exempt_count: int | None = None
    ) -> dict[int, str]: ...
    async def apply(self, result: PostingResult, context: PostingContext) -> None: ...


@dataclass(frozen=True, slots=True)
class PostingContext:
    """Where a posting result comes from and how the GL history names it."""

    document_kind: str
    document_id: int
    document_number: str
    posted_at: datetime
    posting_date: date
    journal_name: str
    period: str | None = None
    exempt_count: int | None = None  # a count finalizing into its own frozen bins
