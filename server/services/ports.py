"""What the use cases need from persistence. `server.db` implements these."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from server.domain.masterdata import Role, Tracking
from server.domain.masterdata_import import (
    BinRow,
    CompanyRow,
    GlAccountRow,
    GlEntityRow,
    InventoryGroupRow,
    ItemRow,
    LocationRow,
    Row,
)


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

    async def get(self, kind: str, key: tuple[str, ...]) -> Row | None: ...
    async def page(
        self, kind: str, after: int, limit: int, filters: Mapping[str, str]
    ) -> Sequence[tuple[int, Row]]: ...
    async def stock_page(
        self, after: tuple[int, int, str] | None, limit: int, filters: Mapping[str, str]
    ) -> Sequence[StockBalanceRecord]: ...


class UnitOfWork(Protocol):
    """One database transaction. Leaving the block without commit() rolls back."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def devices(self) -> DeviceRepository: ...
    @property
    def codes(self) -> CodeLookup: ...
    @property
    def masterdata(self) -> MasterDataRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
