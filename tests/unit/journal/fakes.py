"""In-memory fakes of the journal's ports (server.journal.ports, server.ports.PostingPort):
the journal's use cases run against them with no database, as cosmicpython's FakeUnitOfWork.

The facts of every transaction are one `JournalFacts` (tests/unit/journal/factory.py);
what a save writes is kept in lists, so a test sees what was posted and committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from server.domain.journal import (
    JobCostRecord,
    JobHistoryEntry,
    JournalFacts,
    JournalSettings,
    JournalTransaction,
    StockRecord,
)
from server.journal.ports import (
    GlHistoryRecord,
    InventoryHistoryFilters,
    InventoryHistoryRecord,
    JobHistoryRecord,
    MasterRecord,
    StoredTransaction,
    TransactionFilters,
    TransactionSummaryRecord,
    WorkOrderCostRecord,
)
from tests.unit.fakes import FakePostings, FakeTransaction

T = TypeVar("T")


@dataclass
class FakeHistory:
    job_costs: list[JobCostRecord] = field(default_factory=list)
    stock: dict[str, list[StockRecord]] = field(default_factory=dict)
    work_orders: dict[str, tuple[str, list[WorkOrderCostRecord]]] = field(default_factory=dict)
    locked: list[set[tuple[str, str]]] = field(default_factory=list)

    async def job_cost_rows(self, jobs: Collection[str]) -> list[JobCostRecord]:
        return [r for r in self.job_costs if r.job in jobs]

    async def work_order_costs(self, code: str) -> tuple[str, list[WorkOrderCostRecord]] | None:
        return self.work_orders.get(code)

    async def stock_rows(self, location: str) -> list[StockRecord]:
        return list(self.stock.get(location, []))

    async def lock_costs(self, keys: Collection[tuple[str, str]]) -> None:
        self.locked.append(set(keys))

    async def page(
        self, after: int, limit: int, filters: TransactionFilters
    ) -> list[TransactionSummaryRecord]:
        return []

    async def inventory_history(
        self, after: int, limit: int, filters: InventoryHistoryFilters
    ) -> list[InventoryHistoryRecord]:
        return []


@dataclass
class FakeJournal:
    """Transactions by number; numbered IA-1, IA-2, ... in the order they are added."""

    data: JournalFacts
    history: FakeHistory = field(default_factory=FakeHistory)
    transactions: dict[str, StoredTransaction] = field(default_factory=dict)
    lines: dict[int, JournalTransaction] = field(default_factory=dict)
    job_entries: dict[int, list[JobHistoryEntry]] = field(default_factory=dict)
    masters: dict[tuple[str, tuple[str, ...]], MasterRecord] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)

    async def together(self, work: Callable[[], Awaitable[T]], *, commit: bool = False) -> T:
        return await work()

    async def master_get(self, kind: str, key: tuple[str, ...]) -> MasterRecord | None:
        return self.masters.get((kind, key))

    async def master_page(
        self, kind: str, after: int, limit: int, job: str | None
    ) -> Sequence[tuple[int, MasterRecord]]:
        return []

    async def facts(self, transaction: JournalTransaction) -> JournalFacts:
        return self.data

    async def settings(self) -> JournalSettings:
        return self.data.settings

    async def save_settings(self, settings: JournalSettings) -> None:
        self.data = replace(self.data, settings=settings)

    async def known_accounts(self, codes: Collection[str]) -> set[str]:
        return set(codes) & self.accounts

    async def add_transaction(
        self,
        transaction: JournalTransaction,
        user_id: int,
        now: datetime,
        reverses_id: int | None = None,
    ) -> tuple[int, str]:
        tx_id = len(self.transactions) + 1
        number = f"IA-{tx_id}"
        reverses = None
        for stored in self.transactions.values():
            if stored.id == reverses_id:
                reverses = stored.transaction.transaction_id
                self.transactions[stored.transaction.transaction_id or ""] = replace(
                    stored, reversed_by=number
                )
        self.transactions[number] = StoredTransaction(tx_id, reverses, None, transaction)
        return tx_id, number

    async def add_lines(self, transaction_id: int, transaction: JournalTransaction) -> None:
        self.lines[transaction_id] = transaction
        number = transaction.transaction_id or ""
        self.transactions[number] = replace(self.transactions[number], transaction=transaction)

    async def add_job_history(
        self,
        transaction_id: int,
        transaction: JournalTransaction,
        entries: Iterable[JobHistoryEntry],
        now: datetime,
    ) -> None:
        self.job_entries[transaction_id] = list(entries)

    async def get(self, number: str) -> StoredTransaction | None:
        return self.transactions.get(number)

    async def gl_history(self, transaction_id: int) -> Sequence[GlHistoryRecord]:
        return []

    async def job_history(self, transaction_id: int) -> Sequence[JobHistoryRecord]:
        return []


@dataclass
class JournalState:
    journal: FakeJournal
    postings: FakePostings = field(default_factory=lambda: FakePostings())


class FakeUnitOfWork(FakeTransaction[JournalState]):
    """A JournalUnitOfWork over the fakes. Leaving without commit() rolls back: what the
    block wrote is dropped, as a database transaction would drop it."""

    def __init__(self, data: JournalFacts) -> None:
        super().__init__(JournalState(FakeJournal(data)))

    @property
    def journal(self) -> FakeJournal:
        return self.state.journal

    @property
    def postings(self) -> FakePostings:
        return self.state.postings
