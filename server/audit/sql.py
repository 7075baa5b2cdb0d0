"""The audit trail in SQL: an insert per act (in the act's transaction), pages read by id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, or_, select

from server.audit.ports import AuditFilter, AuditRecord
from server.audit.tables import AuditEntryRow
from server.db.session import Session
from server.db.tables import User
from server.ports import AuditEntry


class SqlAuditTrail:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def record(self, entry: AuditEntry) -> None:
        await self.session.execute(
            insert(AuditEntryRow).values(
                at=entry.at,
                user_id=entry.user_id,
                action=entry.action.value,
                count_number=entry.count_number,
                subject=entry.subject[:300],
                detail=entry.detail,
                caller=entry.caller[:200],
            )
        )

    async def page(self, after: int, limit: int, where: AuditFilter) -> Sequence[AuditRecord]:
        row = AuditEntryRow
        query = (
            select(
                row.id,
                row.at,
                User.username,
                row.action,
                row.count_number,
                row.subject,
                row.detail,
                row.caller,
            )
            .outerjoin(User, User.id == row.user_id)
            .where(row.id > after)
            .order_by(row.id)
            .limit(limit)
        )
        if where.count_number is not None:
            query = query.where(row.count_number == where.count_number)
        if where.username is not None:
            query = query.where(or_(User.username == where.username, row.caller == where.username))
        if where.action is not None:
            query = query.where(row.action == where.action)
        rows = await self.session.execute(query)
        # A user's name, else the CLI's caller; None when neither is known.
        return [AuditRecord(r[0], r[1], r[2] or r[7] or None, r[3], r[4], r[5], r[6]) for r in rows]
