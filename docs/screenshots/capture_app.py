"""Writes docs/screenshots/counting-app.svg (Textual's `export_screenshot`) and its text
(counting-app.txt, read back from the SVG's character cells): the counting app, headless,
after a counter signed in and scanned a few labels (tests/unit/handheld's reference data).

    PYTHONPATH=. .venv/bin/python docs/screenshots/capture_app.py
"""

from __future__ import annotations

import asyncio
import html
import re
import tempfile
from pathlib import Path

from handheld_sync.app.counting_app import CountingApp
from handheld_sync.counters import make_verifier
from handheld_sync.counting import ScannerSettings
from schemas.sync import CounterRef
from tests.unit.handheld.reference import BOLT_EAN, PUMP_GTIN, RESIN_GTIN, new_store
from tests.unit.handheld.test_workflow import FAST, pull_page

OUT = Path(__file__).with_name("counting-app.svg")
CELL = 12.2  # the width of a character cell in Textual's SVG, in its units
TEXT = re.compile(r'<text class="[^"]*-r\d+" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>')


def svg_text(svg: str) -> str:
    """The screen's characters, row by row, from the SVG's positioned text runs."""
    rows: dict[float, dict[int, str]] = {}
    for x, y, run in TEXT.findall(svg):
        column = round(float(x) / CELL)
        for offset, char in enumerate(html.unescape(run).replace("\xa0", " ")):
            rows.setdefault(float(y), {})[column + offset] = char
    ys = sorted(rows)
    step = min(b - a for a, b in zip(ys, ys[1:], strict=False))  # one screen row
    lines = [""] * (round((ys[-1] - ys[0]) / step) + 1)
    for y, cells in rows.items():
        row = "".join(cells.get(i, " ") for i in range(max(cells) + 1)).rstrip()
        lines[round((y - ys[0]) / step)] = row
    return "\n".join(lines) + "\n"


async def capture(path: Path) -> str:
    app = CountingApp(path, settings=ScannerSettings(gs_replacement="|"))
    async with app.run_test(size=(100, 18)) as pilot:
        await pilot.press("enter")  # SC-1 from the count picker
        await pilot.press("f7", *"ana", "enter", *"4711", "enter")
        for text in (
            "]C0MAIN-A01-01",
            f"]d201{PUMP_GTIN}21SN-1001",
            f"]d201{PUMP_GTIN}21SN-1002",
            f"]E0{BOLT_EAN}",
            f"]E0{BOLT_EAN}",
            f"]E0{BOLT_EAN}",
            f"]C101{RESIN_GTIN}10L-7|3012",
            f"]d201{PUMP_GTIN}21SN-1002",
        ):
            await pilot.press(*text, "enter")
        await pilot.pause()
        return app.export_screenshot(title="stockcount-handheld app")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.sqlite3"
        with new_store(path) as store:
            pull_page(store, [CounterRef(username="ana", verifier=make_verifier("4711", **FAST))])
        svg = asyncio.run(capture(path))
    OUT.write_text(svg)
    OUT.with_suffix(".txt").write_text(svg_text(svg))
    print(f"wrote {OUT} and {OUT.with_suffix('.txt')}")


if __name__ == "__main__":
    main()
