"""Reading the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

from server.audit.ports import AuditFilter, AuditRecord, AuditUnitOfWork
from server.domain.errors import FieldProblem, ValidationFailed
from server.ports import AuditAction


def check_action(action: str | None) -> str | None:
    if action is None:
        return None
    allowed = [a.value for a in AuditAction]
    if action not in allowed:
        raise ValidationFailed(
            f"action must be one of {', '.join(allowed)}, not {action!r}",
            [FieldProblem("action", f"one of {', '.join(allowed)}")],
        )
    return action


async def list_audit(
    uow: AuditUnitOfWork, after: int, limit: int, where: AuditFilter
) -> Sequence[AuditRecord]:
    """The acts after the cursor, oldest first, that match every filter given."""
    check_action(where.action)
    async with uow:
        return await uow.audit.page(after, limit, where)
