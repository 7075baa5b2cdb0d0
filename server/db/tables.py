"""The tables. Changing one means writing a migration (tests compare the two).

No ORM relationships: repositories query with explicit joins, so nothing lazy-loads in
async code.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.db.types import Cost, Quantity, UTCDateTime, Value

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT ids on PostgreSQL; on SQLite the INTEGER PRIMARY KEY is the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Company(Base):
    __tablename__ = "company"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    intercompany: Mapped[bool] = mapped_column(Boolean, default=False)


class GlEntity(Base):
    __tablename__ = "gl_entity"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)


class GlAccount(Base):
    __tablename__ = "gl_account"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class InventoryGroup(Base):
    __tablename__ = "inventory_group"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    inventory_account_id: Mapped[int | None] = mapped_column(ForeignKey("gl_account.id"))
    adjustment_account_id: Mapped[int | None] = mapped_column(ForeignKey("gl_account.id"))
    gl_entity_id: Mapped[int | None] = mapped_column(ForeignKey("gl_entity.id"))


class Location(Base):
    __tablename__ = "location"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    gl_entity_id: Mapped[int | None] = mapped_column(ForeignKey("gl_entity.id"))


class Bin(Base):
    __tablename__ = "bin"
    __table_args__ = (
        UniqueConstraint("location_id", "label"),
        CheckConstraint("kind IN ('stock', 'out')", name="kind"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    label: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(8))
    zone: Mapped[str] = mapped_column(String(64), default="")


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (
        CheckConstraint("tracking IN ('none', 'lot', 'serial')", name="tracking"),
        CheckConstraint("NOT auto_serialized OR tracking = 'serial'", name="auto_serial"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tracking: Mapped[str] = mapped_column(String(8))
    auto_serialized: Mapped[bool] = mapped_column(Boolean, default=False)
    uom: Mapped[str] = mapped_column(String(16), default="EA")
    last_cost: Mapped[Decimal] = mapped_column(Cost(), default=Decimal(0))
    inventory_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_group.id"), index=True
    )
    # "measure": counted by weight or length, a device asks for a keyed quantity.
    count_mode: Mapped[str] = mapped_column(String(8), default="unit", server_default="unit")


class ItemBarcode(Base):
    """A barcode that identifies an item (GTIN, or a private code); unique across items."""

    __tablename__ = "item_barcode"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    barcode: Mapped[str] = mapped_column(String(128), unique=True)


class Serial(Base):
    __tablename__ = "serial"
    __table_args__ = (
        UniqueConstraint("item_id", "serial_number"),
        Index("ix_serial_bin_id", "bin_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    serial_number: Mapped[str] = mapped_column(String(128))
    # NULL once the serial has left stock (written off, consumed on a job).
    bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    actual_cost: Mapped[Decimal] = mapped_column(Cost())


class StockBalance(Base):
    """On-hand quantity of an untracked or lot item in a bin ('' lot for untracked).

    Serialized items have no row here: their quantity is the count of their serials.
    """

    __tablename__ = "stock_balance"
    __table_args__ = (
        UniqueConstraint("item_id", "bin_id", "lot"),
        Index("ix_stock_balance_bin_id", "bin_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    lot: Mapped[str] = mapped_column(String(128), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity())


class ItemLocationCost(Base):
    """The perpetual average cost of an item at a location."""

    __tablename__ = "item_location_cost"
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    average_cost: Mapped[Decimal] = mapped_column(Cost())


class MasterDataChange(Base):
    """One field of an existing record changed by an update import: who, when, old, new.

    `code` is the record's code (a bin's label, a serial's number), `parent_code` the
    location of a bin or the item of a serial ('' otherwise). Values are text as the
    import format writes them (decimals plain, barcodes `a|b`); NULL for no value.
    """

    __tablename__ = "masterdata_change"
    __table_args__ = (
        Index("ix_masterdata_change_kind_code", "kind", "code"),
        Index("ix_masterdata_change_changed_at", "changed_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(128))
    parent_code: Mapped[str] = mapped_column(String(128), default="")
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # One update import: every change it made carries its id; `source` is the file and row.
    import_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(400))


class MasterDataVersion(Base):
    """One row whose `version` takes a new random value whenever the master data a
    journal save reads is written: SQLite triggers on each of those tables (migration
    0017), in the writing transaction, whatever wrote it (the importer, the API, a
    restore, SQL by hand). Random, not counted: a database recreated, restored or rolled
    back never shows a value it showed before with other data.

    The journal's facts keep those rows between saves on SQLite while it is unchanged
    (server.journal.sql.kept). PostgreSQL does not maintain it (no triggers there: a
    save reads its facts in one round trip with the stock it needs anyway, and one row
    every master-data writer updated would make concurrent imports wait for each other)."""

    __tablename__ = "master_data_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'supervisor', 'counter', 'finance')", name="role"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the user was last deactivated: a device's scans by them after it are refused.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CounterPin(Base):
    """The verifier of a counter's PIN for signing in on devices, offline: scrypt of the
    PIN with this salt and these parameters (never the PIN). Devices of the counter's
    sites pull it."""

    __tablename__ = "counter_pin"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(128))
    hash: Mapped[str] = mapped_column(String(128))
    n: Mapped[int] = mapped_column(Integer)
    r: Mapped[int] = mapped_column(Integer)
    p: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CounterSite(Base):
    """A location whose devices a counter may count on."""

    __tablename__ = "counter_site"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)


class ApiToken(Base):
    """A user's bearer token. Only its SHA-256 is stored (the token has 256 random bits)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthThrottle(Base):
    """Failed sign-ins in a row per key ('user:NAME', 'address:IP', ...): in the database,
    so every server process on one database sees the same waits."""

    __tablename__ = "auth_throttle"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Device(Base):
    __tablename__ = "device"
    __table_args__ = (CheckConstraint("status IN ('active', 'revoked')", name="status"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The site: a device may only write to counts of this location.
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="active")
    app_version: Mapped[str] = mapped_column(String(64), default="")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EnrollmentCode(Base):
    """A one-time, expiring code an admin hands to a device. Only its SHA-256 is stored."""

    __tablename__ = "enrollment_code"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))


# Written by the posting engine and read by every feature's documents and history.
class StockMovement(Base):
    """Inventory history: a quantity delta of an item at a place, from a posted document.

    Shared by count finalize and the Inventory Adjustment Journal. A location side has
    `location_id` (and `bin_id` when the line names a bin); a job side has `job`.
    `posting_date`: the journal transaction's effective date, or the day of finalize.
    """

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index("ix_stock_movement_item_id_location_id", "item_id", "location_id"),
        Index("ix_stock_movement_document_kind_document_id", "document_kind", "document_id"),
        Index("ix_stock_movement_job", "job"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    lot: Mapped[str] = mapped_column(String(128), default="")
    serial_number: Mapped[str] = mapped_column(String(128), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    unit_cost: Mapped[Decimal] = mapped_column(Cost())
    value: Mapped[Decimal] = mapped_column(Value())
    document_kind: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[int] = mapped_column(BigInteger)
    document_number: Mapped[str] = mapped_column(String(40))
    line_no: Mapped[int] = mapped_column(Integer)
    job: Mapped[str | None] = mapped_column(String(64))
    work_order: Mapped[str | None] = mapped_column(String(64))
    cost_code: Mapped[str | None] = mapped_column(String(64))
    cost_category: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posting_date: Mapped[date] = mapped_column(Date)


class GlPosting(Base):
    """GL history: one signed amount (debit positive) per account and entity and line."""

    __tablename__ = "gl_posting"
    __table_args__ = (
        Index("ix_gl_posting_document_kind_document_id", "document_kind", "document_id"),
        Index("ix_gl_posting_account_code", "account_code"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_code: Mapped[str] = mapped_column(String(64))
    entity_code: Mapped[str | None] = mapped_column(String(64))
    company_code: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(16))
    intercompany: Mapped[bool] = mapped_column(Boolean, default=False)
    journal_name: Mapped[str] = mapped_column(String(64))
    document_kind: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[int] = mapped_column(BigInteger)
    document_number: Mapped[str] = mapped_column(String(40))
    line_no: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Value())
    posting_date: Mapped[date] = mapped_column(Date)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReasonCodeEntry(Base):
    """An entry of the managed list of reason codes (server.domain.counting.reasons).

    `kinds`: the line kinds it fits, `|`-joined ("" fits every adjustable kind). Never
    deleted: approvals name codes by their text, so a code is deactivated instead."""

    __tablename__ = "reason_code"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
