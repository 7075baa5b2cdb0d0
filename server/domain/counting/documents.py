"""The two documents finalize makes, and how each posts through the one engine.

A QuantityAdjustment line writes off or gains stock in a bin: it posts the inventory
asset account (of the item's inventory group) against the group's inventory adjustment
account. A StockTransfer line moves a serial between bins of the location: within one GL
entity the value does not change and nothing reaches the GL; between bins of different
entities the asset leaves one entity and enters the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from server.domain.counting.model import BinLabel, ItemCode
from server.domain.counting.reconciliation import DiscrepancyLine, LineKind
from server.domain.money import ZERO, extend
from server.domain.posting import (
    DocumentKind,
    LineAction,
    LocationSide,
    PostingDocument,
    PostingLine,
)


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
