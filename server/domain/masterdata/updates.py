"""What an update import may change in a record that exists, and what it must refuse. Pure.

`stockcount import --update` (and `POST /api/imports?mode=update`) updates records by
code: a row whose key exists compares field by field with the stored record. Only the
fields the row gives count (a CSV column, a JSON key): a field the source leaves out
keeps its stored value, so an ERP can send only what it manages. A row that changes
nothing logs nothing.

Refused, because history depends on them (docs/IMPORT_FORMAT.md, "Updates"):
- the company of a GL entity or a location (its postings were made in that company);
- an item's tracking or unit of measure once it has stock or serials (the quantities on
  hand and every serial's history are in those terms);
- a bin's kind or zone while a stock count in process freezes it (the count's scope
  and snapshot were taken with them);
- a serial's location, bin or actual cost: moving a serial is a stock movement and its
  actual cost is what its postings carried (the journal does both, with GL postings).

Reason codes update freely (description, kinds, active): approvals keep the code they
name, and a deactivated code only approves nothing new. The row's checks (known kinds
that can be approved) are those of any import.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import Enum
from typing import Final, TypeVar

from server.domain.masterdata import Item
from server.domain.masterdata.imports import ItemRow, Row

R = TypeVar("R", bound=Row)

# The kinds an update import updates; other kinds refuse an existing key as before.
UPDATABLE_KINDS: Final = (
    "companies",
    "gl_accounts",
    "gl_entities",
    "inventory_groups",
    "locations",
    "bins",
    "items",
    "serials",
    "reason_codes",
)
# The fields that identify a record: never compared (the row found the record by them).
KEY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "bins": ("location", "label"),
    "serials": ("item", "serial_number"),
}
_JOURNAL = "post it in the Inventory Adjustment Journal (POST /api/journal/transactions)"
# Fields that never change by import, and why.
FIXED: Final[dict[tuple[str, str], str]] = {
    ("gl_entities", "company"): "a GL entity's company cannot change: its postings belong to it",
    ("locations", "company"): "a location's company cannot change: its stock and postings "
    "belong to it",
    ("serials", "location"): f"moving a serial is a stock movement, not master data: {_JOURNAL}",
    ("serials", "bin"): f"moving a serial is a stock movement, not master data: {_JOURNAL}",
    ("serials", "actual_cost"): "a serial's actual cost is the cost its postings carried and "
    f"cannot be rewritten; to revalue it, write it off and add it back at the new cost: {_JOURNAL}",
}
# Fields that cannot change once the item has stock or serials.
NEEDS_NO_STOCK: Final[dict[str, tuple[str, ...]]] = {"items": ("tracking", "uom")}
# Fields that cannot change while a stock count in process freezes the bin.
FROZEN_BY_COUNT: Final[dict[str, tuple[str, ...]]] = {"bins": ("kind", "zone")}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one record, as the change log keeps it (values as text)."""

    field: str
    old: str | None
    new: str | None


def as_text(value: object) -> str | None:
    """A field's value as the change log writes it: decimals plain, barcodes `a|b`, a
    reason code's kinds `a|b` in the order of their enum (the reconciliation's order)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, tuple):
        return "|".join(str(v) for v in value)
    if isinstance(value, frozenset):
        members = sorted(value, key=_declared)
        return "|".join(str(as_text(v)) for v in members)
    return str(value)


def _declared(value: object) -> tuple[int, str]:
    """An enum member's place in its enum (a set of them reads in that order)."""
    if isinstance(value, Enum):
        return list(type(value)).index(value), ""
    return 0, str(value)


def _same(old: object, new: object) -> bool:
    if isinstance(old, tuple) and isinstance(new, tuple):
        return set(old) == set(new)  # a barcode set: the order carries no meaning
    return old == new


def changes(kind: str, stored: Row, row: Row, given: Collection[str]) -> list[FieldChange]:
    """The fields the row gives whose value differs from the stored record's."""
    keys = KEY_FIELDS.get(kind, ("code",))
    found: list[FieldChange] = []
    for f in fields(row):
        if f.name in keys or f.name not in given:
            continue
        old, new = getattr(stored, f.name), getattr(row, f.name)
        if not _same(old, new):
            found.append(FieldChange(f.name, as_text(old), as_text(new)))
    return found


def merged(stored: R, row: Row, given: Collection[str]) -> R:
    """The record as the update leaves it: the stored one with the given fields replaced."""
    values = {f.name: getattr(row, f.name) for f in fields(row) if f.name in given}
    return replace(stored, **values)


def refusal(
    kind: str, change: FieldChange, *, has_stock: bool = False, frozen_by: str | None = None
) -> str | None:
    """Why this change may not be made (None: it may). `has_stock`: the item has stock or
    serials; `frozen_by`: the number of the stock count in process that freezes the bin."""
    fixed = FIXED.get((kind, change.field))
    if fixed is not None:
        return f"{fixed} (stored {change.old!r}, the row has {change.new!r})"
    if has_stock and change.field in NEEDS_NO_STOCK.get(kind, ()):
        return (
            f"cannot change from {change.old!r} to {change.new!r}: the item has stock or "
            "serials, whose quantities and history are in its present terms"
        )
    if frozen_by is not None and change.field in FROZEN_BY_COUNT.get(kind, ()):
        return (
            f"cannot change from {change.old!r} to {change.new!r}: stock count {frozen_by} "
            "is in process on this bin; update it after the count is completed or cancelled"
        )
    return None


def check_merged(record: Row) -> tuple[str, str] | None:
    """(field, why) when the updated record as a whole is not valid, e.g. an item made
    untracked that the stored record keeps auto-serialized; None when it is."""
    if isinstance(record, ItemRow):
        try:
            Item(record.code, record.name, record.tracking, record.auto_serialized)
        except ValueError as exc:
            return "auto_serialized", f"{exc}: give auto_serialized false with the new tracking"
    return None
