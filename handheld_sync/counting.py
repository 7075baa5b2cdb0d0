"""Counting on the device, fully offline: every accepted action is one outbox event.

    session = CountingSession(store)
    session.open("SC-0001")                      # an assigned count
    session.scan(parse_scanner_text("MAIN-A01-02"))   # a bin label starts its bin count
    session.scan(parse_scanner_text("]d2" + "0104012345678901" + "21SN-1"))  # a serial
    session.key_quantity("BOLT-M8", "250")       # untracked or lot items: a quantity
    session.undo()                               # takes back the last scan of the bin
    session.close_bin()                          # or close_bin(empty=True) for an empty bin

Rules: the same serial twice in one bin count is ignored with a message; a serial the count
already has in another bin is recorded and flagged (`also_in_bin`); serialized items are
counted by serial, never by quantity; lot items need a lot; an unknown or malformed barcode
raises and records nothing. State (open count, open bin) lives in the store, so every
command of the CLI, a separate process, picks up where the last one left off; the store
keeps it, and the reference data a scan looks up, in memory between scans (see
handheld_sync/store.py, "Caching"), so a scan runs only the statements that record it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from handheld_sync.errors import (
    BinStillOpen,
    NoBinOpen,
    NoCountOpen,
    NotAllowed,
    UnknownBarcode,
)
from handheld_sync.scan.classify import DEFAULT_BIN_PATTERN, Classified, Classifier, ItemInfo
from handheld_sync.scan.text import RawScan
from handheld_sync.store import BinCountInfo, CountInfo, RecountInfo, ScanRecord, Store
from schemas.sync import BinClosed, BinOpened, EventBody, QuantityKeyed, ScanUndone, SerialScanned

# A Counted count still takes scans: the server hears a device that docks late.
COUNTABLE = ("open", "counting_in_process", "counted")
_OPEN_COUNT = "open_count"
_OPEN_BIN = "open_bin_seq"
_SERIAL_ITEM = "serial_item"  # a serialized item just scanned: its serial label may follow


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the counter is told. `seq` is set when an event was stored (the beep)."""

    message: str
    seq: int | None = None
    flagged: bool = False

    @property
    def recorded(self) -> bool:
        return self.seq is not None


class _CountReference:
    """The store's reference data, seen from the open count (for the classifier)."""

    def __init__(self, store: Store, count: str) -> None:
        self._store = store
        self._count = count

    def bin_known(self, label: str) -> bool:
        return self._store.bin_known(label)

    def item(self, code: str) -> ItemInfo | None:
        return self._store.item(code)

    def item_by_barcode(self, barcode: str) -> ItemInfo | None:
        return self._store.item_by_barcode(barcode)

    def expected_serial_item(self, serial: str) -> str | None:
        return self._store.expected_serial_item(self._count, serial)


def parse_quantity(text: str | Decimal) -> Decimal:
    try:
        quantity = Decimal(text)
    except (InvalidOperation, ValueError):
        quantity = Decimal("NaN")
    if (
        not quantity.is_finite()
        or quantity <= 0
        or -quantity.as_tuple().exponent > 4  # type: ignore[operator]
        or quantity > Decimal("1e12")
    ):
        raise NotAllowed(
            f"{text!s} is not a quantity: key a number above 0 with at most 4 decimals (12, 2.5)"
        )
    return quantity.normalize() if quantity == quantity.to_integral() else quantity


class CountingSession:
    def __init__(
        self, store: Store, *, bin_pattern: str = DEFAULT_BIN_PATTERN, counter: str = ""
    ) -> None:
        self.store = store
        self.bin_pattern = bin_pattern
        self.counter = counter

    # --- what is open ------------------------------------------------------------------------

    def counts(self) -> list[CountInfo]:
        return self.store.counts()

    @property
    def open_count(self) -> CountInfo | None:
        code = self.store.setting(_OPEN_COUNT)
        return self.store.count(code) if code else None

    @property
    def open_bin(self) -> BinCountInfo | None:
        seq = self.store.setting(_OPEN_BIN)
        return self.store.bin_count(int(seq)) if seq else None

    def _require_count(self) -> CountInfo:
        count = self.open_count
        if count is None:
            raise NoCountOpen("no count is open: 'open COUNT' first ('counts' lists them)")
        if count.status not in COUNTABLE:
            raise NotAllowed(
                f"count {count.count} is {count.status.replace('_', ' ')}: it takes no more "
                "scans; open another count"
            )
        return count

    def _require_bin(self, count: CountInfo | None = None) -> tuple[CountInfo, BinCountInfo]:
        count = count or self._require_count()
        bin_count = self.open_bin
        if bin_count is None:
            raise NoBinOpen("no bin is open: scan a bin label first")
        return count, bin_count

    def recounts(self) -> list[RecountInfo]:
        count = self.open_count
        return self.store.recounts(count.count if count else None)

    def bin_scans(self) -> list[ScanRecord]:
        """The live scans of the open bin count, oldest first."""
        bin_count = self.open_bin
        if bin_count is None:
            return []
        scans = self.store.scans(bin_seq=bin_count.opened_seq)
        return [s for s in scans if s.undone_seq is None]

    # --- actions -------------------------------------------------------------------------

    def open(self, code: str) -> CountInfo:
        count = self.store.count(code)
        if count is None:
            raise NotAllowed(
                f"count {code} is not assigned to this device: 'counts' lists those that "
                "are; sync to get new ones"
            )
        if count.status not in COUNTABLE:
            raise NotAllowed(
                f"count {code} is {count.status.replace('_', ' ')}: it takes no more scans"
            )
        bin_count = self.open_bin
        if bin_count is not None and bin_count.count != code:
            raise BinStillOpen(
                f"bin {bin_count.bin} of count {bin_count.count} is still open: close-bin first"
            )
        self.store.set_setting(_OPEN_COUNT, code)
        return count

    def scan(self, scan: RawScan) -> ScanResult:
        with self.store.checked_once():
            return self._scan(scan)

    def _scan(self, scan: RawScan) -> ScanResult:
        count = self._require_count()
        classifier = Classifier(_CountReference(self.store, count.count), self.bin_pattern)
        found = classifier.classify(scan, serial_item=self.store.setting(_SERIAL_ITEM))
        if found.kind == "unknown":
            raise UnknownBarcode(f"{found.message} (not counted)")
        if found.kind == "bin":
            assert found.bin is not None
            return self._start_bin(count, found.bin)
        if found.kind == "serial":
            return self._serial(count, found)
        assert found.item is not None
        if found.quantity is not None:
            return self._quantity(found.item, found.quantity, found.lot or "", "gs1", scan.raw)
        _, bin_count = self._require_bin(count)
        if found.item.tracking == "serial":
            self.store.set_setting(_SERIAL_ITEM, found.item.code)
            return ScanResult(f"{found.message}: now scan its serial number")
        lot = f" --lot {found.lot}" if found.lot else ""
        return ScanResult(
            f"{found.message}: key its quantity with 'qty {found.item.code} N{lot}' "
            f"(bin {bin_count.bin})"
        )

    def _start_bin(self, count: CountInfo, label: str) -> ScanResult:
        if label not in count.bins:
            raise NotAllowed(
                f"bin {label} is not part of count {count.count}: scan one of its bins"
            )
        current = self.open_bin
        if current is not None:
            if current.bin == label:
                return ScanResult(f"bin {label} is already open: scan its contents")
            raise BinStillOpen(f"bin {current.bin} is still open: close-bin before bin {label}")
        with self.store.transaction():
            seq = self._append(BinOpened(count=count.count, bin=label, counter=self.counter))
            self.store.set_setting(_OPEN_BIN, str(seq))
            self.store.set_setting(_SERIAL_ITEM, None)
        recount = [r for r in self.store.recounts(count.count) if r.bin == label]
        note = f" (recount: {recount[0].reason or 'ordered'})" if recount else ""
        return ScanResult(f"bin {label} opened{note}: scan its contents", seq=seq)

    def _serial(self, count: CountInfo, found: Classified) -> ScanResult:
        count, bin_count = self._require_bin(count)
        assert found.item is not None and found.serial is not None
        item, serial = found.item, found.serial
        seen = self.store.live_serial_bins(count.count, item.code, serial)
        if any(bin_seq == bin_count.opened_seq for bin_seq, _ in seen):
            return ScanResult(
                f"serial {serial} of {item.code} is already counted in this bin: ignored"
            )
        elsewhere = next((label for _, label in seen if label != bin_count.bin), "")
        with self.store.transaction():
            seq = self._append(
                SerialScanned(
                    count=count.count,
                    bin=bin_count.bin,
                    bin_seq=bin_count.opened_seq,
                    item=item.code,
                    serial=serial,
                    raw=found.scan.raw,
                    symbology=found.scan.symbology,
                    also_in_bin=elsewhere,
                )
            )
            self.store.set_setting(_SERIAL_ITEM, None)
        if elsewhere:
            return ScanResult(
                f"serial {serial} of {item.code} counted, and FLAGGED: it was also scanned "
                f"in bin {elsewhere}",
                seq=seq,
                flagged=True,
            )
        return ScanResult(f"serial {serial} of {item.code} counted", seq=seq)

    def key_quantity(self, item: str, quantity: str | Decimal, *, lot: str = "") -> ScanResult:
        self._require_bin()
        found = self.store.item(item) or self.store.item_by_barcode(item)
        if found is None:
            raise NotAllowed(f"no item {item} here: key an item code or barcode, or sync")
        return self._quantity(found, parse_quantity(quantity), lot, "keyed", "")

    def _quantity(
        self, item: ItemInfo, quantity: Decimal, lot: str, source: str, raw: str
    ) -> ScanResult:
        count, bin_count = self._require_bin()
        quantity = parse_quantity(quantity)
        if item.tracking == "serial":
            raise NotAllowed(f"item {item.code} is serialized: scan each serial, not a quantity")
        if item.tracking == "lot" and not lot:
            raise NotAllowed(f"item {item.code} is lot-tracked: give its lot (--lot LOT)")
        if item.tracking == "none" and lot:
            raise NotAllowed(f"item {item.code} has no lots: key the quantity without --lot")
        seq = self._append(
            QuantityKeyed(
                count=count.count,
                bin=bin_count.bin,
                bin_seq=bin_count.opened_seq,
                item=item.code,
                quantity=quantity,
                lot=lot,
                source="gs1" if source == "gs1" else "keyed",
                raw=raw,
            )
        )
        lot_text = f" lot {lot}" if lot else ""
        return ScanResult(f"{quantity} of {item.code}{lot_text} counted", seq=seq)

    def undo(self) -> ScanResult:
        count, bin_count = self._require_bin()
        live = self.bin_scans()
        if not live:
            raise NotAllowed(f"nothing to undo in bin {bin_count.bin}")
        last = live[-1]
        seq = self._append(
            ScanUndone(
                count=count.count,
                bin=bin_count.bin,
                bin_seq=bin_count.opened_seq,
                target_seq=last.seq,
            )
        )
        if last.serial is not None:
            what = f"serial {last.serial} of {last.item}"
        else:
            what = f"{last.quantity} of {last.item}"
        return ScanResult(f"undone: {what}", seq=seq)

    def close_bin(self, *, empty: bool = False) -> ScanResult:
        count, bin_count = self._require_bin()
        live = len(self.bin_scans())
        if live == 0 and not empty:
            raise NotAllowed(
                f"bin {bin_count.bin} has no scans: 'close-bin --empty' confirms it is empty"
            )
        if live and empty:
            raise NotAllowed(
                f"bin {bin_count.bin} has {live} scan(s), it is not empty: close it without "
                "--empty, or undo the scans"
            )
        with self.store.transaction():
            seq = self._append(
                BinClosed(
                    count=count.count,
                    bin=bin_count.bin,
                    bin_seq=bin_count.opened_seq,
                    confirmed_empty=empty,
                )
            )
            self.store.set_setting(_OPEN_BIN, None)
            self.store.set_setting(_SERIAL_ITEM, None)
        state = "empty, confirmed" if empty else f"{live} scan(s)"
        return ScanResult(f"bin {bin_count.bin} closed: {state}", seq=seq)

    def _append(self, body: EventBody) -> int:
        return self.store.append(body, device_time=datetime.now(UTC))
