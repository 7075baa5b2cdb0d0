"""The full-screen counting app (Textual) for a device with a keyboard-wedge scanner.

Every scan is stored (durable, in the outbox) before the screen says so: the handler runs
`CountingSession.scan` on the store's connection, which commits before it returns. Syncing
runs in a worker thread on a connection of its own (`background.sync_once`), every
`sync_interval` seconds and on F9, so the network never holds up a scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from handheld_sync.app.background import EngineFactory, SyncOutcome, sync_once
from handheld_sync.app.screens import CountPicker, KeyedQuantity, QuantityScreen, RecountsScreen
from handheld_sync.app.widgets import Feedback, ScannerLine, Tone
from handheld_sync.counting import CountingSession, ScanResult
from handheld_sync.errors import HandheldError
from handheld_sync.scan.classify import DEFAULT_BIN_PATTERN
from handheld_sync.scan.text import parse_scanner_text
from handheld_sync.store import Store

CSS = """
Screen { layout: vertical; }
#count { height: 1; padding: 0 1; background: $primary-darken-2; color: $text; }
#bin { height: 3; content-align: center middle; text-style: bold; background: $primary;
       color: $text; }
#feedback { height: 3; padding: 0 1; content-align: left middle; text-style: bold; }
#feedback.-ok { background: $success; color: $text; }
#feedback.-warn { background: $warning; color: black; }
#feedback.-error { background: $error; color: $text; }
#totals { height: 1fr; }
#scanner { height: 1; padding: 0 1; background: $boost; }
#sync { height: 1; padding: 0 1; background: $panel; }
.dialog { width: 60; height: auto; padding: 1 2; border: thick $primary; background: $surface; }
.title { text-style: bold; }
QuantityScreen, CountPicker, RecountsScreen { align: center middle; }
"""


class CountingApp(App[None]):
    """Scan bins and their contents; F-keys for the rest (the scanner types letters)."""

    TITLE = "stockcount"
    CSS = CSS
    BINDINGS = [
        Binding("f2", "quantity", "Qty"),
        Binding("f3", "undo", "Undo"),
        Binding("f4", "close_bin", "Close bin"),
        Binding("f5", "empty_bin", "Empty bin"),
        Binding("f6", "recounts", "Recounts"),
        Binding("f8", "pick_count", "Counts"),
        Binding("f9", "sync", "Sync"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        store_path: Path,
        *,
        bin_pattern: str = DEFAULT_BIN_PATTERN,
        gs_replacement: str | None = None,
        open_engine: EngineFactory | None = None,
        sync_interval: float = 30.0,
    ) -> None:
        super().__init__()
        self.store_path = store_path
        self.bin_pattern = bin_pattern
        self.gs_replacement = gs_replacement
        self.open_engine = open_engine
        self.sync_interval = sync_interval
        self.session: CountingSession | None = None
        self.last_sync: SyncOutcome | None = None
        self.syncing = False
        self.syncs = 0  # finished syncs, for the footer and for tests

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="count")
        yield Static(id="bin")
        yield Feedback("Scan a bin label", id="feedback")
        yield DataTable(id="totals", cursor_type="none", zebra_stripes=True)
        yield ScannerLine(id="scanner")
        yield Static(id="sync")
        yield Footer()

    def on_mount(self) -> None:
        self.session = CountingSession(Store.open(self.store_path), bin_pattern=self.bin_pattern)
        table = self.query_one("#totals", DataTable)
        table.add_columns("ITEM", "NAME", "COUNTED", "LAST")
        self.query_one(ScannerLine).focus()
        self.refresh_view()
        if self.open_engine is not None:
            self.set_interval(self.sync_interval, self.action_sync)
            self.action_sync()
        if self.session.open_count is None:
            self.action_pick_count()

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.store.close()

    @property
    def store(self) -> Store:
        assert self.session is not None
        return self.session.store

    # --- what the screen shows -------------------------------------------------------------

    def refresh_view(self) -> None:
        assert self.session is not None
        count, bin_count = self.session.open_count, self.session.open_bin
        if count is None:
            self.query_one("#count", Static).update("no count open: F8 picks one")
        else:
            blind = "  blind" if count.blind else ""
            status = count.status.replace("_", " ")
            self.query_one("#count", Static).update(
                f"COUNT {count.count}  {count.location}  {status}{blind}  {len(count.bins)} bins"
            )
        self.query_one("#bin", Static).update(
            f"BIN  {bin_count.bin}" if bin_count else "scan a bin label"
        )
        self._refresh_totals()
        self._refresh_sync()

    def _refresh_totals(self) -> None:
        assert self.session is not None
        table = self.query_one("#totals", DataTable)
        table.clear()
        counted: dict[str, Decimal] = defaultdict(Decimal)
        last: dict[str, str] = {}
        for scan in self.session.bin_scans():
            label = scan.item + (f" lot {scan.lot}" if scan.lot else "")
            counted[label] += scan.quantity if scan.quantity is not None else Decimal(1)
            last[label] = scan.serial or f"+{scan.quantity}"
        for label, quantity in counted.items():
            item = self.store.item(label.split(" ", 1)[0])
            table.add_row(label, item.name if item else "", str(quantity), last[label])

    def _refresh_sync(self) -> None:
        waiting = self.store.outbox_summary()["pending"]
        parts = [f"waiting {waiting}"]
        if self.last_sync is None:
            parts.append("never synced" if self.open_engine else "sync off")
        else:
            at = self.last_sync.at.astimezone().strftime("%H:%M:%S")
            parts.append(f"last sync {at}: {self.last_sync.message}")
            parts.append("docked" if self.last_sync.reached else "offline")
        if self.syncing:
            parts.append("syncing…")
        self.query_one("#sync", Static).update("  ·  ".join(parts))

    def tell(self, tone: Tone, message: str) -> None:
        self.query_one(Feedback).show(tone, message)
        if tone in ("warn", "error"):
            self.bell()

    def _result(self, result: ScanResult) -> None:
        # Not stored (a duplicate, a prompt) or stored and flagged: the counter must look.
        self.tell("ok" if result.recorded and not result.flagged else "warn", result.message)
        self.refresh_view()

    def _attempt(self, run: Callable[[], ScanResult]) -> None:
        try:
            result = run()
        except HandheldError as exc:
            self.tell("error", str(exc))
            return
        self._result(result)

    # --- scanning ----------------------------------------------------------------------

    def on_scanner_line_scanned(self, message: ScannerLine.Scanned) -> None:
        assert self.session is not None
        session = self.session
        try:
            scan = parse_scanner_text(message.text, gs_replacement=self.gs_replacement)
            result = session.scan(scan)
        except HandheldError as exc:
            self.tell("error", str(exc))
            return
        self._result(result)

    # --- keys --------------------------------------------------------------------------

    def action_quantity(self) -> None:
        def keyed(entry: KeyedQuantity | None) -> None:
            if entry is None or self.session is None:
                return
            session = self.session
            self._attempt(
                lambda: session.key_quantity(entry.item, entry.quantity, lot=entry.lot),
            )

        self.push_screen(QuantityScreen(), keyed)

    def action_undo(self) -> None:
        assert self.session is not None
        self._attempt(self.session.undo)

    def action_close_bin(self) -> None:
        assert self.session is not None
        self._attempt(self.session.close_bin)

    def action_empty_bin(self) -> None:
        session = self.session
        assert session is not None
        self._attempt(lambda: session.close_bin(empty=True))

    def action_recounts(self) -> None:
        assert self.session is not None
        self.push_screen(RecountsScreen(self.session.recounts()))

    def action_pick_count(self) -> None:
        assert self.session is not None

        def picked(code: str | None) -> None:
            if code is None or self.session is None:
                return
            try:
                count = self.session.open(code)
            except HandheldError as exc:
                self.tell("error", str(exc))
                return
            self.tell("info", f"count {count.count} open: scan a bin label")
            self.refresh_view()

        self.push_screen(CountPicker(self.session.counts()), picked)

    # --- syncing -------------------------------------------------------------------------

    def action_sync(self) -> None:
        if self.open_engine is None or self.syncing:
            return
        self.syncing = True
        self._refresh_sync()
        self._sync_in_background()

    @work(thread=True, group="sync")
    def _sync_in_background(self) -> None:
        assert self.open_engine is not None
        outcome = sync_once(self.store_path, self.open_engine)
        self.call_from_thread(self._synced, outcome)

    def _synced(self, outcome: SyncOutcome) -> None:
        self.syncing = False
        self.syncs += 1
        self.last_sync = outcome
        self.refresh_view()
