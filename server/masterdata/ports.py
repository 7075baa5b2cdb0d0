"""What the master data and import use cases need from persistence (`server.masterdata.sql`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from server.domain.counting import ReasonCode
from server.domain.masterdata import Tracking
from server.domain.masterdata.imports import (
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
from server.ports import (
    AuditTrail,
    MasterDataChangeRecord,
    NewBalance,
    NewSerial,
    PostingPort,
    Progress,
    Transaction,
)


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
    # Update imports (server.masterdata.usecases.updates).
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
    # The journal's master data (server.masterdata.usecases.journal_kinds).
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


class MasterDataUnitOfWork(Transaction, Protocol):
    @property
    def masterdata(self) -> MasterDataRepository: ...
    @property
    def audit(self) -> AuditTrail: ...
    @property
    def postings(self) -> PostingPort: ...


class ReasonCodeList(Protocol):
    """The managed list of reason codes (server.db.reasons); the counts' review reads it
    through its own port to approve with."""

    async def reason_codes(self, codes: Collection[str] | None = None) -> dict[str, ReasonCode]: ...
    async def add_reason_codes(self, codes: Sequence[ReasonCode]) -> None: ...
    async def update_reason_code(self, code: ReasonCode) -> None: ...


class ReasonCodesUnitOfWork(MasterDataUnitOfWork, Protocol):
    @property
    def reason_codes(self) -> ReasonCodeList: ...
