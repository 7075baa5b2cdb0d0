"""What the journal's use cases need from persistence; `server.journal.sql` implements it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from server.domain.journal import (
    JobCostRecord,
    JobHistoryEntry,
    JournalFacts,
    JournalSettings,
    JournalTransaction,
    StockRecord,
    TransactionType,
)
from server.masterdata.ports import MasterDataUnitOfWork
from server.ports import PostingPort, Transaction

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GlHistoryRecord:
    """One line of the seed's GLH tab."""

    account: str
    account_name: str
    entity: str | None
    period: str | None
    company: str | None
    intercompany: bool
    journal: str
    transaction_id: str
    date: date
    line_no: int
    amount: Decimal  # debit positive, credit negative


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    id: int
    reverses: str | None  # the number of the transaction this one reverses
    reversed_by: str | None  # the number of the transaction that reverses this one
    transaction: JournalTransaction


@dataclass(frozen=True, slots=True)
class JobHistoryRecord:
    line_no: int
    side: str
    job: str
    cost_code: str
    cost_category: str
    work_order: str | None
    equipment: str | None
    item: str
    quantity: Decimal
    quantity_billable: Decimal
    unit_cost: Decimal
    burden: Decimal
    use_tax: Decimal
    material_cost: Decimal
    billing_rate: str | None
    unit_price: Decimal
    amount_revenue: Decimal
    extra: bool


@dataclass(frozen=True, slots=True)
class WorkOrderCostRecord:
    """A job history row of a work order, as its Get Costs imports it."""

    transaction_id: str
    effective_date: date
    line_no: int
    item: str
    lot: str
    serial: str
    cost_code: str
    cost_category: str
    equipment: str | None
    quantity: Decimal
    quantity_billable: Decimal
    unit_cost: Decimal
    burden: Decimal
    use_tax: Decimal
    material_cost: Decimal
    billing_rate: str | None
    unit_price: Decimal
    amount_revenue: Decimal
    extra: bool


@dataclass(frozen=True, slots=True)
class TransactionFilters:
    period: str | None = None
    transaction_type: str | None = None
    item: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class TransactionSummaryRecord:
    id: int
    number: str
    effective_date: date
    transaction_type: TransactionType
    user: str
    date_posted: datetime
    line_count: int
    period: str | None
    description: str
    reverses: str | None


@dataclass(frozen=True, slots=True)
class InventoryHistoryFilters:
    """Inventory History filters; `job` and `work_order` match the movement's own job or
    work order and the references a location movement carries from its job side."""

    item: str | None = None
    location: str | None = None
    bin: str | None = None
    job: str | None = None
    work_order: str | None = None
    source: str | None = None  # a DocumentKind value
    place: str | None = None  # "location" or "job"
    serial: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class InventoryHistoryRecord:
    """One stock movement of an item at a location (and bin) or at a job. A location
    movement of a Loc-to-Job or Job-to-Loc line carries the job side's job, cost code,
    cost category and work order as references (seed 004: "for informational purposes")."""

    id: int
    date: date
    posted_at: datetime
    item: str
    item_name: str
    uom: str
    place: str  # "location" or "job"
    location: str | None
    bin: str | None
    job: str | None
    cost_code: str | None
    cost_category: str | None
    work_order: str | None
    quantity: Decimal  # signed: into the place positive
    unit_cost: Decimal
    value: Decimal
    source: str  # a DocumentKind value
    source_number: str  # the Transaction Id, or the document number
    line_no: int
    transaction_type: TransactionType | None  # journal transactions only
    lot: str
    serial: str


class JournalHistory(Protocol):
    async def job_cost_rows(self, jobs: Collection[str]) -> list[JobCostRecord]: ...
    async def work_order_costs(self, code: str) -> tuple[str, list[WorkOrderCostRecord]] | None: ...
    async def stock_rows(self, location: str) -> list[StockRecord]: ...
    async def lock_costs(self, keys: Collection[tuple[str, str]]) -> None: ...
    async def page(
        self, after: int, limit: int, filters: TransactionFilters
    ) -> list[TransactionSummaryRecord]: ...
    async def inventory_history(
        self, after: int, limit: int, filters: InventoryHistoryFilters
    ) -> list[InventoryHistoryRecord]: ...


# A journal master data record: the import format's fields (server.journal.sql.masterdata).
MasterRecord = dict[str, object]


class JournalRepository(Protocol):
    @property
    def history(self) -> JournalHistory: ...
    async def together(self, work: Callable[[], Awaitable[T]], *, commit: bool = False) -> T:
        """`await work()`: calls of this unit of work's repositories, and nothing else
        that waits (not its commit). An adapter may send them to the database together
        (SQLite: one hand-over to the connection's thread for all). `commit=True`: the
        caller commits the unit of work right after, and the adapter may send the
        COMMIT with the work (SQLite); the unit of work's commit is still required."""
        ...

    async def master_get(self, kind: str, key: tuple[str, ...]) -> MasterRecord | None: ...
    async def master_page(
        self, kind: str, after: int, limit: int, job: str | None
    ) -> Sequence[tuple[int, MasterRecord]]: ...
    async def facts(self, transaction: JournalTransaction) -> JournalFacts: ...
    async def settings(self) -> JournalSettings: ...
    async def save_settings(self, settings: JournalSettings) -> None: ...
    async def known_accounts(self, codes: Collection[str]) -> set[str]: ...
    async def add_transaction(
        self,
        transaction: JournalTransaction,
        user_id: int,
        now: datetime,
        reverses_id: int | None = None,
    ) -> tuple[int, str]: ...
    async def add_lines(self, transaction_id: int, transaction: JournalTransaction) -> None: ...
    async def add_job_history(
        self,
        transaction_id: int,
        transaction: JournalTransaction,
        entries: Iterable[JobHistoryEntry],
        now: datetime,
    ) -> None: ...
    async def get(self, number: str) -> StoredTransaction | None: ...
    async def gl_history(self, transaction_id: int) -> Sequence[GlHistoryRecord]: ...
    async def job_history(self, transaction_id: int) -> Sequence[JobHistoryRecord]: ...


class JournalUnitOfWork(Transaction, Protocol):
    @property
    def journal(self) -> JournalRepository: ...
    @property
    def postings(self) -> PostingPort: ...


class JournalMasterUnitOfWork(MasterDataUnitOfWork, Protocol):
    """The journal's own master data (jobs, cost codes, ...) is stored by the importer,
    and read back through the journal's repository."""

    @property
    def journal(self) -> JournalRepository: ...
