"""Counting on the device, fully offline: every accepted action is one outbox event.

Two faces over one set of rules. `CountingWorkflow` is what a screen calls: one method
per counter action, each answering a `ScanResult` to show (never raising for a counter's
mistake: `outcome="error"` with the message):

    flow = CountingWorkflow(store)               # settings: the site's, env overrides
    flow.sign_in("ana", "4711")                  # offline, against the pulled verifier
    flow.open_count("SC-0001")                   # an assigned count
    flow.scan_text("MAIN-A01-02")                # a bin label opens its bin count
    flow.scan_text("4012345678901")              # an item's EAN: one unit, total 1
    flow.scan_text("]C10104012345678901" "305")  # GS1 with AI 30: 5 units, total 6
    flow.set_quantity("BOLT-M8", "250")          # qty ITEM N: the bin's total is 250
    flow.add_quantity("BOLT-M8", "10")           # qty ITEM +N: 10 more
    flow.undo()                                  # takes back the last scan, whatever it was
    flow.close_bin()                             # or flow.empty_bin() for an empty bin
    flow.sign_out()

`CountingSession` is the same rules raising `HandheldError`s (the command line's face).

Rules: a scan of an untracked item's barcode, or of a lot item's GS1 label with its lot,
counts one unit; GS1 AI 30 counts its quantity; an item counted by measure (count mode
"measure") asks for a keyed quantity instead; an auto-serialized item's barcode without a
serial counts one unit without a serial (the server makes its serial at finalize). After
each, the result carries the running total of that item (and lot) in the bin. The same
serial twice in one bin count is ignored with a message (`duplicate`); a serial the count
already has in another bin is recorded and flagged (`also_in_bin`); other serialized
items are counted by serial, never by quantity. A scan that matches nothing, or whose GS1
data does not parse, is kept as a `BarcodeUnknown` event (with bin and counter) for the
supervisor and never counted. When the site has counters, scanning needs one signed in
(handheld_sync/counters.py), and every event names them. State (open count, open bin, who
is signed in) lives in the store, so every
command of the CLI, a separate process, picks up where the last one left off; the store
keeps it, and the reference data a scan looks up, in memory between scans (see
handheld_sync/store.py, "Caching"), so a scan runs only the statements that record it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from handheld_sync.counters import SignIn
from handheld_sync.errors import (
    BinStillOpen,
    HandheldError,
    MalformedBarcode,
    NoBinOpen,
    NoCountOpen,
    NotAllowed,
    SignInRefused,
)
from handheld_sync.scan.classify import DEFAULT_BIN_PATTERN, Classified, Classifier, ItemInfo
from handheld_sync.scan.text import GS, RawScan, parse_scanner_text
from handheld_sync.store import BinCountInfo, CountInfo, RecountInfo, ScanRecord, Store
from schemas.sync import (
    BarcodeUnknown,
    BinClosed,
    BinOpened,
    EventBody,
    QuantityKeyed,
    ScanUndone,
    SerialScanned,
)

# A Counted count still takes scans: the server hears a device that docks late.
COUNTABLE = ("open", "counting_in_process", "counted")
_OPEN_COUNT = "open_count"
_OPEN_BIN = "open_bin_seq"
_SERIAL_ITEM = "serial_item"  # a serialized item just scanned: its serial label may follow


Outcome = Literal[
    "counted",  # a serial or a quantity went into the bin count
    "bin_opened",
    "bin_closed",
    "undone",
    "duplicate",  # the same serial again in this bin: ignored
    "unknown",  # kept for the supervisor, not counted
    "needs_input",  # a quantity, a lot or a serial has to follow
    "count_opened",
    "signed_in",
    "signed_out",
    "error",  # refused: nothing recorded; `code` says which rule
]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the counter is told. `seq` is set when an event was stored (the beep).
    `item`, `lot`, `serial`, `quantity`: what this action counted (or took back);
    `total`: the running total of that item (and lot) in the open bin after it."""

    message: str
    seq: int | None = None
    flagged: bool = False  # counted, but look: a serial also in another bin
    outcome: Outcome = "counted"
    item: str = ""
    lot: str = ""
    serial: str = ""
    quantity: Decimal | None = None
    total: Decimal | None = None
    bin: str = ""
    code: str = ""  # the error's code (handheld_sync.errors) when `outcome="error"`

    @property
    def recorded(self) -> bool:
        return self.seq is not None

    @property
    def duplicate(self) -> bool:
        return self.outcome == "duplicate"

    @property
    def error(self) -> bool:
        return self.outcome in ("error", "unknown")


@dataclass(frozen=True, slots=True)
class ItemTotal:
    """The running total of one item (and lot) in the open bin: units counted by
    quantity, plus its serials."""

    item: str
    lot: str
    total: Decimal
    serials: int


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


def parse_quantity(text: str | Decimal, *, zero: bool = False) -> Decimal:
    """A keyed quantity: above 0 (or 0 itself with `zero`, a total set to nothing), at
    most 4 decimals."""
    try:
        quantity = Decimal(text)
    except (InvalidOperation, ValueError):
        quantity = Decimal("NaN")
    if (
        not quantity.is_finite()
        or quantity < 0
        or (quantity == 0 and not zero)
        or -quantity.as_tuple().exponent > 4  # type: ignore[operator]
        or quantity > Decimal("1e12")
    ):
        least = "0 or above" if zero else "above 0"
        raise NotAllowed(
            f"{text!s} is not a quantity: key a number {least} with at most 4 decimals (12, 2.5)"
        )
    return quantity.normalize() if quantity == quantity.to_integral() else quantity


def running_totals(scans: list[ScanRecord]) -> dict[tuple[str, str], ItemTotal]:
    """The live scans of a bin count as totals per (item, lot), in seq order: a quantity
    adds, a set quantity replaces the total so far, a serial adds one serial. The server
    folds a closed bin the same way (server.domain.sync.fold_bin)."""
    quantities: dict[tuple[str, str], Decimal] = {}
    serials: dict[tuple[str, str], int] = {}
    for scan in scans:
        key = (scan.item, scan.lot)
        if scan.serial is not None:
            serials[key] = serials.get(key, 0) + 1
        elif scan.quantity is not None:
            before = Decimal(0) if scan.mode == "set" else quantities.get(key, Decimal(0))
            quantities[key] = before + scan.quantity
    return {
        key: ItemTotal(key[0], key[1], quantities.get(key, Decimal(0)), serials.get(key, 0))
        for key in {**quantities, **serials}
    }


class CountingSession:
    """The counting rules, raising HandheldError when they refuse (nothing recorded)."""

    def __init__(
        self,
        store: Store,
        *,
        bin_pattern: str = DEFAULT_BIN_PATTERN,
        counter: str = "",
        sign_in: SignIn | None = None,
    ) -> None:
        self.store = store
        self.bin_pattern = bin_pattern
        self._counter = counter
        self.sign_in = sign_in or SignIn(store)

    @property
    def counter(self) -> str:
        """Who counts: the signed-in counter ("" on a device whose site has no counters,
        or the name given to the session). Raises when the site needs one signed in."""
        if self._counter:
            return self._counter
        who = self.sign_in.current()
        if who is not None:
            return who
        if self.sign_in.required:
            raise SignInRefused("nobody is signed in: sign in with your user name and PIN")
        return ""

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

    def scan_text(
        self, text: str, *, gs_replacement: str | None = None, aim_prefixes: bool = True
    ) -> ScanResult:
        """A scan as the scanner typed it; text that does not parse is kept as malformed."""
        try:
            scan = parse_scanner_text(
                text, gs_replacement=gs_replacement, aim_prefixes=aim_prefixes
            )
        except MalformedBarcode as exc:
            if not text.strip(GS + " \r\n"):
                raise
            return self.keep_unknown(RawScan(data=text.rstrip("\r\n")), str(exc), "malformed")
        return self.scan(scan)

    def scan(self, scan: RawScan) -> ScanResult:
        with self.store.checked_once():
            try:
                return self._scan(scan)
            except MalformedBarcode as exc:
                return self.keep_unknown(scan, str(exc), "malformed")

    def _scan(self, scan: RawScan) -> ScanResult:
        count = self._require_count()
        classifier = Classifier(_CountReference(self.store, count.count), self.bin_pattern)
        found = classifier.classify(scan, serial_item=self.store.setting(_SERIAL_ITEM))
        if found.kind == "unknown":
            return self.keep_unknown(scan, found.message, "unknown")
        if found.kind == "bin":
            assert found.bin is not None
            return self._start_bin(count, found.bin)
        if found.kind == "serial":
            return self._serial(count, found)
        item = found.item
        assert item is not None
        _, bin_count = self._require_bin(count)
        if found.quantity is not None:
            if item.tracking == "serial" and not item.auto_serialized:
                raise NotAllowed(
                    f"item {item.code} is serialized: scan each serial, not a quantity"
                )
            return self._quantity(item, found.quantity, found.lot or "", "gs1", scan.raw)
        if item.count_mode == "measure":
            lot = f" --lot {found.lot}" if found.lot else ""
            return ScanResult(
                f"{found.message} is counted by measure: key its quantity with "
                f"'qty {item.code} N{lot}' (bin {bin_count.bin})",
                outcome="needs_input",
                item=item.code,
                lot=found.lot or "",
                bin=bin_count.bin,
                total=self.total(item.code, found.lot or ""),
            )
        if item.tracking == "serial" and not item.auto_serialized:
            self.store.set_setting(_SERIAL_ITEM, item.code)
            return ScanResult(
                f"{found.message}: now scan its serial number",
                outcome="needs_input",
                item=item.code,
                bin=bin_count.bin,
            )
        if item.tracking == "lot" and not found.lot:
            return ScanResult(
                f"{found.message} is lot-tracked: scan its GS1 label with the lot, or key "
                f"'qty {item.code} N --lot LOT'",
                outcome="needs_input",
                item=item.code,
                bin=bin_count.bin,
            )
        # One unit per scan (an auto-serialized item: a unit without a serial).
        return self._quantity(item, Decimal(1), found.lot or "", "scan", scan.raw)

    def keep_unknown(
        self, scan: RawScan, message: str, problem: Literal["unknown", "malformed"]
    ) -> ScanResult:
        """Keep a scan that matched nothing (or did not parse) for the supervisor: one
        BarcodeUnknown event with the open bin and the counter; never counted."""
        count = self._require_count()
        counter = self.counter
        bin_count = self.open_bin
        seq = self._append(
            BarcodeUnknown(
                count=count.count,
                raw=scan.raw[:4096],
                bin=bin_count.bin if bin_count else "",
                bin_seq=bin_count.opened_seq if bin_count else 0,
                symbology=scan.symbology,
                problem=problem,
                message=message[:500],
                counter=counter,
            )
        )
        return ScanResult(
            f"{message} (kept for the supervisor, not counted)",
            seq=seq,
            outcome="unknown",
            bin=bin_count.bin if bin_count else "",
            code="malformed_barcode" if problem == "malformed" else "unknown_barcode",
        )

    def _start_bin(self, count: CountInfo, label: str) -> ScanResult:
        if label not in count.bins:
            raise NotAllowed(
                f"bin {label} is not part of count {count.count}: scan one of its bins"
            )
        counter = self.counter
        current = self.open_bin
        if current is not None:
            if current.bin == label:
                return ScanResult(
                    f"bin {label} is already open: scan its contents",
                    outcome="bin_opened",
                    bin=label,
                )
            raise BinStillOpen(f"bin {current.bin} is still open: close-bin before bin {label}")
        with self.store.transaction():
            seq = self._append(BinOpened(count=count.count, bin=label, counter=counter))
            self.store.set_setting(_OPEN_BIN, str(seq))
            self.store.set_setting(_SERIAL_ITEM, None)
        recount = [r for r in self.store.recounts(count.count) if r.bin == label]
        note = f" (recount: {recount[0].reason or 'ordered'})" if recount else ""
        return ScanResult(
            f"bin {label} opened{note}: scan its contents", seq=seq, outcome="bin_opened", bin=label
        )

    def _serial(self, count: CountInfo, found: Classified) -> ScanResult:
        count, bin_count = self._require_bin(count)
        assert found.item is not None and found.serial is not None
        item, serial = found.item, found.serial
        counter = self.counter
        seen = self.store.live_serial_bins(count.count, item.code, serial)
        if any(bin_seq == bin_count.opened_seq for bin_seq, _ in seen):
            return ScanResult(
                f"serial {serial} of {item.code} is already counted in this bin: ignored",
                outcome="duplicate",
                item=item.code,
                serial=serial,
                bin=bin_count.bin,
                total=self.total(item.code, ""),
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
                    counter=counter,
                )
            )
            self.store.set_setting(_SERIAL_ITEM, None)
        total = self.total(item.code, "")
        if elsewhere:
            return ScanResult(
                f"serial {serial} of {item.code} counted, and FLAGGED: it was also scanned "
                f"in bin {elsewhere} ({total} in this bin)",
                seq=seq,
                flagged=True,
                item=item.code,
                serial=serial,
                quantity=Decimal(1),
                total=total,
                bin=bin_count.bin,
            )
        return ScanResult(
            f"serial {serial} of {item.code} counted ({total} in this bin)",
            seq=seq,
            item=item.code,
            serial=serial,
            quantity=Decimal(1),
            total=total,
            bin=bin_count.bin,
        )

    def key_quantity(
        self, item: str, quantity: str | Decimal, *, lot: str = "", set_total: bool = False
    ) -> ScanResult:
        """`qty ITEM +N` adds N; with `set_total` (`qty ITEM N`), N becomes the bin's
        total of the item (and lot) so far."""
        self._require_bin()
        found = self.store.item(item) or self.store.item_by_barcode(item)
        if found is None:
            raise NotAllowed(f"no item {item} here: key an item code or barcode, or sync")
        parsed = parse_quantity(quantity, zero=set_total)
        return self._quantity(found, parsed, lot, "keyed", "", set_total=set_total)

    def add_quantity(self, item: str, quantity: str | Decimal, *, lot: str = "") -> ScanResult:
        return self.key_quantity(item, quantity, lot=lot)

    def set_quantity(self, item: str, quantity: str | Decimal, *, lot: str = "") -> ScanResult:
        return self.key_quantity(item, quantity, lot=lot, set_total=True)

    def _quantity(
        self,
        item: ItemInfo,
        quantity: Decimal,
        lot: str,
        source: Literal["keyed", "gs1", "scan"],
        raw: str,
        *,
        set_total: bool = False,
    ) -> ScanResult:
        count, bin_count = self._require_bin()
        quantity = parse_quantity(quantity, zero=set_total)
        if item.tracking == "serial" and not item.auto_serialized:
            raise NotAllowed(f"item {item.code} is serialized: scan each serial, not a quantity")
        if item.tracking == "lot" and not lot:
            raise NotAllowed(f"item {item.code} is lot-tracked: give its lot (--lot LOT)")
        if item.tracking != "lot" and lot:
            raise NotAllowed(f"item {item.code} has no lots: key the quantity without --lot")
        counter = self.counter
        seq = self._append(
            QuantityKeyed(
                count=count.count,
                bin=bin_count.bin,
                bin_seq=bin_count.opened_seq,
                item=item.code,
                quantity=quantity,
                lot=lot,
                source=source,
                raw=raw,
                counter=counter,
                mode="set" if set_total else "add",
            )
        )
        lot_text = f" lot {lot}" if lot else ""
        total = self.total(item.code, lot)
        what = (
            f"total of {item.code}{lot_text} set to {quantity}"
            if set_total
            else (f"{quantity} of {item.code}{lot_text} counted")
        )
        return ScanResult(
            f"{what}: {total} in bin {bin_count.bin}",
            seq=seq,
            item=item.code,
            lot=lot,
            quantity=quantity,
            total=total,
            bin=bin_count.bin,
        )

    def totals(self) -> list[ItemTotal]:
        """The running totals of the open bin count, per item and lot."""
        found = running_totals(self.bin_scans())
        return [found[key] for key in sorted(found)]

    def total(self, item: str, lot: str = "") -> Decimal:
        """The running total of one item (and lot) in the open bin: units and serials."""
        bin_count = self.open_bin
        if bin_count is None:
            return Decimal(0)
        quantity, serials = self.store.item_total(bin_count.opened_seq, item, lot)
        return quantity + serials

    def undo(self) -> ScanResult:
        count, bin_count = self._require_bin()
        live = self.bin_scans()
        if not live:
            raise NotAllowed(f"nothing to undo in bin {bin_count.bin}")
        last = live[-1]
        counter = self.counter
        seq = self._append(
            ScanUndone(
                count=count.count,
                bin=bin_count.bin,
                bin_seq=bin_count.opened_seq,
                target_seq=last.seq,
                counter=counter,
            )
        )
        if last.serial is not None:
            what = f"serial {last.serial} of {last.item}"
        elif last.mode == "set":
            what = f"total of {last.item} set to {last.quantity}"
        else:
            what = f"{last.quantity} of {last.item}"
        total = self.total(last.item, last.lot)
        return ScanResult(
            f"undone: {what}: {total} in bin {bin_count.bin}",
            seq=seq,
            outcome="undone",
            item=last.item,
            lot=last.lot,
            serial=last.serial or "",
            quantity=last.quantity,
            total=total,
            bin=bin_count.bin,
        )

    def close_bin(self, *, empty: bool = False) -> ScanResult:
        count, bin_count = self._require_bin()
        counter = self.counter
        scans = self.bin_scans()
        counted = any(t.total or t.serials for t in running_totals(scans).values())
        if not counted and not empty:
            raise NotAllowed(
                f"bin {bin_count.bin} has nothing counted: 'close-bin --empty' confirms it is empty"
            )
        if counted and empty:
            raise NotAllowed(
                f"bin {bin_count.bin} has {len(scans)} scan(s), it is not empty: close it "
                "without --empty, or undo the scans"
            )
        with self.store.transaction():
            seq = self._append(
                BinClosed(
                    count=count.count,
                    bin=bin_count.bin,
                    bin_seq=bin_count.opened_seq,
                    confirmed_empty=empty,
                    counter=counter,
                )
            )
            self.store.set_setting(_OPEN_BIN, None)
            self.store.set_setting(_SERIAL_ITEM, None)
        state = "empty, confirmed" if empty else f"{len(scans)} scan(s)"
        return ScanResult(
            f"bin {bin_count.bin} closed: {state}", seq=seq, outcome="bin_closed", bin=bin_count.bin
        )

    def _append(self, body: EventBody) -> int:
        with self.store.transaction():
            self.sign_in.touch()
            return self.store.append(body, device_time=self.sign_in.clock())


# --- the screen's face: one call per counter action, a result to show ---------------------


@dataclass(frozen=True, slots=True)
class ScannerSettings:
    """How this device reads its scanner and labels: the site's settings from the pull,
    each overridden by the device's environment variable when that is set."""

    bin_pattern: str = DEFAULT_BIN_PATTERN
    gs_replacement: str | None = None
    aim_prefixes: bool = True
    idle: timedelta = timedelta(minutes=15)
    pin_attempts: int = 5

    @classmethod
    def resolve(cls, store: Store, env: Mapping[str, str] | None = None) -> ScannerSettings:
        """STOCKCOUNT_HANDHELD_BIN_PATTERN, _GS, _AIM (1/0), _IDLE_MINUTES over the site's."""
        env = os.environ if env is None else env
        site = store.site_settings()
        pattern = env.get("STOCKCOUNT_HANDHELD_BIN_PATTERN") or (site and site.bin_pattern)
        gs = env.get("STOCKCOUNT_HANDHELD_GS") or (site and site.gs_replacement) or None
        aim_text = env.get("STOCKCOUNT_HANDHELD_AIM", "")
        aim = (
            aim_text not in ("0", "no", "false")
            if aim_text
            else (site.aim_prefixes if site else True)
        )
        idle_text = env.get("STOCKCOUNT_HANDHELD_IDLE_MINUTES", "")
        idle = (
            int(idle_text)
            if idle_text.isdigit() and int(idle_text) > 0
            else (site.idle_sign_out_minutes if site else 15)
        )
        return cls(
            bin_pattern=pattern or DEFAULT_BIN_PATTERN,
            gs_replacement=gs,
            aim_prefixes=aim,
            idle=timedelta(minutes=idle),
            pin_attempts=site.pin_attempts if site else 5,
        )


class CountingWorkflow:
    """One method per counter action, each answering a ScanResult (a refused action is
    `outcome="error"` with the message and the error's code; nothing is recorded then).
    `clock` is injectable for tests (idle sign-out, event times)."""

    def __init__(
        self,
        store: Store,
        *,
        settings: ScannerSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.settings = settings or ScannerSettings.resolve(store)
        self.signin = SignIn(
            store, clock=clock, idle=self.settings.idle, attempts=self.settings.pin_attempts
        )
        self.session = CountingSession(
            store, bin_pattern=self.settings.bin_pattern, sign_in=self.signin
        )

    # what the screen shows
    @property
    def counter(self) -> str | None:
        return self.signin.current()

    @property
    def current_count(self) -> CountInfo | None:
        return self.session.open_count

    @property
    def current_bin(self) -> BinCountInfo | None:
        return self.session.open_bin

    def totals(self) -> list[ItemTotal]:
        return self.session.totals()

    def counts(self) -> list[CountInfo]:
        return self.session.counts()

    def recounts(self) -> list[RecountInfo]:
        return self.session.recounts()

    # actions
    def sign_in(self, username: str, pin: str) -> ScanResult:
        return self._run(
            lambda: ScanResult(
                f"signed in: {self.signin.sign_in(username, pin)}", outcome="signed_in"
            )
        )

    def sign_out(self) -> ScanResult:
        def act() -> ScanResult:
            who = self.signin.sign_out()
            return ScanResult(
                f"{who} signed out" if who else "nobody was signed in", outcome="signed_out"
            )

        return self._run(act)

    def open_count(self, code: str) -> ScanResult:
        def act() -> ScanResult:
            count = self.session.open(code)
            return ScanResult(
                f"count {count.count} open ({len(count.bins)} bins): scan a bin label",
                outcome="count_opened",
            )

        return self._run(act)

    def scan_text(self, text: str) -> ScanResult:
        return self._run(
            lambda: self.session.scan_text(
                text,
                gs_replacement=self.settings.gs_replacement,
                aim_prefixes=self.settings.aim_prefixes,
            )
        )

    def scan(self, scan: RawScan) -> ScanResult:
        return self._run(lambda: self.session.scan(scan))

    def set_quantity(self, item: str, quantity: str | Decimal, *, lot: str = "") -> ScanResult:
        return self._run(lambda: self.session.set_quantity(item, quantity, lot=lot))

    def add_quantity(self, item: str, quantity: str | Decimal, *, lot: str = "") -> ScanResult:
        return self._run(lambda: self.session.add_quantity(item, quantity, lot=lot))

    def undo(self) -> ScanResult:
        return self._run(self.session.undo)

    def close_bin(self) -> ScanResult:
        return self._run(self.session.close_bin)

    def empty_bin(self) -> ScanResult:
        return self._run(lambda: self.session.close_bin(empty=True))

    def _run(self, action: Callable[[], ScanResult]) -> ScanResult:
        try:
            return action()
        except HandheldError as exc:
            return ScanResult(str(exc), outcome="error", code=exc.code)
