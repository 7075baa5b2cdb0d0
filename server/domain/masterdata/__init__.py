"""Master data as the domain sees it: locations, bins, items, serials, opening stock.

Plain frozen dataclasses and the rules that make a record valid. Persistence and the
wire formats map to and from these; the importer validates every row through them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from server.domain.money import ZERO, check_cost, check_quantity


class Tracking(StrEnum):
    NONE = "none"
    LOT = "lot"
    SERIAL = "serial"


class BinKind(StrEnum):
    STOCK = "stock"
    OUT = "out"  # holds released items: their serials cannot be selected or transferred


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    COUNTER = "counter"
    FINANCE = "finance"  # reads documents, GL and Inventory History; changes nothing


CODE_MAX = 64
NAME_MAX = 200
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$")
# Barcodes carry printable ASCII only; no control characters (a GS separator is parsed
# out before a label reaches master data).
_BARCODE = re.compile(r"^[\x21-\x7e]+$")


def check_code(value: str, what: str = "code") -> str:
    """Codes identify records on the wire and in imports: short, no spaces."""
    value = value.strip()
    if not value:
        raise ValueError(f"{what} is empty")
    if len(value) > CODE_MAX:
        raise ValueError(f"{what} is longer than {CODE_MAX} characters")
    if not _CODE.match(value):
        raise ValueError(f"{what} {value!r} may hold only letters, digits and . _ / - (no spaces)")
    return value


def check_name(value: str, what: str = "name") -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{what} is empty")
    if len(value) > NAME_MAX:
        raise ValueError(f"{what} is longer than {NAME_MAX} characters")
    return value


def check_barcode(value: str, what: str = "barcode") -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{what} is empty")
    if len(value) > 128 or not _BARCODE.match(value):
        raise ValueError(f"{what} {value!r} must be 1 to 128 printable characters, no spaces")
    return value


def check_on_hand_quantity(value: Decimal, what: str = "quantity") -> Decimal:
    check_quantity(value, what)
    if value < ZERO:
        raise ValueError(f"{what} must not be negative")
    return value


def check_unit_cost(value: Decimal, what: str = "cost") -> Decimal:
    check_cost(value, what)
    if value < ZERO:
        raise ValueError(f"{what} must not be negative")
    return value


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name: str
    tracking: Tracking
    auto_serialized: bool = False
    uom: str = "EA"
    last_cost: Decimal = ZERO
    inventory_group: str | None = None

    def __post_init__(self) -> None:
        if self.auto_serialized and self.tracking is not Tracking.SERIAL:
            raise ValueError("only a serial-tracked item can be auto-serialized")


@dataclass(frozen=True, slots=True)
class OpeningStock:
    """Quantity of an untracked or lot item in a bin at a cost, before counting starts."""

    item_tracking: Tracking
    quantity: Decimal
    lot: str

    def __post_init__(self) -> None:
        if self.item_tracking is Tracking.SERIAL:
            raise ValueError(
                "serialized items take their stock from serial numbers: import serials"
            )
        if self.item_tracking is Tracking.LOT and not self.lot:
            raise ValueError("a lot-tracked item needs a lot")
        if self.item_tracking is Tracking.NONE and self.lot:
            raise ValueError("an untracked item has no lot")
