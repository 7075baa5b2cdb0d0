"""The Inventory Adjustment Journal on the wire (seed 004): a transaction to save, the
saved transaction read back, its GL history (the seed's GLH tab), its job history, and
a reversal request.

A side names a location (and bin) or a job (cost code, bill item, cost category, work
order, equipment), never both. In `gl_account` and `gl_entity`, null (or absent) asks for
the default and "" blanks the field. Decimals travel as strings.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from schemas.common import Code, CostText, FieldProblem, Name, QuantityText, ValueText

TransactionType = Literal["loc_to_loc", "loc_to_job", "job_to_job", "job_to_loc", "adjustment"]
BillingRate = Literal["unit_price", "markup"]
LineOrigin = Literal["manual", "wizard", "reversal"]


class JobBilling(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A job side's billing fields; null ones are defaulted. `use_tax_rate` is read only."""

    quantity_billable: QuantityText | None = None
    extra: bool = False
    billing_rate: BillingRate | None = None
    revenue_rate: CostText | None = None
    unit_price: CostText | None = None
    amount_revenue: ValueText | None = None
    use_tax_rate: CostText | None = None


class JournalSide(msgspec.Struct, kw_only=True, omit_defaults=True):
    location: str = ""
    bin: str | None = None
    job: str = ""
    cost_code: str = ""
    bill_item: str = ""
    cost_category: str = ""
    work_order: str = ""
    equipment: str = ""
    gl_account: str | None = None
    gl_entity: str | None = None
    billing: JobBilling | None = None


class JournalLineCreate(msgspec.Struct, kw_only=True):
    line_no: int
    item: Code
    quantity: QuantityText
    from_side: JournalSide
    to_side: JournalSide | None = None
    serial: str = ""
    lot: str = ""
    unit_cost: CostText | None = None  # null: the location's cost, else the item's last
    # "wizard" on the lines of a Fill Lines draft: checked against job history on save.
    origin: LineOrigin = "manual"
    burden_unit_cost: CostText | None = None  # wizard lines only: the original's


class JournalTransactionCreate(msgspec.Struct, kw_only=True):
    effective_date: date
    transaction_type: TransactionType
    lines: list[JournalLineCreate]
    period: str | None = None  # null: the period holding the effective date
    description: str = ""


class JournalLine(msgspec.Struct, kw_only=True):
    line_no: int
    item: str
    quantity: QuantityText
    unit_cost: CostText
    uom: str
    burden_unit_cost: CostText
    from_side: JournalSide
    to_side: JournalSide | None = None
    serial: str = ""
    lot: str = ""
    origin: LineOrigin = "manual"


class JournalTransaction(msgspec.Struct, kw_only=True):
    transaction_id: str
    effective_date: date
    transaction_type: TransactionType
    user_id: str
    date_posted: datetime
    lines: list[JournalLine]
    period: str | None = None
    description: str = ""
    reverses: str | None = None
    reversed_by: str | None = None
    # Shown, not stopping the save: e.g. an effective date after a job's date closed.
    warnings: list[FieldProblem] = msgspec.field(default_factory=list)


class JournalReverse(msgspec.Struct, kw_only=True):
    effective_date: date
    period: str | None = None
    description: str | None = None


class GlHistoryLine(msgspec.Struct, kw_only=True):
    account: str
    account_name: str
    journal: str
    transaction_id: str
    date: date
    line_no: int
    debit: ValueText
    credit: ValueText
    entity: str | None = None
    period: str | None = None
    company: str | None = None
    intercompany: bool = False


class GlHistory(msgspec.Struct, kw_only=True):
    transaction_id: str
    count: int
    total_debit: ValueText
    total_credit: ValueText
    lines: list[GlHistoryLine]


class JobHistoryLine(msgspec.Struct, kw_only=True):
    line_no: int
    side: Literal["from", "to"]
    job: str
    cost_code: str
    cost_category: str
    item: str
    quantity: QuantityText
    quantity_billable: QuantityText
    unit_cost: CostText
    burden: ValueText
    use_tax: ValueText
    material_cost: ValueText
    unit_price: CostText
    amount_revenue: ValueText
    work_order: str | None = None
    equipment: str | None = None
    billing_rate: BillingRate | None = None
    extra: bool = False


class JobHistory(msgspec.Struct, kw_only=True):
    transaction_id: str
    lines: list[JobHistoryLine]


class TransactionSummary(msgspec.Struct, kw_only=True):
    """A saved transaction's header in a list."""

    transaction_id: str
    effective_date: date
    transaction_type: TransactionType
    user_id: str
    date_posted: datetime
    line_count: int
    period: str | None = None
    description: str = ""
    reverses: str | None = None


class TransactionPage(msgspec.Struct, kw_only=True):
    items: list[TransactionSummary]
    next_cursor: str | None = None


class ReturnToLocation(msgspec.Struct, kw_only=True):
    """The Job-to-Loc Fill Lines wizard: what is still on a job (or one of its work orders)
    back to a location's bin."""

    job: str
    location: str
    bin: str
    effective_date: date
    work_order: str | None = None


class MoveLocation(msgspec.Struct, kw_only=True):
    """The Loc-to-Loc Fill Lines wizard: all stock of `source` into a bin of `target`."""

    source: str
    target: str
    target_bin: str
    effective_date: date


class WorkOrderCost(msgspec.Struct, kw_only=True):
    """A journal line on a work order as its Get Costs imports it (job history)."""

    transaction_id: str
    effective_date: date
    line_no: int
    item: str
    cost_code: str
    cost_category: str
    quantity: QuantityText
    quantity_billable: QuantityText
    unit_cost: CostText
    burden: ValueText
    use_tax: ValueText
    material_cost: ValueText
    unit_price: CostText
    amount_revenue: ValueText
    lot: str = ""
    serial: str = ""
    equipment: str | None = None
    billing_rate: BillingRate | None = None
    extra: bool = False


class WorkOrderCosts(msgspec.Struct, kw_only=True):
    work_order: str
    job: str
    lines: list[WorkOrderCost]


# The journal's master data: fields as in the import format (docs/IMPORT_FORMAT.md).
CostType = Literal["material", "equipment", "labor", "subcontract", "other"]
BillingType = Literal["time_and_materials", "fixed_fee", "allow_extra_billing"]


class AccountingPeriod(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    starts: date
    ends: date
    closed: bool = False


class CostCategory(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    selection_cost_type: CostType
    expense_account: str | None = None


class Job(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    company: str
    billing_type: BillingType = "time_and_materials"
    # A price level's code ("price_level" on the wire): an identifier, not money.
    price_level_code: str | None = msgspec.field(default=None, name="price_level")
    rate_schedule: str | None = None
    date_closed: date | None = None
    use_tax_rate: CostText = Decimal(0)


class CostCode(msgspec.Struct, kw_only=True):
    job: str
    code: Code
    name: Name
    gl_entity: str | None = None
    allowed_categories: list[str] = msgspec.field(default_factory=list)


class WorkOrder(msgspec.Struct, kw_only=True):
    code: Code
    job: str
    equipment: str | None = None
    cost_code: str | None = None
    cost_category: str | None = None


class AccountingPeriodPage(msgspec.Struct, kw_only=True):
    items: list[AccountingPeriod]
    next_cursor: str | None = None


class CostCategoryPage(msgspec.Struct, kw_only=True):
    items: list[CostCategory]
    next_cursor: str | None = None


class JobPage(msgspec.Struct, kw_only=True):
    items: list[Job]
    next_cursor: str | None = None


class CostCodePage(msgspec.Struct, kw_only=True):
    items: list[CostCode]
    next_cursor: str | None = None


class WorkOrderPage(msgspec.Struct, kw_only=True):
    items: list[WorkOrder]
    next_cursor: str | None = None


class JournalSettings(msgspec.Struct, kw_only=True):
    """The journal's registry settings (seed 004) and the accounts its extras post to."""

    serialized_additions_allowed: bool = False
    wizard_defaults_quantity_billable: bool = False
    burden_income_account: str | None = None
    use_tax_liability_account: str | None = None


class JournalSettingsChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """PATCH: the settings to change; a field left out stays as it is. An account's null
    blanks it."""

    serialized_additions_allowed: bool | msgspec.UnsetType = msgspec.UNSET
    wizard_defaults_quantity_billable: bool | msgspec.UnsetType = msgspec.UNSET
    burden_income_account: str | msgspec.UnsetType | None = msgspec.UNSET
    use_tax_liability_account: str | msgspec.UnsetType | None = msgspec.UNSET


SourceKind = Literal["journal_transaction", "quantity_adjustment", "stock_transfer"]


class InventoryHistoryLine(msgspec.Struct, kw_only=True):
    """A stock movement of an item at a location (and bin) or at a job. On a location
    line of a Loc-to-Job or Job-to-Loc transaction, job, cost code, cost category and work
    order are the job side's references (seed 004: posted "for informational purposes")."""

    date: date
    posted_at: datetime
    item: str
    item_name: str
    uom: str
    place: Literal["location", "job"]
    quantity: QuantityText  # signed: into the place positive, out of it negative
    unit_cost: CostText
    value: ValueText
    source: SourceKind
    source_number: str  # the journal's Transaction Id, or the count document's number
    line_no: int
    location: str | None = None
    bin: str | None = None
    job: str | None = None
    cost_code: str | None = None
    cost_category: str | None = None
    work_order: str | None = None
    transaction_type: TransactionType | None = None
    lot: str = ""
    serial: str = ""


class InventoryHistoryPage(msgspec.Struct, kw_only=True):
    items: list[InventoryHistoryLine]
    next_cursor: str | None = None
