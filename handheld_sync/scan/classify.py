"""Every scan is a bin, an item, a serial, a lot, or unknown: decided against the local
reference data (pulled from the server), never by guessing.

Order of the rules, first match wins:
1. GS1 data (flagged by the AIM prefix or the decoder, or written as "(01)..."):
   01 GTIN names the item; 21 makes it a serial, 10 a lot, 30 a quantity. An SSCC alone is
   a pallet, not something a bin count counts.
2. The bin label pattern (configurable): a bin, if the bin is known here.
3. An item barcode (GTIN-8/12/13/14 compared as 14 digits).
4. A serial the open count expects (counts that are not blind).
5. The serial of the serialized item scanned just before (item label, then serial label).
Anything else is unknown, with a message saying what to do; it is never counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from handheld_sync.scan import MalformedBarcode
from handheld_sync.scan.gs1 import Gs1Data, gtin14, parse_gs1
from handheld_sync.scan.text import GS, RawScan

ScanKind = Literal["bin", "item", "serial", "lot", "unknown"]
Tracking = Literal["none", "lot", "serial"]
# Bin labels as the server's locations print them: LOCATION-ZONE..-SLOT (MAIN-A01-02,
# MAIN-OUT-01). A site with other labels sets its own pattern.
DEFAULT_BIN_PATTERN = r"^[A-Z0-9]{2,12}-[A-Z0-9]{1,12}-[A-Z0-9]{1,12}$"
_LOOKS_GS1 = re.compile(r"^(?:00\d{18}|01\d{14})")


@dataclass(frozen=True, slots=True)
class ItemInfo:
    code: str
    name: str
    tracking: Tracking
    auto_serialized: bool = False  # units without a serial count; finalize makes serials
    count_mode: Literal["unit", "measure"] = "unit"  # measure: a scan asks for a quantity


class ReferenceData(Protocol):
    """What classification asks of the local store."""

    def bin_known(self, label: str) -> bool: ...

    def item(self, code: str) -> ItemInfo | None: ...

    def item_by_barcode(self, barcode: str) -> ItemInfo | None: ...

    def expected_serial_item(self, serial: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Classified:
    kind: ScanKind
    scan: RawScan
    message: str
    bin: str | None = None
    item: ItemInfo | None = None
    serial: str | None = None
    lot: str | None = None
    quantity: Decimal | None = None  # from GS1 AI 30
    expiry: date | None = None


class Classifier:
    def __init__(self, reference: ReferenceData, bin_pattern: str = DEFAULT_BIN_PATTERN) -> None:
        self._reference = reference
        self._bin = re.compile(bin_pattern)

    def classify(self, scan: RawScan, *, serial_item: str | None = None) -> Classified:
        """`serial_item`: the serialized item scanned just before, whose serial may follow."""
        data = scan.data
        if scan.gs1 or (data.startswith("(0") and ")" in data):
            return self._gs1(scan, parse_gs1(data))
        if self._bin.fullmatch(data):
            if self._reference.bin_known(data):
                return Classified("bin", scan, f"bin {data}", bin=data)
            return Classified(
                "unknown",
                scan,
                f"{data} looks like a bin label but is no bin known here: "
                "check the label, or sync to get the latest bins",
            )
        item = self._reference.item_by_barcode(data)
        if item is not None:
            return Classified("item", scan, f"item {item.code} {item.name}", item=item)
        expected = self._reference.expected_serial_item(data)
        if expected is not None:
            found = self._reference.item(expected)
            if found is not None:
                return Classified(
                    "serial", scan, f"serial {data} of {found.code}", item=found, serial=data
                )
        if serial_item is not None:
            found = self._reference.item(serial_item)
            if found is not None and found.tracking == "serial" and GS not in data:
                return Classified(
                    "serial", scan, f"serial {data} of {found.code}", item=found, serial=data
                )
        if _LOOKS_GS1.match(data):
            try:
                return self._gs1(scan, parse_gs1(data))
            except MalformedBarcode:
                pass  # not GS1 after all: unknown below
        return Classified(
            "unknown",
            scan,
            f"{_printable(data)!r} is no bin, item or serial known here: "
            "set it aside, or sync to get the latest reference data",
        )

    def _gs1(self, scan: RawScan, gs1: Gs1Data) -> Classified:
        if gs1.gtin is None:
            if gs1.sscc is not None:
                return Classified(
                    "unknown", scan, f"pallet label (SSCC {gs1.sscc}): scan the items on it"
                )
            return Classified(
                "unknown", scan, "a GS1 barcode without a GTIN (AI 01): scan the item's label"
            )
        item = self._reference.item_by_barcode(gs1.gtin)
        if item is None:
            return Classified(
                "unknown",
                scan,
                f"GTIN {gs1.gtin} is no item known here: set it aside, "
                "or sync to get the latest items",
            )
        quantity = Decimal(gs1.count) if gs1.count is not None else None
        if gs1.serial is not None:
            if item.tracking != "serial":
                return Classified(
                    "unknown",
                    scan,
                    f"item {item.code} is not serialized but the label carries "
                    f"serial {gs1.serial}: count it by quantity",
                )
            kind: ScanKind = "serial"
            message = f"serial {gs1.serial} of {item.code}"
        elif gs1.lot is not None:
            kind, message = "lot", f"item {item.code} lot {gs1.lot}"
        else:
            kind, message = "item", f"item {item.code} {item.name}"
        return Classified(
            kind,
            scan,
            message,
            item=item,
            serial=gs1.serial,
            lot=gs1.lot,
            quantity=quantity,
            expiry=gs1.expiry,
        )


def _printable(text: str) -> str:
    return text.replace(GS, "<GS>")


__all__ = [
    "DEFAULT_BIN_PATTERN",
    "Classified",
    "Classifier",
    "ItemInfo",
    "ReferenceData",
    "ScanKind",
    "gtin14",
]
