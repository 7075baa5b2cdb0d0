"""Master data on the wire: one struct per record, used to create it and to read it back.

Records refer to each other by code (location, bin label, item code), never by database id,
so that files, devices and other systems can name them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from schemas.common import Code, CostText, Name, QuantityText

Tracking = Literal["none", "lot", "serial"]
BinKind = Literal["stock", "out"]
Barcode = str


class Company(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    intercompany: bool = False


class GlEntity(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    company: Code


class GlAccount(msgspec.Struct, kw_only=True):
    code: Code
    name: Name


class InventoryGroup(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    inventory_account: Code | None = None
    adjustment_account: Code | None = None
    gl_entity: Code | None = None


class Location(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    company: Code
    gl_entity: Code | None = None


class Bin(msgspec.Struct, kw_only=True):
    location: Code
    label: Barcode
    kind: BinKind = "stock"
    zone: str = ""


class Item(msgspec.Struct, kw_only=True):
    code: Code
    name: Name
    tracking: Tracking
    auto_serialized: bool = False
    uom: str = "EA"
    last_cost: CostText = msgspec.field(default_factory=lambda: CostText(0))
    inventory_group: Code | None = None
    barcodes: list[Barcode] = msgspec.field(default_factory=list)
    # "measure": counted by weight or length; a device asks for a keyed quantity
    count_mode: Literal["unit", "measure"] = "unit"


class Serial(msgspec.Struct, kw_only=True):
    """A serial to create: it is put in a bin of a location."""

    item: Code
    serial_number: str
    location: Code
    bin: Barcode
    actual_cost: CostText


class SerialRecord(msgspec.Struct, kw_only=True):
    """A serial as the server holds it, read back. A serial that left the stock (posted out
    by a document) is in no bin: its `location` and `bin` are then null, never ""."""

    item: Code
    serial_number: str
    location: Code | None
    bin: Barcode | None
    actual_cost: CostText


class OpeningStock(msgspec.Struct, kw_only=True):
    """Opening quantity of an untracked or lot item in a bin, at a unit cost."""

    item: Code
    location: Code
    bin: Barcode
    quantity: QuantityText
    unit_cost: CostText
    lot: str = ""


class StockBalance(msgspec.Struct, kw_only=True):
    """What the books hold of an item in a bin (serialized items: the count of serials)."""

    item: Code
    location: Code
    bin: Barcode
    lot: str
    quantity: QuantityText
    average_cost: CostText


class CompanyPage(msgspec.Struct, kw_only=True):
    items: list[Company]
    next_cursor: str | None = None


class GlEntityPage(msgspec.Struct, kw_only=True):
    items: list[GlEntity]
    next_cursor: str | None = None


class GlAccountPage(msgspec.Struct, kw_only=True):
    items: list[GlAccount]
    next_cursor: str | None = None


class InventoryGroupPage(msgspec.Struct, kw_only=True):
    items: list[InventoryGroup]
    next_cursor: str | None = None


class LocationPage(msgspec.Struct, kw_only=True):
    items: list[Location]
    next_cursor: str | None = None


class BinPage(msgspec.Struct, kw_only=True):
    items: list[Bin]
    next_cursor: str | None = None


class ItemPage(msgspec.Struct, kw_only=True):
    items: list[Item]
    next_cursor: str | None = None


class SerialPage(msgspec.Struct, kw_only=True):
    items: list[SerialRecord]
    next_cursor: str | None = None


class StockBalancePage(msgspec.Struct, kw_only=True):
    items: list[StockBalance]
    next_cursor: str | None = None


ImportKind = Literal[
    "companies",
    "gl_entities",
    "gl_accounts",
    "inventory_groups",
    "locations",
    "bins",
    "items",
    "serials",
    "opening_stock",
]


class ImportResult(msgspec.Struct, kw_only=True):
    """What one import stored: every row of every kind, or (on any error) nothing.

    `rows`: records created per kind. An update import (`?mode=update`) also answers the
    records it changed (`updated`) and the rows that matched a stored record exactly
    (`unchanged`) per kind, and the `import_id` its change log rows carry."""

    source: str
    rows: dict[str, int]
    seconds: float = 0.0
    updated: dict[str, int] = msgspec.field(default_factory=dict)
    unchanged: dict[str, int] = msgspec.field(default_factory=dict)
    import_id: str | None = None


ImportMode = Literal["create", "update"]


class MasterDataChange(msgspec.Struct, kw_only=True):
    """One field of an existing record that an update import changed.

    `code` is the record's code (a bin's label, a serial's number); `parent_code` the
    location of a bin or the item of a serial, "" for other kinds. Values are text as the
    import format writes them (decimals plain, barcodes `a|b`), null for none: `old` before
    the import, `new` after it. `source`
    names the file and row the change came from."""

    id: int
    kind: str
    code: str
    parent_code: str
    field: str
    old: str | None
    new: str | None
    changed_by: str
    changed_at: datetime
    import_id: str
    source: str


class MasterDataChangePage(msgspec.Struct, kw_only=True):
    items: list[MasterDataChange]
    next_cursor: str | None = None
