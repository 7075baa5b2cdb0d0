"""The audit trail through the API: admins, supervisors and finance read it."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromQuery

from schemas.audit import AuditEntry, AuditPage
from server.api.deps import Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.security import roles
from server.audit.ports import AuditFilter
from server.audit.usecases import list_audit
from server.domain.masterdata import Role


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]
    guards = [roles(Role.ADMIN, Role.SUPERVISOR, Role.FINANCE)]

    @get("/")
    async def list_audit(
        self,
        uow: Uow,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
        count: FromQuery[str | None] = None,
        user: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
    ) -> AuditPage:
        """Supervisor and admin acts, oldest first, a page at a time; `count` (a stock
        count's number), `user` (who acted: a user's name, or for `stockcount import` its
        caller, `cli:LOGIN` or `--by NAME`) and `action` (approve, clear, select, pick,
        recount, counted, finalize, cancel, revoke-device, revoke-tokens, import, update)
        narrow it."""
        limit = check_limit(limit)
        rows = await list_audit(uow, decode_cursor(cursor), limit, AuditFilter(count, user, action))
        return AuditPage(
            items=[
                AuditEntry(
                    at=r.at,
                    user=r.username,
                    action=r.action,
                    count=r.count_number,
                    subject=r.subject,
                    detail=r.detail,
                )
                for r in rows
            ],
            next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
        )
