"""What the journal rules need to know of master data and stock, as plain values.

The service loads the facts a transaction refers to (one query per kind, not per line)
and hands them to `prepare`; the rules never do I/O. A reference missing from these
mappings is an unknown record, and the rules say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from server.domain.masterdata import Tracking
from server.domain.money import ZERO
from server.domain.posting import Position, PositionKey


class SelectionCostType(StrEnum):
    """A cost category's selection cost type. The journal accepts Equipment and Material."""

    MATERIAL = "material"
    EQUIPMENT = "equipment"
    LABOR = "labor"
    SUBCONTRACT = "subcontract"
    OTHER = "other"


JOURNAL_COST_TYPES = frozenset({SelectionCostType.MATERIAL, SelectionCostType.EQUIPMENT})


class JobBillingType(StrEnum):
    TIME_AND_MATERIALS = "time_and_materials"
    FIXED_FEE = "fixed_fee"
    ALLOW_EXTRA_BILLING = "allow_extra_billing"

    @property
    def bills_extras_only(self) -> bool:
        """Fixed Fee and Allow Extra Billing jobs earn revenue only on lines flagged Extra."""
        return self is not JobBillingType.TIME_AND_MATERIALS


@dataclass(frozen=True, slots=True)
class ItemFacts:
    code: str
    tracking: Tracking
    uom: str = "EA"
    last_cost: Decimal = ZERO
    inventory_group: str | None = None
    use_unit_prices: bool = False
    burden_rate: Decimal = ZERO  # percent of the unit cost


@dataclass(frozen=True, slots=True)
class InventoryGroupFacts:
    code: str
    inventory_account: str | None = None  # the inventory asset account
    adjustment_account: str | None = None
    gl_entity: str | None = None
    apply_location_burden: bool = False


@dataclass(frozen=True, slots=True)
class LocationFacts:
    code: str
    company: str
    gl_entity: str | None = None
    burden_rate: Decimal = ZERO  # percent


@dataclass(frozen=True, slots=True)
class JobFacts:
    code: str
    company: str
    billing_type: JobBillingType = JobBillingType.TIME_AND_MATERIALS
    price_level: str | None = None
    rate_schedule: str | None = None
    date_closed: date | None = None
    use_tax_rate: Decimal = ZERO  # percent of material cost


@dataclass(frozen=True, slots=True)
class CostCodeFacts:
    job: str
    code: str
    gl_entity: str | None = None
    # The Job Cost Category Usage Filter: the categories allowed on this cost code;
    # empty allows every category (that the journal accepts).
    allowed_categories: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CostCategoryFacts:
    code: str
    selection_cost_type: SelectionCostType
    expense_account: str | None = None  # e.g. COS Material


@dataclass(frozen=True, slots=True)
class WorkOrderFacts:
    code: str
    job: str
    equipment: str = ""
    cost_code: str = ""
    cost_category: str = ""


@dataclass(frozen=True, slots=True)
class PeriodFacts:
    code: str
    starts: date
    ends: date  # inclusive
    closed: bool = False


@dataclass(frozen=True, slots=True)
class SerialFacts:
    """A serial's actual cost and, while it is in stock, its location and bin."""

    item: str
    serial: str
    actual_cost: Decimal
    location: str | None = None
    bin: str | None = None


@dataclass(frozen=True, slots=True)
class JournalSettings:
    """The seed's registry entries for this journal, and the accounts its extras post to."""

    serialized_additions_allowed: bool = False
    wizard_defaults_quantity_billable: bool = False
    burden_income_account: str | None = None
    use_tax_liability_account: str | None = None


@dataclass(frozen=True, slots=True)
class JournalFacts:
    items: Mapping[str, ItemFacts] = field(default_factory=dict)
    inventory_groups: Mapping[str, InventoryGroupFacts] = field(default_factory=dict)
    locations: Mapping[str, LocationFacts] = field(default_factory=dict)
    bins: frozenset[tuple[str, str]] = frozenset()  # (location, bin label)
    jobs: Mapping[str, JobFacts] = field(default_factory=dict)
    cost_codes: Mapping[tuple[str, str], CostCodeFacts] = field(default_factory=dict)
    cost_categories: Mapping[str, CostCategoryFacts] = field(default_factory=dict)
    work_orders: Mapping[str, WorkOrderFacts] = field(default_factory=dict)
    equipment: frozenset[str] = frozenset()
    gl_accounts: frozenset[str] = frozenset()
    gl_entities: Mapping[str, str] = field(default_factory=dict)  # entity -> company
    intercompany: Mapping[str, bool] = field(default_factory=dict)  # company -> enabled
    periods: Mapping[str, PeriodFacts] = field(default_factory=dict)
    # Price level -> item -> unit price; rate schedule -> material markup percent.
    price_levels: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    rate_schedules: Mapping[str, Decimal] = field(default_factory=dict)
    positions: Mapping[PositionKey, Position] = field(default_factory=dict)
    serials: Mapping[tuple[str, str], SerialFacts] = field(default_factory=dict)
    settings: JournalSettings = field(default_factory=JournalSettings)

    def group_of(self, item: str) -> InventoryGroupFacts | None:
        facts = self.items.get(item)
        if facts is None or facts.inventory_group is None:
            return None
        return self.inventory_groups.get(facts.inventory_group)

    def company_of_side(self, location: str, job: str) -> str | None:
        if location:
            place = self.locations.get(location)
            return place.company if place else None
        if job:
            found = self.jobs.get(job)
            return found.company if found else None
        return None
