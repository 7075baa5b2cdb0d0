"""The count documents across counts, for the Documents page: number, kind, count,
location, date, lines and value, filtered, a page at a time (keyset on the id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from server.domain.counting import DOCUMENT_KINDS
from server.domain.errors import FieldProblem, ValidationFailed
from server.ports import Transaction


@dataclass(frozen=True, slots=True)
class DocumentFilters:
    count: str | None = None
    location: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class DocumentSummaryRecord:
    id: int
    kind: str
    number: str
    count: str
    location: str
    created_at: datetime
    created_by: str
    lines: int
    total_value: Decimal


class DocumentListReader(Protocol):
    async def page(
        self, after: int, limit: int, filters: DocumentFilters
    ) -> Sequence[DocumentSummaryRecord]: ...


class DocumentListUnitOfWork(Transaction, Protocol):
    @property
    def count_documents(self) -> DocumentListReader: ...


async def list_documents(
    uow: DocumentListUnitOfWork, after: int, limit: int, filters: DocumentFilters
) -> Sequence[DocumentSummaryRecord]:
    if filters.kind and filters.kind not in DOCUMENT_KINDS:
        shown = ", ".join(DOCUMENT_KINDS)
        raise ValidationFailed(
            f"kind must be one of {shown}", [FieldProblem("kind", f"not {filters.kind!r}")]
        )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationFailed(
            "the date range is empty: 'from' is after 'to'",
            [FieldProblem("date_to", "on or after the 'from' date")],
        )
    async with uow:
        return await uow.count_documents.page(after, limit, filters)
