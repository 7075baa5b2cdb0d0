"""The counting app's dialogs: key a quantity, sign in, pick a count, recount orders."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from handheld_sync.store import CountInfo, RecountInfo


@dataclass(frozen=True, slots=True)
class KeyedQuantity:
    item: str
    quantity: str
    lot: str


class QuantityScreen(ModalScreen[KeyedQuantity | None]):
    """Item (code or barcode: a scan fills it), quantity (N sets the bin's total of the
    item, +N adds to it), lot when the item has lots."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, item: str = "", lot: str = "") -> None:
        super().__init__()
        self._item = item
        self._lot = lot

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Key a quantity (Enter goes on, Esc cancels)", classes="title")
            yield Label("Item")
            yield Input(self._item, placeholder="item code or barcode", id="item")
            yield Label("Quantity: N is the bin's total, +N adds")
            yield Input(placeholder="12, 2.5, +3", id="quantity")
            yield Label("Lot (lot items only)")
            yield Input(self._lot, id="lot")

    def on_mount(self) -> None:
        self.query_one("#quantity" if self._item else "#item", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "item":
            self.query_one("#quantity", Input).focus()
            return
        item = self.query_one("#item", Input).value.strip()
        quantity = self.query_one("#quantity", Input).value.strip()
        if not item or not quantity:
            self.query_one("#item" if not item else "#quantity", Input).focus()
            return
        self.dismiss(KeyedQuantity(item, quantity, self.query_one("#lot", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class SignInDetails:
    username: str
    pin: str


class SignInScreen(ModalScreen[SignInDetails | None]):
    """User name and PIN (checked on the device, offline)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Sign in (Enter goes on, Esc cancels)", classes="title")
            yield Label("User name")
            yield Input(id="username")
            yield Label("PIN")
            yield Input(password=True, id="pin")

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        username = self.query_one("#username", Input).value.strip()
        if event.input.id == "username" or not username:
            self.query_one("#pin" if username else "#username", Input).focus()
            return
        self.dismiss(SignInDetails(username, self.query_one("#pin", Input).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class CountPicker(ModalScreen[str | None]):
    """The counts assigned to this device; Enter opens one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, counts: list[CountInfo]) -> None:
        super().__init__()
        self._counts = counts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Open a count", classes="title")
            if not self._counts:
                yield Static("No counts assigned to this device yet: dock it to sync.")
            yield OptionList(
                *[
                    Option(
                        f"{c.count}  {c.location}  {c.status.replace('_', ' ')}  "
                        f"{len(c.bins)} bins{'  blind' if c.blind else ''}  {c.description}",
                        id=c.count,
                    )
                    for c in self._counts
                ],
                id="counts",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecountsScreen(ModalScreen[None]):
    """The supervisor's recount orders for the open count."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("enter", "close", "Close")]

    def __init__(self, orders: list[RecountInfo]) -> None:
        super().__init__()
        self._orders = orders

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Recount orders (Esc closes)", classes="title")
            if not self._orders:
                yield Static("No recount orders for this count.")
            for order in self._orders:
                yield Static(f"bin {order.bin}: {order.reason or 'recount ordered'}")

    def action_close(self) -> None:
        self.dismiss(None)
