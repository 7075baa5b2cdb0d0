"""The tables of the Inventory Adjustment Journal (seed 004) and the master data it needs.

Master data: accounting periods; jobs with cost codes (usage filter in
`cost_code_category`), cost categories, work orders, equipment; price levels with unit
prices per item; billing rate schedules with a material markup. The journal's attributes
of existing master data live in 1:1 side tables (`item_journal`, `location_journal`,
`inventory_group_journal`) so that the shared tables of migration 0001 stay as they are.
`journal_settings` holds the seed's registry entries (one row, id 1).

The journal: `journal_transaction` (header; `transaction_type` NULL for records made
before the type existed, read as Adjustment), `journal_line`, and `journal_line_side`
(the From/Adjust side and the To side of a line). Job history (JCH) is `job_history`.
Stock movements and GL postings go to the shared `stock_movement` and `gl_posting`.
Percent rates (burden, use tax, markup) use the cost scale (6 places).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.tables import Base, Id
from server.db.types import Cost, Quantity, UTCDateTime, Value

COST_TYPES = "'material', 'equipment', 'labor', 'subcontract', 'other'"
BILLING_TYPES = "'time_and_materials', 'fixed_fee', 'allow_extra_billing'"
TRANSACTION_TYPES = "'loc_to_loc', 'loc_to_job', 'job_to_job', 'job_to_loc', 'adjustment'"


class AccountingPeriod(Base):
    __tablename__ = "accounting_period"
    __table_args__ = (CheckConstraint("starts <= ends", name="range"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)  # inclusive
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class PriceLevel(Base):
    __tablename__ = "price_level"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class PriceLevelItem(Base):
    __tablename__ = "price_level_item"
    price_level_id: Mapped[int] = mapped_column(ForeignKey("price_level.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(Cost())


class RateSchedule(Base):
    __tablename__ = "rate_schedule"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    material_markup: Mapped[Decimal] = mapped_column(Cost(), default=Decimal(0))  # percent


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (CheckConstraint(f"billing_type IN ({BILLING_TYPES})", name="billing_type"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    billing_type: Mapped[str] = mapped_column(String(24), default="time_and_materials")
    price_level_id: Mapped[int | None] = mapped_column(ForeignKey("price_level.id"))
    rate_schedule_id: Mapped[int | None] = mapped_column(ForeignKey("rate_schedule.id"))
    date_closed: Mapped[date | None] = mapped_column(Date)
    use_tax_rate: Mapped[Decimal] = mapped_column(Cost(), default=Decimal(0))  # percent


class CostCategory(Base):
    __tablename__ = "cost_category"
    __table_args__ = (
        CheckConstraint(f"selection_cost_type IN ({COST_TYPES})", name="selection_cost_type"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    selection_cost_type: Mapped[str] = mapped_column(String(16))
    expense_account_id: Mapped[int | None] = mapped_column(ForeignKey("gl_account.id"))


class CostCode(Base):
    __tablename__ = "cost_code"
    __table_args__ = (UniqueConstraint("job_id", "code"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    gl_entity_id: Mapped[int | None] = mapped_column(ForeignKey("gl_entity.id"))


class CostCodeCategory(Base):
    """A cost code's Job Cost Category Usage Filter; no rows: every category is allowed."""

    __tablename__ = "cost_code_category"
    cost_code_id: Mapped[int] = mapped_column(ForeignKey("cost_code.id"), primary_key=True)
    cost_category_id: Mapped[int] = mapped_column(ForeignKey("cost_category.id"), primary_key=True)


class Equipment(Base):
    __tablename__ = "equipment"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class WorkOrder(Base):
    __tablename__ = "work_order"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    cost_code_id: Mapped[int | None] = mapped_column(ForeignKey("cost_code.id"))
    cost_category_id: Mapped[int | None] = mapped_column(ForeignKey("cost_category.id"))


class ItemJournal(Base):
    """An item's journal attributes: Use Unit Prices and its burden rate (percent)."""

    __tablename__ = "item_journal"
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    use_unit_prices: Mapped[bool] = mapped_column(Boolean, default=False)
    burden_rate: Mapped[Decimal] = mapped_column(Cost(), default=Decimal(0))


class LocationJournal(Base):
    __tablename__ = "location_journal"
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    burden_rate: Mapped[Decimal] = mapped_column(Cost(), default=Decimal(0))


class InventoryGroupJournal(Base):
    __tablename__ = "inventory_group_journal"
    inventory_group_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_group.id"), primary_key=True
    )
    apply_location_burden: Mapped[bool] = mapped_column(Boolean, default=False)


class JournalSettingsTable(Base):
    """The seed's registry entries for the journal (one row) and the extras' accounts."""

    __tablename__ = "journal_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serialized_additions_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    wizard_defaults_quantity_billable: Mapped[bool] = mapped_column(Boolean, default=False)
    burden_income_account_id: Mapped[int | None] = mapped_column(ForeignKey("gl_account.id"))
    use_tax_liability_account_id: Mapped[int | None] = mapped_column(ForeignKey("gl_account.id"))


class JournalTransactionTable(Base):
    __tablename__ = "journal_transaction"
    __table_args__ = (
        CheckConstraint(f"transaction_type IN ({TRANSACTION_TYPES})", name="transaction_type"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("accounting_period.id"))
    effective_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200), default="")
    # NULL: made before the type existed; reads as Adjustment.
    transaction_type: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A transaction is reversed at most once (NULLs are distinct on both backends).
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_transaction.id"), unique=True
    )


class JournalLineTable(Base):
    __tablename__ = "journal_line"
    __table_args__ = (
        UniqueConstraint("transaction_id", "line_no"),
        CheckConstraint("origin IN ('manual', 'wizard', 'reversal')", name="origin"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transaction.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    serial_number: Mapped[str] = mapped_column(String(128), default="")
    lot: Mapped[str] = mapped_column(String(128), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    unit_cost: Mapped[Decimal] = mapped_column(Cost())
    uom: Mapped[str] = mapped_column(String(16))
    burden_unit_cost: Mapped[Decimal] = mapped_column(Cost(), default=Decimal(0))
    origin: Mapped[str] = mapped_column(String(16), default="manual")


class JournalLineSide(Base):
    """A line's From/Adjust side ('from') or To side ('to'): location or job fields."""

    __tablename__ = "journal_line_side"
    __table_args__ = (
        CheckConstraint("side IN ('from', 'to')", name="side"),
        CheckConstraint("location_id IS NULL OR job_id IS NULL", name="location_or_job"),
        CheckConstraint(
            "billing_rate IS NULL OR billing_rate IN ('unit_price', 'markup')",
            name="billing_rate",
        ),
    )
    line_id: Mapped[int] = mapped_column(ForeignKey("journal_line.id"), primary_key=True)
    side: Mapped[str] = mapped_column(String(4), primary_key=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
    cost_code_id: Mapped[int | None] = mapped_column(ForeignKey("cost_code.id"))
    bill_item: Mapped[str] = mapped_column(String(64), default="")
    cost_category_id: Mapped[int | None] = mapped_column(ForeignKey("cost_category.id"))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    gl_account_id: Mapped[int | None] = mapped_column(ForeignKey("gl_account.id"))
    gl_entity_id: Mapped[int | None] = mapped_column(ForeignKey("gl_entity.id"))
    quantity_billable: Mapped[Decimal | None] = mapped_column(Quantity())
    extra: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_rate: Mapped[str | None] = mapped_column(String(16))
    revenue_rate: Mapped[Decimal | None] = mapped_column(Cost())
    unit_price: Mapped[Decimal | None] = mapped_column(Cost())
    amount_revenue: Mapped[Decimal | None] = mapped_column(Value())
    use_tax_rate: Mapped[Decimal | None] = mapped_column(Cost())


class JobHistory(Base):
    """Job history (JCH): a posted line's effect on a job, with burden and use tax in its
    material cost and the billing values a work order's Get Costs imports."""

    __tablename__ = "job_history"
    __table_args__ = (
        Index("ix_job_history_job_id_cost_code_id", "job_id", "cost_code_id"),
        Index("ix_job_history_work_order_id", "work_order_id"),
        Index("ix_job_history_transaction_id", "transaction_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transaction.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(4))
    effective_date: Mapped[date] = mapped_column(Date)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    cost_code_id: Mapped[int] = mapped_column(ForeignKey("cost_code.id"))
    cost_category_id: Mapped[int] = mapped_column(ForeignKey("cost_category.id"))
    bill_item: Mapped[str] = mapped_column(String(64), default="")
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    lot: Mapped[str] = mapped_column(String(128), default="")
    serial_number: Mapped[str] = mapped_column(String(128), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    quantity_billable: Mapped[Decimal] = mapped_column(Quantity())
    unit_cost: Mapped[Decimal] = mapped_column(Cost())  # including burden
    burden_unit_cost: Mapped[Decimal] = mapped_column(Cost())
    burden: Mapped[Decimal] = mapped_column(Value())
    use_tax: Mapped[Decimal] = mapped_column(Value())
    material_cost: Mapped[Decimal] = mapped_column(Value())
    billing_rate: Mapped[str | None] = mapped_column(String(16))
    revenue_rate: Mapped[Decimal] = mapped_column(Cost())
    unit_price: Mapped[Decimal] = mapped_column(Cost())
    amount_revenue: Mapped[Decimal] = mapped_column(Value())
    extra: Mapped[bool] = mapped_column(Boolean, default=False)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
