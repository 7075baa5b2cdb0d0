"""The audit trail of supervisor and admin acts (GET /api/audit)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class AuditEntry(msgspec.Struct, kw_only=True):
    at: datetime
    user: str | None
    action: str
    count: str | None = None
    subject: str = ""
    detail: str = ""


class AuditPage(msgspec.Struct, kw_only=True):
    items: list[AuditEntry]
    next_cursor: str | None = None
