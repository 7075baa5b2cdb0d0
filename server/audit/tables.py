"""The audit trail's table: one row per supervisor or admin act, never updated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.tables import Base, Id
from server.db.types import UTCDateTime


class AuditEntryRow(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_count_number_id", "count_number", "id"),
        Index("ix_audit_entry_action_id", "action", "id"),
        Index("ix_audit_entry_user_id_id", "user_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    count_number: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # who acted when it was no user: the CLI's `cli:LOGIN` or `--by NAME` (migration 0015)
    caller: Mapped[str] = mapped_column(String(200), default="", server_default="")
