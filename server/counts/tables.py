"""The tables of stock counts, their documents, and the shared posting history.

A StockCount owns its bins in scope (`count_bin`), its snapshot (`count_snapshot_*`,
frozen when counting starts), its BinCounts (`bin_count` with serial and quantity
lines), recount orders and the supervisor's line reviews. Finalize writes exactly one
Quantity Adjustment and one Stock Transfer document per count (`count_document`, unique
on count and kind). The inventory and GL history that every posting
writes (`stock_movement`, `gl_posting`) live with the shared tables in server/db/tables.py.

Snapshot and BinCount lines have composite primary keys and no surrogate id: a count of
a million serials writes a million snapshot rows, and a narrow row is a fast row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.tables import Base, Id
from server.db.types import Cost, Quantity, UTCDateTime, Value

COUNT_STATUSES = "'open', 'counting_in_process', 'counted', 'completed', 'cancelled'"


class StockCount(Base):
    __tablename__ = "stock_count"
    __table_args__ = (
        CheckConstraint(f"status IN ({COUNT_STATUSES})", name="status"),
        CheckConstraint("scope_kind IN ('bins', 'prefix', 'zone', 'all')", name="scope_kind"),
        Index("ix_stock_count_location_id_status", "location_id", "status"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    scope_kind: Mapped[str] = mapped_column(String(8))
    # The prefix or zone; for listed bins the labels are in count_bin.
    scope_spec: Mapped[str] = mapped_column(String(128), default="")
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24))
    # Bumped on every change of what the reconciliation is computed from (snapshot, bin
    # counts, picks, recounts; not by review, counted or finalize): server processes check
    # their cached reconciliation against it.
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    # Identifies the snapshot taken at start (a process caches the built Snapshot by it).
    snapshot_token: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finalized_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class CountBin(Base):
    """A bin in a count's scope, with its assignment and a supervisor's conflict pick."""

    __tablename__ = "count_bin"
    __table_args__ = (
        Index("ix_count_bin_bin_id", "bin_id"),
        Index("ix_count_bin_count_id_awaiting_count", "count_id", "awaiting_count"),
    )
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), primary_key=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"), primary_key=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    picked_bin_count_id: Mapped[int | None] = mapped_column(BigInteger)
    # When the supervisor last ordered a recount of the bin: counts started before it are
    # replaced. `awaiting_count`: no bin count of the bin stands (none yet, or none since
    # the order), so "is every bin counted?" is one index probe.
    recount_ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    awaiting_count: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class CountSnapshotSerial(Base):
    __tablename__ = "count_snapshot_serial"
    __table_args__ = (
        # The matching statement reads each bin's serials and probes them in the index
        # alone (server.counts.sql.snapshot.serial_differences).
        Index(
            "ix_count_snapshot_serial_count_id_bin_id_item_id_serial_number",
            *("count_id", "bin_id", "item_id", "serial_number"),
        ),
    )
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    serial_number: Mapped[str] = mapped_column(String(128), primary_key=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    actual_cost: Mapped[Decimal] = mapped_column(Cost())
    bin_kind: Mapped[str] = mapped_column(String(8))


class CountSnapshotBalance(Base):
    __tablename__ = "count_snapshot_balance"
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"), primary_key=True)
    lot: Mapped[str] = mapped_column(String(128), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    average_cost: Mapped[Decimal] = mapped_column(Cost())


class CountSnapshotItem(Base):
    """Item facts at the count's location when counting started (average cost frozen)."""

    __tablename__ = "count_snapshot_item"
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    tracking: Mapped[str] = mapped_column(String(8))
    auto_serialized: Mapped[bool] = mapped_column(Boolean)
    average_cost: Mapped[Decimal] = mapped_column(Cost())
    last_cost: Mapped[Decimal] = mapped_column(Cost())


class BinCountTable(Base):
    """One counter's complete count of one bin; which counts stand is the domain's
    decision (server.domain.counting.bincounts)."""

    __tablename__ = "bin_count"
    __table_args__ = (Index("ix_bin_count_count_id_bin_id", "count_id", "bin_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    # Who counted, as reconciliation names them (a username, or "device:<id>").
    counter: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BinCountSerial(Base):
    __tablename__ = "bin_count_serial"
    bin_count_id: Mapped[int] = mapped_column(ForeignKey("bin_count.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    serial_number: Mapped[str] = mapped_column(String(128), primary_key=True)


class BinCountQuantity(Base):
    __tablename__ = "bin_count_quantity"
    bin_count_id: Mapped[int] = mapped_column(ForeignKey("bin_count.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    lot: Mapped[str] = mapped_column(String(128), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity())


class RecountOrder(Base):
    __tablename__ = "recount_order"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), index=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    ordered_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200), default="")


class CountEvent(Base):
    """What happened to a count, for supervisors: started, counted (by itself when the
    last bin is counted, or by a supervisor), recount ordered, conflict picked, reopened,
    cancelled, completed."""

    __tablename__ = "count_event"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class CountLineReview(Base):
    """A supervisor's decision on one discrepancy line (by its stable id)."""

    __tablename__ = "count_line_review"
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(600), primary_key=True)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ToleranceRule(Base):
    """A location's tolerances; a NULL limit is not checked."""

    __tablename__ = "tolerance_rule"
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    percent: Mapped[Decimal | None] = mapped_column(Quantity())
    value: Mapped[Decimal | None] = mapped_column(Value())
    updated_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CountDocument(Base):
    """A Quantity Adjustment or Stock Transfer document. Immutable: inserted once."""

    __tablename__ = "count_document"
    __table_args__ = (
        UniqueConstraint("count_id", "kind"),
        CheckConstraint("kind IN ('quantity_adjustment', 'stock_transfer')", name="kind"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"))
    kind: Mapped[str] = mapped_column(String(24))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    total_value: Mapped[Decimal] = mapped_column(Value())


class CountDocumentLine(Base):
    """A document line with the seed's columns. `bin_id` is the bin adjusted (Quantity
    Adjustment) or the destination (Stock Transfer, whose source is `from_bin_id`)."""

    __tablename__ = "count_document_line"
    document_id: Mapped[int] = mapped_column(ForeignKey("count_document.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_line_id: Mapped[str] = mapped_column(String(600))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    from_bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    lot: Mapped[str] = mapped_column(String(128), default="")
    serial_number: Mapped[str] = mapped_column(String(128), default="")
    generate_serials: Mapped[bool] = mapped_column(Boolean, default=False)
    adjustment_quantity: Mapped[Decimal] = mapped_column(Quantity())
    stock_transfer_quantity: Mapped[Decimal] = mapped_column(Quantity())
    adjustment_cost: Mapped[Decimal] = mapped_column(Cost())
    adjustment_value: Mapped[Decimal] = mapped_column(Value())
    stock_transfer_value: Mapped[Decimal] = mapped_column(Value())


class UnknownBarcodeRow(Base):
    """A scan that matched nothing (or whose GS1 data did not parse) on a device, in a
    count: kept for the supervisor, never counted. One per device event."""

    __tablename__ = "unknown_barcode"
    __table_args__ = (
        UniqueConstraint("device_id", "install_id", "seq"),
        Index("ix_unknown_barcode_count_id_id", "count_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    install_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    bin: Mapped[str] = mapped_column(String(128), default="")
    counter: Mapped[str] = mapped_column(String(64), default="")
    raw: Mapped[str] = mapped_column(String(4096))
    symbology: Mapped[str] = mapped_column(String(32), default="")
    problem: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(500), default="")
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the device's time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
