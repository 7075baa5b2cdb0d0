"""The two documents finalize makes, and how each posts through the one engine.

A QuantityAdjustment line writes off or gains stock in a bin: it posts the inventory
asset account (of the item's inventory group) against the group's inventory adjustment
account. A StockTransfer line moves a serial between bins of the location: within one GL
entity the value does not change and nothing reaches the GL; between bins of different
entities the asset leaves one entity and enters the other.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from server.domain.counting.model import BinLabel, ItemCode, SerialKey
from server.domain.counting.reconciliation import DiscrepancyLine, LineKind
from server.domain.money import ZERO, extend
from server.domain.posting import (
    DocumentKind,
    GlLine,
    LineAction,
    LocationSide,
    PostingDocument,
    PostingLine,
)

QUANTITY_ADJUSTMENT = "quantity_adjustment"
STOCK_TRANSFER = "stock_transfer"
DOCUMENT_KINDS = (QUANTITY_ADJUSTMENT, STOCK_TRANSFER)
_NUMBER_PREFIXES = {QUANTITY_ADJUSTMENT: "QA", STOCK_TRANSFER: "ST"}


def document_number(kind: str, count: str) -> str:
    """A count has one document of each kind (UNIQUE in the database): its number is
    the kind's prefix and the count's number, QA-SC000001 and ST-SC000001."""
    return f"{_NUMBER_PREFIXES[kind]}-{count}"


def generated_serial_prefix(count: str) -> str:
    """Serial numbers finalize generates for an auto-serialized item start with this."""
    return f"{count}-G"


def generated_serials(count: str, taken: Collection[SerialKey]) -> Callable[[ItemCode], str]:
    """Generated serial numbers: the count's prefix and a sequence, skipping numbers the
    item already has (`taken`), the same in the preview and in finalize (both post the
    same lines in the same order)."""
    prefix = generated_serial_prefix(count)
    sequence = iter(range(1, 10**9))

    def new_serial(item: ItemCode) -> str:
        while True:
            number = f"{prefix}{next(sequence):06d}"
            if (item, number) not in taken:
                return number

    return new_serial


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """A line of either document as it is stored and shown: a Quantity Adjustment line
    has an adjustment quantity and value, a Stock Transfer line a `from_bin`, a transfer
    quantity of 1 and a transfer value; `adjustment_cost` is the unit cost of both."""

    line_no: int
    source_line_id: str
    item: ItemCode
    bin: BinLabel
    from_bin: BinLabel | None
    lot: str
    serial: str
    generate_serials: bool
    adjustment_quantity: Decimal
    stock_transfer_quantity: Decimal
    adjustment_cost: Decimal
    adjustment_value: Decimal
    stock_transfer_value: Decimal


@dataclass(frozen=True, slots=True)
class CountDocument:
    """A Quantity Adjustment or Stock Transfer of a count with its GL lines: what
    finalize writes and answers, what the preview shows, what is read back later."""

    kind: str
    number: str
    count: str
    location: str
    created_by: str
    created_at: datetime
    total_value: Decimal
    lines: tuple[DocumentLine, ...]
    gl_lines: tuple[GlLine, ...]


@dataclass(frozen=True, slots=True)
class QuantityAdjustmentLine:
    line_no: int
    source_line_id: str  # the DiscrepancyLine it adjusts
    item: ItemCode
    bin: BinLabel
    lot: str
    serial: str
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal
    generate_serials: bool = False


@dataclass(frozen=True, slots=True)
class QuantityAdjustment:
    count: str
    location: str
    lines: tuple[QuantityAdjustmentLine, ...]

    @property
    def total_value(self) -> Decimal:
        return sum((x.value for x in self.lines), ZERO)

    def document(
        self, created_by: str, created_at: datetime, gl_lines: tuple[GlLine, ...]
    ) -> CountDocument:
        lines = tuple(
            DocumentLine(
                line_no=x.line_no,
                source_line_id=x.source_line_id,
                item=x.item,
                bin=x.bin,
                from_bin=None,
                lot=x.lot,
                serial=x.serial,
                generate_serials=x.generate_serials,
                adjustment_quantity=x.quantity,
                stock_transfer_quantity=ZERO,
                adjustment_cost=x.unit_cost,
                adjustment_value=x.value,
                stock_transfer_value=ZERO,
            )
            for x in self.lines
        )
        return CountDocument(
            QUANTITY_ADJUSTMENT, document_number(QUANTITY_ADJUSTMENT, self.count), self.count,
            self.location, created_by, created_at, self.total_value, lines, gl_lines,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StockTransferLine:
    line_no: int
    source_line_id: str  # the SerialTransferProposal it carries out
    item: ItemCode
    serial: str
    from_bin: BinLabel
    to_bin: BinLabel
    unit_cost: Decimal  # the serial's actual cost
    value: Decimal


@dataclass(frozen=True, slots=True)
class StockTransfer:
    count: str
    location: str
    lines: tuple[StockTransferLine, ...]

    @property
    def total_value(self) -> Decimal:
        return sum((x.value for x in self.lines), ZERO)

    def document(
        self, created_by: str, created_at: datetime, gl_lines: tuple[GlLine, ...]
    ) -> CountDocument:
        lines = tuple(
            DocumentLine(
                line_no=x.line_no,
                source_line_id=x.source_line_id,
                item=x.item,
                bin=x.to_bin,
                from_bin=x.from_bin,
                lot="",
                serial=x.serial,
                generate_serials=False,
                adjustment_quantity=ZERO,
                stock_transfer_quantity=Decimal(1),
                adjustment_cost=x.unit_cost,
                adjustment_value=ZERO,
                stock_transfer_value=x.value,
            )
            for x in self.lines
        )
        return CountDocument(
            STOCK_TRANSFER, document_number(STOCK_TRANSFER, self.count), self.count,
            self.location, created_by, created_at, self.total_value, lines, gl_lines,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ItemAccounts:
    """The GL accounts of an item's inventory group; None where the group has none."""

    inventory_account: str | None = None
    adjustment_account: str | None = None


@dataclass(frozen=True, slots=True)
class GlSetup:
    """Where a count's postings go: accounts per item, GL entity per bin.

    A bin not in `bin_entities` takes `default_entity` (the location's GL entity, else
    the inventory group's: the service resolves that default as seed 004 describes).
    """

    accounts: Mapping[ItemCode, ItemAccounts] = field(default_factory=dict)
    bin_entities: Mapping[BinLabel, str | None] = field(default_factory=dict)
    default_entity: str | None = None

    def entity(self, label: BinLabel) -> str | None:
        return self.bin_entities.get(label, self.default_entity)


def build_documents(
    count: str, location: str, lines: Iterable[DiscrepancyLine]
) -> tuple[QuantityAdjustment, StockTransfer]:
    """The QuantityAdjustment and StockTransfer of the lines finalize posts (already
    reviewed: see review.lines_to_adjust). Exceptions and conflicts never get here."""
    adjustments: list[QuantityAdjustmentLine] = []
    transfers: list[StockTransferLine] = []
    for line in lines:
        if line.kind is LineKind.SERIAL_TRANSFER:
            assert line.from_bin is not None
            transfers.append(
                StockTransferLine(
                    line_no=len(transfers) + 1,
                    source_line_id=line.id,
                    item=line.item,
                    serial=line.serial,
                    from_bin=line.from_bin,
                    to_bin=line.bin,
                    unit_cost=line.adjustment_cost,
                    value=line.stock_transfer_value,
                )
            )
        elif line.adjustable and line.adjustment_quantity != ZERO:
            adjustments.append(
                QuantityAdjustmentLine(
                    line_no=len(adjustments) + 1,
                    source_line_id=line.id,
                    item=line.item,
                    bin=line.bin,
                    lot=line.lot,
                    serial=line.serial,
                    quantity=line.adjustment_quantity,
                    unit_cost=line.adjustment_cost,
                    value=extend(line.adjustment_quantity, line.adjustment_cost),
                    generate_serials=line.kind is LineKind.GENERATED,
                )
            )
    return (
        QuantityAdjustment(count, location, tuple(adjustments)),
        StockTransfer(count, location, tuple(transfers)),
    )


def quantity_adjustment_posting(doc: QuantityAdjustment, gl: GlSetup) -> PostingDocument:
    """Each line adjusts its bin. As in the journal, a positive quantity credits the
    From/Adjust side's account (the adjustment account) and debits the To side's (the
    inventory asset); a write-off's negative quantity flips both."""
    lines = []
    for x in doc.lines:
        accounts = gl.accounts.get(x.item, ItemAccounts())
        entity = gl.entity(x.bin)
        lines.append(
            PostingLine(
                line_no=x.line_no,
                action=LineAction.ADJUSTMENT,
                item=x.item,
                quantity=x.quantity,
                unit_cost=x.unit_cost,
                from_side=LocationSide(doc.location, x.bin, accounts.adjustment_account, entity),
                to_side=LocationSide(doc.location, x.bin, accounts.inventory_account, entity),
                lot=x.lot,
                serial=x.serial,
                generate_serials=x.generate_serials,
            )
        )
    return PostingDocument(DocumentKind.QUANTITY_ADJUSTMENT, doc.count, tuple(lines))


def stock_transfer_posting(doc: StockTransfer, gl: GlSetup) -> PostingDocument:
    lines = []
    for x in doc.lines:
        account = gl.accounts.get(x.item, ItemAccounts()).inventory_account
        lines.append(
            PostingLine(
                line_no=x.line_no,
                action=LineAction.TRANSFER,
                item=x.item,
                quantity=Decimal(1),
                unit_cost=x.unit_cost,
                from_side=LocationSide(doc.location, x.from_bin, account, gl.entity(x.from_bin)),
                to_side=LocationSide(doc.location, x.to_bin, account, gl.entity(x.to_bin)),
                serial=x.serial,
            )
        )
    return PostingDocument(DocumentKind.STOCK_TRANSFER, doc.count, tuple(lines))
