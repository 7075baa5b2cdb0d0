"""The full-screen counting app (Textual) for a device with a keyboard-wedge scanner.

Every scan is stored (durable, in the outbox) before the screen says so: the handler runs
`CountingWorkflow.scan_text` on the store's connection, which commits before it returns. Syncing
runs in a worker thread on a connection of its own (`background.sync_once`), every
`sync_interval` seconds and on F9, so the network never holds up a scan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from handheld_sync.app.background import EngineFactory, SyncOutcome, sync_once
from handheld_sync.app.screens import (
    CountPicker,
    KeyedQuantity,
    QuantityScreen,
    RecountsScreen,
    SignInDetails,
    SignInScreen,
)
from handheld_sync.app.widgets import Feedback, ScannerLine, Tone
from handheld_sync.counting import CountingWorkflow, ScannerSettings, ScanResult
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
QuantityScreen, SignInScreen, CountPicker, RecountsScreen { align: center middle; }
"""


class CountingApp(App[None]):
    """Scan bins and their contents; F-keys for the rest (the scanner types letters)."""

    TITLE = "stockcount"
    ENABLE_COMMAND_PALETTE = False  # Ctrl+P: the scanner line keeps every key
    CSS = CSS
    BINDINGS = [
        Binding("f2", "quantity", "Qty"),
        Binding("f3", "undo", "Undo"),
        Binding("f4", "close_bin", "Close bin"),
        Binding("f5", "empty_bin", "Empty bin"),
        Binding("f6", "recounts", "Recounts"),
        Binding("f7", "sign", "Sign in/out"),
        Binding("f8", "pick_count", "Counts"),
        Binding("f9", "sync", "Sync"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        store_path: Path,
        *,
        settings: ScannerSettings | None = None,
        open_engine: EngineFactory | None = None,
        sync_interval: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`settings`: the scanner's and the site's (None: the pulled site settings under
        the environment's overrides, ScannerSettings.resolve)."""
        super().__init__()
        self.store_path = store_path
        self.settings = settings
        self.open_engine = open_engine
        self.sync_interval = sync_interval
        self.clock = clock
        self._flow: CountingWorkflow | None = None
        self.last_sync: SyncOutcome | None = None
        self.syncing = False
        self.syncs = 0  # finished syncs, for the footer and for tests

    @property
    def flow(self) -> CountingWorkflow:
        assert self._flow is not None, "the app is not mounted"
        return self._flow

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
        store = Store.open(self.store_path)
        self._flow = CountingWorkflow(store, settings=self.settings, clock=self.clock)
        self.query_one("#totals", DataTable).add_columns("ITEM", "LOT", "COUNTED", "SERIALS")
        self.query_one(ScannerLine).focus()
        self.refresh_view()
        # Idle sign-out shows without a keystroke; the sync state's clock moves on.
        self.set_interval(15, self.refresh_view)
        if self.open_engine is not None:
            self.set_interval(self.sync_interval, self.action_sync)
            self.action_sync()
        if self.flow.current_count is None:
            self.action_pick_count()

    def on_unmount(self) -> None:
        if self._flow is not None:
            self._flow.store.close()

    # --- what the screen shows -------------------------------------------------------------

    def refresh_view(self) -> None:
        flow = self.flow
        count, bin_count = flow.current_count, flow.current_bin
        who = flow.counter
        counter = f"  counter {who}" if who else "  nobody signed in (F7)"
        if count is None:
            self.query_one("#count", Static).update(f"no count open: F8 picks one{counter}")
        else:
            blind = "  blind" if count.blind else ""
            status = count.status.replace("_", " ")
            self.query_one("#count", Static).update(
                f"COUNT {count.count}  {count.location}  {status}{blind}  "
                f"{len(count.bins)} bins{counter}"
            )
        self.query_one("#bin", Static).update(
            f"BIN  {bin_count.bin}" if bin_count else "scan a bin label"
        )
        table = self.query_one("#totals", DataTable)
        table.clear()
        for line in flow.totals():
            serials = str(line.serials) if line.serials else ""
            table.add_row(line.item, line.lot, str(line.total + line.serials), serials)
        self._refresh_sync()

    def _refresh_sync(self) -> None:
        waiting = self.flow.store.outbox_summary()["pending"]
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

    def show(self, result: ScanResult) -> None:
        """The result of an action: green when stored, yellow (and the bell) for a
        duplicate, a flagged serial or a question, red (and the bell) when refused or
        unknown."""
        if result.error:
            self.tell("error", result.message)
        elif result.duplicate or result.flagged or result.outcome == "needs_input":
            self.tell("warn", result.message)
        else:
            self.tell("ok", result.message)
        self.refresh_view()
        if result.outcome == "needs_input" and result.item:
            item = self.flow.store.item(result.item)
            if item is not None and item.tracking != "serial":
                self.action_quantity(result.item, result.lot)  # measure or lot: key it

    # --- scanning ----------------------------------------------------------------------

    def on_scanner_line_scanned(self, message: ScannerLine.Scanned) -> None:
        self.show(self.flow.scan_text(message.text))

    # --- keys --------------------------------------------------------------------------

    def action_quantity(self, item: str = "", lot: str = "") -> None:
        def keyed(entry: KeyedQuantity | None) -> None:
            if entry is None:
                return
            if entry.quantity.startswith("+"):
                result = self.flow.add_quantity(entry.item, entry.quantity[1:], lot=entry.lot)
            else:
                result = self.flow.set_quantity(entry.item, entry.quantity, lot=entry.lot)
            self.show(result)

        self.push_screen(QuantityScreen(item, lot), keyed)

    def action_undo(self) -> None:
        self.show(self.flow.undo())

    def action_close_bin(self) -> None:
        self.show(self.flow.close_bin())

    def action_empty_bin(self) -> None:
        self.show(self.flow.empty_bin())

    def action_recounts(self) -> None:
        self.push_screen(RecountsScreen(self.flow.recounts()))

    def action_sign(self) -> None:
        if self.flow.counter:
            self.show(self.flow.sign_out())
            return

        def entered(details: SignInDetails | None) -> None:
            if details is not None:
                self.show(self.flow.sign_in(details.username, details.pin))

        self.push_screen(SignInScreen(), entered)

    def action_pick_count(self) -> None:
        def picked(code: str | None) -> None:
            if code is not None:
                self.show(self.flow.open_count(code))

        self.push_screen(CountPicker(self.flow.counts()), picked)

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
