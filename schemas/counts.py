"""Stock counts on the wire: the count, bin counts, the reconciliation and its review,
tolerances, the Quantity Adjustment and Stock Transfer documents, finalize.

Decimals travel as strings. Bins and items are named by label and code. A blind count
answers counters and devices without `expected` (it is null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from schemas.common import Code, CostText, QuantityText, ValueText

ScopeKind = Literal["bins", "prefix", "zone", "all"]
CountStatus = Literal["open", "counting_in_process", "counted", "completed", "cancelled"]
DocumentKind = Literal["quantity_adjustment", "stock_transfer"]


class BinAssignment(msgspec.Struct, kw_only=True):
    bin: str
    device_id: int | None = None
    counter: str | None = None


class CountCreate(msgspec.Struct, kw_only=True):
    """A new count: `bins` for scope "bins", `prefix` or `zone` for those, none for "all"."""

    location: Code
    scope: ScopeKind
    bins: list[str] = msgspec.field(default_factory=list)
    prefix: str = ""
    zone: str = ""
    blind: bool = False
    assignments: list[BinAssignment] = msgspec.field(default_factory=list)


class CountBin(msgspec.Struct, kw_only=True):
    """A bin of the count. `counted`: a bin count stands for it; `recount_ordered`: the
    supervisor ordered a recount that has not arrived yet."""

    label: str
    device_id: int | None = None
    counter: str | None = None
    counted: bool = False
    expected: QuantityText | None = None  # null on blind counts for counters and devices
    recount_ordered: bool = False


class StockCount(msgspec.Struct, kw_only=True):
    number: str
    location: Code
    status: CountStatus
    status_label: str
    scope: ScopeKind
    version: int
    created_by: str
    created_at: datetime
    scope_spec: str = ""
    blind: bool = False
    started_at: datetime | None = None
    counted_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    bins: list[CountBin] = msgspec.field(default_factory=list)
    # GET /api/counts/{number} answers its bins a page at a time (`limit`, `cursor`): the
    # cursor of the next page of bins, null on the last (and where no bins are listed).
    bins_next_cursor: str | None = None


class StockCountPage(msgspec.Struct, kw_only=True):
    items: list[StockCount]
    next_cursor: str | None = None


class CountedSerial(msgspec.Struct, kw_only=True):
    item: Code
    serial: str


class CountedQuantity(msgspec.Struct, kw_only=True):
    item: Code
    quantity: QuantityText
    lot: str = ""


class BinCountSubmit(msgspec.Struct, kw_only=True):
    """One counter's complete count of one bin: every serial scanned, every keyed quantity.
    An item of the bin in neither list was counted as zero."""

    bin: str
    started_at: datetime
    finished_at: datetime
    serials: list[CountedSerial] = msgspec.field(default_factory=list)
    quantities: list[CountedQuantity] = msgspec.field(default_factory=list)


class BinCount(msgspec.Struct, kw_only=True):
    """A bin count as stored. `counter` is who counted as reconciliation names them (a
    username, or "device:<id>"); `counter_name` and `device` are for people to read."""

    id: int
    bin: str
    counter: str
    started_at: datetime
    finished_at: datetime
    device_id: int | None = None
    superseded: bool = False
    counter_name: str | None = None
    device: str | None = None


BinCountStanding = Literal["effective", "confirming", "conflicting", "replaced"]


class BinCountRef(msgspec.Struct, kw_only=True):
    """A bin count behind a line: `effective` (it counts), `confirming` (another counter's
    count that agrees with it), `conflicting` (its bin is a conflict)."""

    id: int
    bin: str
    standing: BinCountStanding
    finished_at: datetime
    counter: str | None = None  # the person, when one is known
    device: str | None = None  # the device's name


class BinCountDetail(msgspec.Struct, kw_only=True):
    """A bin count with its contents, as a supervisor compares them to pick one."""

    id: int
    bin: str
    standing: BinCountStanding
    started_at: datetime
    finished_at: datetime
    counter: str | None = None
    device: str | None = None
    device_id: int | None = None
    serials: list[CountedSerial] = msgspec.field(default_factory=list)
    quantities: list[CountedQuantity] = msgspec.field(default_factory=list)


class RecountRequest(msgspec.Struct, kw_only=True):
    bins: list[str]
    reason: str = ""


class MarkCountedRequest(msgspec.Struct, kw_only=True):
    """`override`: Counted although some bins have no effective count (left as they are)."""

    override: bool = False


class PickRequest(msgspec.Struct, kw_only=True):
    """Resolve a conflict between bin counts of a bin: this bin count is the one."""

    bin: str
    bin_count_id: int


class ApproveRequest(msgspec.Struct, kw_only=True):
    reason_code: str


class FinalizeRequest(msgspec.Struct, kw_only=True):
    """`confirm`: finalize although the count is still Counting in Process (seed 000)."""

    confirm: bool = False


class DiscrepancyLine(msgspec.Struct, kw_only=True):
    """One discrepancy with the seed's columns. `bin` is the bin the line adjusts (the
    destination of a serial transfer proposal, whose source is `from_bin`)."""

    id: str
    kind: str
    item: str
    bin: str
    system_quantity: QuantityText
    counted_quantity: QuantityText
    adjustment_quantity: QuantityText
    stock_transfer_quantity: QuantityText
    adjustment_cost: CostText
    adjustment_value: ValueText
    stock_transfer_value: ValueText
    lot: str = ""
    serial: str = ""
    from_bin: str | None = None
    bins: list[str] = msgspec.field(default_factory=list)
    counters: list[str] = msgspec.field(default_factory=list)
    note: str = ""
    adjustable: bool = True
    selected: bool = True
    needs_approval: bool = False
    approved_by: str | None = None
    reason_code: str | None = None
    item_name: str = ""
    unit_of_measure: str = ""
    bin_counts: list[BinCountRef] = msgspec.field(default_factory=list)


class BinCountConflict(msgspec.Struct, kw_only=True):
    """Bin counts of one bin that disagree; `bin_counts` has each with its contents (pick
    one by its `id`)."""

    bin: str
    bin_count_ids: list[str]
    counters: list[str]
    bin_counts: list[BinCountDetail] = msgspec.field(default_factory=list)


class Reconciliation(msgspec.Struct, kw_only=True):
    count: str
    status: CountStatus
    version: int
    counted_bins: int
    not_counted_bins: list[str]
    conflicts: list[BinCountConflict]
    matching_lines: int  # lines matching the filters (all pages)
    lines: list[DiscrepancyLine]
    next_cursor: str | None = None
    confirmed_bins: list[str] = msgspec.field(default_factory=list)  # two counters agreed

    # False when the count's location has no tolerances: every discrepancy then needs a
    # supervisor's approval (or clearing) before finalize; `notice` says so in words.
    tolerances_configured: bool = True
    notice: str | None = None


class ReviewRow(msgspec.Struct, kw_only=True):
    """A row of the Stock Count profile: an item in a bin (and lot), with the seed's
    columns over the lines finalize would adjust (selected), and every line beneath it.
    Adjustment Cost is the weighted average of the actual cost of the serials concerned."""

    item: str
    item_name: str
    unit_of_measure: str
    bin: str
    system_quantity: QuantityText
    counted_quantity: QuantityText
    adjustment_quantity: QuantityText
    stock_transfer_quantity: QuantityText
    adjustment_cost: CostText
    adjustment_value: ValueText
    stock_transfer_value: ValueText
    needs_approval: bool
    lines: list[DiscrepancyLine]
    lot: str = ""
    bin_counts: list[BinCountRef] = msgspec.field(default_factory=list)


class CountReview(msgspec.Struct, kw_only=True):
    """The Stock Count profile of a count: its rows per item and bin (filtered, paged)."""

    count: str
    status: CountStatus
    version: int
    matching_rows: int
    rows: list[ReviewRow]
    conflicts: list[BinCountConflict]
    not_counted_bins: list[str]
    next_cursor: str | None = None
    tolerances_configured: bool = True
    notice: str | None = None  # said when no tolerance is set: every line needs approval


class CountEvent(msgspec.Struct, kw_only=True):
    """Something that happened to a count: started, counted (by itself when the last bin
    was counted, or by a supervisor), recount_ordered, conflict_resolved, reopened,
    cancelled, completed."""

    at: datetime
    kind: str
    detail: str
    user: str | None = None


class CountEventList(msgspec.Struct, kw_only=True):
    items: list[CountEvent]


class Tolerances(msgspec.Struct, kw_only=True):
    """A location's tolerances; a null limit is not checked (all null: nothing automatic)."""

    quantity: QuantityText | None = None
    percent: QuantityText | None = None
    value: ValueText | None = None


class DocumentLine(msgspec.Struct, kw_only=True):
    line_no: int
    item: str
    bin: str
    adjustment_quantity: QuantityText
    stock_transfer_quantity: QuantityText
    adjustment_cost: CostText
    adjustment_value: ValueText
    stock_transfer_value: ValueText
    from_bin: str | None = None
    lot: str = ""
    serial: str = ""
    generate_serials: bool = False
    source_line_id: str = ""


class GlLine(msgspec.Struct, kw_only=True):
    line_no: int
    account: str
    amount: ValueText  # debit positive, credit negative
    entity: str | None = None


class Document(msgspec.Struct, kw_only=True):
    kind: DocumentKind
    number: str
    count: str
    location: str
    created_at: datetime
    total_value: ValueText
    lines: list[DocumentLine]
    gl_lines: list[GlLine]
    created_by: str = ""
    draft: bool = False


class DocumentList(msgspec.Struct, kw_only=True):
    items: list[Document]


class FinalizeResult(msgspec.Struct, kw_only=True):
    """The count after finalize (or the preview: `documents` are drafts, nothing posted)."""

    count: StockCount
    documents: list[Document]
    warning: str | None = None
    not_counted_bins: list[str] = msgspec.field(default_factory=list)


ReviewActionName = Literal["approve", "clear", "select"]


class ReasonCode(msgspec.Struct, kw_only=True):
    """An entry of the managed list: `kinds` the line kinds it fits (empty: every
    adjustable kind: missing, unknown, generated, serial_transfer_proposal,
    quantity_variance). Inactive codes approve nothing new."""

    code: Code
    description: str
    kinds: list[str] = msgspec.field(default_factory=list)
    active: bool = True


class ReasonCodeChange(msgspec.Struct, kw_only=True):
    """What changes (a missing field is kept). A code is never deleted: deactivate it."""

    description: str | None = None
    kinds: list[str] | None = None
    active: bool | None = None


class ReasonCodeList(msgspec.Struct, kw_only=True):
    items: list[ReasonCode]


class BulkReviewFilter(msgspec.Struct, kw_only=True):
    """Every criterion given must hold (none given: every adjustable line). `max_value`:
    the line's absolute Adjustment Value plus its Stock Transfer Value, at or under;
    `above_tolerance` true: lines that need approval, false: lines within tolerance."""

    kind: str | None = None
    bin: str | None = None
    item: str | None = None
    max_value: ValueText | None = None
    above_tolerance: bool | None = None


class BulkReviewRequest(msgspec.Struct, kw_only=True):
    """One decision on many lines, all or nothing: `line_ids` or `filter` (one of them);
    `reason_code` for approve."""

    action: ReviewActionName
    line_ids: list[str] | None = None
    filter: BulkReviewFilter | None = None
    reason_code: str = ""


class BulkReviewResult(msgspec.Struct, kw_only=True):
    """The ids of the lines the decision changed, and of those already in that state."""

    action: ReviewActionName
    changed: list[str]
    unchanged: list[str]


class UnknownBarcode(msgspec.Struct, kw_only=True):
    """A scan on a device that matched no bin, item or serial (`problem="unknown"`) or whose
    GS1 data did not parse (`"malformed"`): kept for the supervisor, never counted.
    `scanned_at`: the device's time, corrected by its clock skew."""

    id: int
    device_id: int
    device: str
    seq: int
    bin: str
    counter: str
    raw: str
    symbology: str
    problem: str
    message: str
    scanned_at: datetime
    received_at: datetime


class UnknownBarcodePage(msgspec.Struct, kw_only=True):
    items: list[UnknownBarcode]
    next_cursor: str | None = None
