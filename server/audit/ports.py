"""What reading the audit trail needs from persistence (`server.audit.sql`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.ports import AuditTrail, CodeLookup, Transaction


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    username: str | None
    action: str
    count_number: str | None
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class AuditFilter:
    count_number: str | None = None
    username: str | None = None
    action: str | None = None


class AuditReader(AuditTrail, Protocol):
    async def page(self, after: int, limit: int, where: AuditFilter) -> Sequence[AuditRecord]: ...


class AuditUnitOfWork(Transaction, Protocol):
    @property
    def audit(self) -> AuditReader: ...
    @property
    def codes(self) -> CodeLookup: ...
