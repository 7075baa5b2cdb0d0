"""The Inventory Adjustment Journal (seed 004): the transaction and its lines (model), the
master data the rules read (facts), the defaults, the validation, the conversion into a
posting document and job history (documents), the opposite transaction (reverse), and
the Fill Lines wizards' drafts (wizards), and changes to the registry settings
(settings).

A save is: `prepare` (defaults + validation, warnings back), `stamp` (id, user, date
posted), then `posting_document` through `server.domain.posting.post`, and `job_history`.
"""

from server.domain.journal.defaults import apply_defaults, burden_unit_cost
from server.domain.journal.documents import (
    JobHistoryEntry,
    PreparedTransaction,
    job_history,
    posting_document,
    prepare,
)
from server.domain.journal.facts import (
    CostCategoryFacts,
    CostCodeFacts,
    InventoryGroupFacts,
    ItemFacts,
    JobBillingType,
    JobFacts,
    JournalFacts,
    JournalSettings,
    LocationFacts,
    PeriodFacts,
    SelectionCostType,
    SerialFacts,
    WorkOrderFacts,
)
from server.domain.journal.model import (
    JOURNAL,
    BillingRate,
    JobBilling,
    JournalLine,
    JournalSide,
    JournalTransaction,
    JournalWarning,
    LineOrigin,
    SideKind,
    TransactionType,
    stamp,
)
from server.domain.journal.reverse import reverse
from server.domain.journal.settings import change_settings
from server.domain.journal.validation import check_input, validate
from server.domain.journal.wizards import (
    JobCostRecord,
    StockRecord,
    check_origins,
    location_to_location,
    return_to_location,
)

__all__ = [
    "JOURNAL",
    "BillingRate",
    "CostCategoryFacts",
    "CostCodeFacts",
    "InventoryGroupFacts",
    "ItemFacts",
    "JobBilling",
    "JobBillingType",
    "JobCostRecord",
    "JobFacts",
    "JobHistoryEntry",
    "JournalFacts",
    "JournalLine",
    "JournalSettings",
    "JournalSide",
    "JournalTransaction",
    "JournalWarning",
    "LineOrigin",
    "LocationFacts",
    "PeriodFacts",
    "PreparedTransaction",
    "SelectionCostType",
    "SerialFacts",
    "SideKind",
    "StockRecord",
    "TransactionType",
    "WorkOrderFacts",
    "apply_defaults",
    "burden_unit_cost",
    "change_settings",
    "check_input",
    "check_origins",
    "job_history",
    "location_to_location",
    "posting_document",
    "prepare",
    "return_to_location",
    "reverse",
    "stamp",
    "validate",
]
