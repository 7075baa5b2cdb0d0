"""What every feature's use cases may need from persistence: a transaction, the code lookup,
the posting engine's writer. Each feature's own ports are in its `ports` module."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from server.domain.posting import PostingResult


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


class CodeLookup(Protocol):
    async def location_id(self, code: str) -> int | None: ...


class FrozenBins(Protocol):
    """The bins a stock count in process freezes (server.counts.sql.frozen.SqlFrozenBins),
    by number of the count; `exempt_count` is a count finalizing into its own bins."""

    async def frozen_bins(
        self, location_codes: Collection[str], exempt_count: int | None = None
    ) -> dict[tuple[str, str], str]: ...
    async def frozen_bin_ids(
        self, bin_ids: Collection[int], exempt_count: int | None = None
    ) -> dict[int, str]: ...


class PostingPort(FrozenBins, Protocol):
    """server.db.posting.SqlPostings: the one writer of posted documents."""

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


# -- what every import and posting writes into the shared tables (server.db.writes) --


# (item id, serial number, bin id, actual cost) and (item id, bin id, lot, quantity):
# plain tuples, because an import writes a million of them.
NewSerial = tuple[int, str, int, Decimal]


NewBalance = tuple[int, int, str, Decimal]


Progress = Callable[[int], None]


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
