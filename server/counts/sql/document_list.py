"""The count documents across counts (`server.counts.usecases.document_list`): one page
of headers with their line counts, in one query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from server.counts.tables import CountDocument, CountDocumentLine, StockCount
from server.counts.usecases.document_list import DocumentFilters, DocumentSummaryRecord
from server.db.session import Session
from server.db.tables import Location, User


class SqlDocumentList:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def page(
        self, after: int, limit: int, filters: DocumentFilters
    ) -> Sequence[DocumentSummaryRecord]:
        lines = (
            select(func.count())
            .where(CountDocumentLine.document_id == CountDocument.id)
            .correlate(CountDocument)
            .scalar_subquery()
        )
        query = (
            select(
                CountDocument.id,
                CountDocument.kind,
                CountDocument.number,
                StockCount.number,
                Location.code,
                CountDocument.created_at,
                User.username,
                lines,
                CountDocument.total_value,
            )
            .join(StockCount, StockCount.id == CountDocument.count_id)
            .join(Location, Location.id == CountDocument.location_id)
            .join(User, User.id == CountDocument.created_by)
            .where(CountDocument.id > after)
        )
        if filters.count:
            query = query.where(StockCount.number == filters.count)
        if filters.location:
            query = query.where(Location.code == filters.location)
        if filters.kind:
            query = query.where(CountDocument.kind == filters.kind)
        if filters.date_from:
            query = query.where(
                CountDocument.created_at >= datetime.combine(filters.date_from, time(), UTC)
            )
        if filters.date_to:
            end = datetime.combine(filters.date_to, time(), UTC) + timedelta(days=1)
            query = query.where(CountDocument.created_at < end)
        rows = await self.session.execute(query.order_by(CountDocument.id).limit(limit))
        return [
            DocumentSummaryRecord(
                int(i), str(kind), str(number), str(count), str(loc), at, str(by), int(n), value
            )
            for i, kind, number, count, loc, at, by, n, value in rows
        ]
