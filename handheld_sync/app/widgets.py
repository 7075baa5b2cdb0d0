"""The counting screen's own widgets: the scanner's line, and what it shows of a scan.

A keyboard-wedge scanner types the barcode's text as keystrokes and ends it with Enter;
some send the GS1 separator GS (0x1D, Ctrl+]) between elements, which an input field
would drop as unprintable. `ScannerLine` keeps every character, GS included, and hands
the whole line over on Enter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

GS = "\x1d"
Tone = Literal["ok", "warn", "error", "info"]


class ScannerLine(Static, can_focus=True):
    """Collects keystrokes until Enter, then posts `ScannerLine.Scanned` with the text."""

    @dataclass
    class Scanned(Message):
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._buffer: list[str] = []

    @property
    def pending(self) -> str:
        return "".join(self._buffer)

    def _redraw(self) -> None:
        shown = self.pending.replace(GS, "<GS>")
        self.update(Text.assemble(("scan ▸ ", "bold"), shown, ("▏", "blink")))

    def on_mount(self) -> None:
        self._redraw()

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            text, self._buffer = self.pending, []
            if text.strip():
                self.post_message(self.Scanned(text))
        elif event.key == "backspace":
            if self._buffer:
                self._buffer.pop()
        elif event.character and (event.character.isprintable() or event.character == GS):
            self._buffer.append(event.character)
        else:
            return  # function keys and the rest go to the bindings
        event.stop()
        event.prevent_default()
        self._redraw()


class Feedback(Static):
    """The last scan and its result, coloured by how it went."""

    def show(self, tone: Tone, message: str) -> None:
        for name in ("ok", "warn", "error", "info"):
            self.set_class(name == tone, f"-{name}")
        mark = {"ok": "✔", "warn": "!", "error": "✘", "info": "·"}[tone]
        self.update(f"{mark} {message}")
