"""The counting app, headless (Textual's pilot), on a real store: scanner input as
scanners type it (AIM prefixes, GS or its replacement, Enter), every scan in the store
before the screen says so, a burst that loses none, the keys, and the feedback."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from handheld_sync.app.counting_app import CountingApp
from handheld_sync.app.widgets import Feedback
from handheld_sync.counters import make_verifier
from handheld_sync.counting import CountingSession, ScannerSettings
from handheld_sync.store import Store
from schemas.sync import (
    BarcodeUnknown,
    BinClosed,
    BinOpened,
    CounterRef,
    QuantityKeyed,
    ScanUndone,
    SerialScanned,
)
from tests.unit.handheld.reference import BOLT_EAN, PUMP_GTIN, RESIN_GTIN, new_store
from tests.unit.handheld.test_workflow import CABLE_EAN, FAST, pull_page

GS = "\x1d"


class RecordingApp(CountingApp):
    """The app with the scanner settings of the test (not the environment's), counting
    the terminal bells it rings."""

    bells = 0

    def __init__(self, path: Path, **settings: str) -> None:
        super().__init__(path, settings=ScannerSettings(**settings))  # type: ignore[arg-type]

    def bell(self) -> None:
        self.bells += 1


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    with new_store(path) as store:
        CountingSession(store).open("SC-1")
    return path


def bodies(path: Path) -> list[object]:
    with Store.open(path) as store:
        return [entry.event().body for entry in store.outbox()]


async def scan(pilot: Pilot[None], text: str) -> None:
    """Type `text` as a keyboard-wedge scanner does, Enter last."""
    await pilot.press(*text, "enter")


def shown(app: CountingApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def feedback(app: CountingApp) -> tuple[str, str]:
    widget = app.query_one(Feedback)
    tone = next(t for t in ("ok", "warn", "error", "info") if widget.has_class(f"-{t}"))
    return tone, str(widget.render())


def totals(app: CountingApp) -> list[tuple[str, str]]:
    """(item and lot, counted) per row of the bin's running totals."""
    table = app.query_one("#totals", DataTable)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    return [(f"{row[0]} {row[1]}".strip(), str(row[2])) for row in rows]


async def test_scanner_text_with_aim_prefixes_and_gs_counts_into_the_store(
    store_path: Path,
) -> None:
    app = RecordingApp(store_path)
    async with app.run_test() as pilot:
        await scan(pilot, "]C0MAIN-A01-01")
        assert "MAIN-A01-01" in shown(app, "#bin")
        assert feedback(app)[0] == "ok"
        await scan(pilot, f"]d201{PUMP_GTIN}21SN-1")  # GS1 DataMatrix, serial last
        await scan(pilot, f"]C101{RESIN_GTIN}10L-9{GS}3040")  # GS1-128: lot, GS, AI 30
        await scan(pilot, f"]Q301{RESIN_GTIN}10L-9{GS}302")  # GS1 QR: two more of the lot
        assert feedback(app) == ("ok", "✔ 2 of RESIN lot L-9 counted: 42 in bin MAIN-A01-01")
        assert totals(app) == [("PUMP", "1"), ("RESIN L-9", "42")]
        assert app.bells == 0
    assert bodies(store_path)[1:] == [
        SerialScanned(
            count="SC-1",
            bin="MAIN-A01-01",
            bin_seq=1,
            item="PUMP",
            serial="SN-1",
            raw=f"]d201{PUMP_GTIN}21SN-1",
            symbology="DATAMATRIX",
        ),
        QuantityKeyed(
            count="SC-1",
            bin="MAIN-A01-01",
            bin_seq=1,
            item="RESIN",
            quantity=40,  # type: ignore[arg-type]
            lot="L-9",
            source="gs1",
            raw=f"]C101{RESIN_GTIN}10L-9{GS}3040",
        ),
        QuantityKeyed(
            count="SC-1",
            bin="MAIN-A01-01",
            bin_seq=1,
            item="RESIN",
            quantity=2,  # type: ignore[arg-type]
            lot="L-9",
            source="gs1",
            raw=f"]Q301{RESIN_GTIN}10L-9{GS}302",
        ),
    ]


async def test_the_scanners_gs_replacement_is_read_as_gs(store_path: Path) -> None:
    app = RecordingApp(store_path, gs_replacement="|")
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-02")
        await scan(pilot, f"]C101{RESIN_GTIN}10L-4|305")
        assert totals(app) == [("RESIN L-4", "5")]
    last = bodies(store_path)[-1]
    assert isinstance(last, QuantityKeyed) and last.raw == f"]C101{RESIN_GTIN}10L-4{GS}305"


async def test_unknown_barcodes_are_kept_and_duplicates_are_not_stored_both_with_the_bell(
    store_path: Path,
) -> None:
    app = RecordingApp(store_path)
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-01")
        await scan(pilot, "0000000000000")
        tone, text = feedback(app)
        assert tone == "error" and "kept for the supervisor, not counted" in text
        assert app.bells == 1
        await scan(pilot, f"]d201{PUMP_GTIN}21SN-1")
        await scan(pilot, f"]d201{PUMP_GTIN}21SN-1")  # the same serial again
        tone, text = feedback(app)
        assert tone == "warn" and "already counted" in text and app.bells == 2
        assert totals(app) == [("PUMP", "1")]
    kept = bodies(store_path)
    assert [type(b) for b in kept] == [BinOpened, BarcodeUnknown, SerialScanned]
    assert isinstance(kept[1], BarcodeUnknown)
    assert (kept[1].raw, kept[1].bin) == ("0000000000000", "MAIN-A01-01")


async def test_every_scan_of_an_ean_counts_one_with_the_running_total(store_path: Path) -> None:
    app = RecordingApp(store_path)
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-02")
        for n in (1, 2, 3):
            await scan(pilot, "]E0" + BOLT_EAN)
            assert totals(app) == [("BOLT", str(n))]
            assert feedback(app) == ("ok", f"✔ 1 of BOLT counted: {n} in bin MAIN-A01-02")
        await pilot.press("f2", *"BOLT", "enter", *"+2", "enter")  # +N adds
        assert totals(app) == [("BOLT", "5")]
        await pilot.press("f2", *"BOLT", "enter", *"4", "enter")  # N is the bin's total
        assert totals(app) == [("BOLT", "4")]


async def test_a_measure_item_opens_the_quantity_dialog_for_it(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with new_store(path) as store:
        pull_page(store, None)
        CountingSession(store).open("SC-1")
    app = RecordingApp(path)
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-02")
        await scan(pilot, CABLE_EAN)
        assert type(app.screen).__name__ == "QuantityScreen" and app.bells == 1
        await pilot.press(*"12.5", "enter")
        assert totals(app) == [("CABLE", "12.5")]
    last = bodies(path)[-1]
    assert isinstance(last, QuantityKeyed) and (last.item, last.mode) == ("CABLE", "set")


async def test_a_counter_signs_in_and_out_with_f7_and_every_event_names_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite3"
    with new_store(path) as store:
        pull_page(store, [CounterRef(username="ana", verifier=make_verifier("4711", **FAST))])
        CountingSession(store).open("SC-1")
    app = RecordingApp(path)
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-01")
        assert feedback(app)[0] == "error" and "sign in" in feedback(app)[1]
        await pilot.press("f7", *"ana", "enter", *"0000", "enter")  # a wrong PIN
        assert feedback(app)[0] == "error" and "nobody signed in" in shown(app, "#count")
        await pilot.press("f7", *"ana", "enter", *"4711", "enter")
        assert feedback(app) == ("ok", "✔ signed in: ana") and "counter ana" in shown(app, "#count")
        await scan(pilot, "MAIN-A01-01")
        await scan(pilot, "]E0" + BOLT_EAN)
        await pilot.press("f7")
        assert feedback(app) == ("ok", "✔ ana signed out")
    assert [getattr(b, "counter", None) for b in bodies(path)] == ["ana", "ana"]


async def test_keys_key_a_quantity_undo_and_close_the_bin(store_path: Path) -> None:
    app = RecordingApp(store_path)
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-02")
        await pilot.press("f2")  # quantity: item, Enter, quantity, Enter
        await pilot.press(*"BOLT", "enter", *"250", "enter")
        assert totals(app) == [("BOLT", "250")]
        await scan(pilot, f"]d201{PUMP_GTIN}21SN-2")
        await pilot.press("f3")  # undo takes back the serial
        assert feedback(app)[1].startswith("✔ undone: serial SN-2 of PUMP")
        assert totals(app) == [("BOLT", "250")]
        await pilot.press("f4")
        assert "closed" in feedback(app)[1] and "scan a bin label" in shown(app, "#bin")
        await scan(pilot, "MAIN-A01-03")
        assert "recount" in feedback(app)[1]  # the supervisor's order for this bin
        await pilot.press("f5")  # confirmed empty
        assert "empty, confirmed" in feedback(app)[1]
        await pilot.press("f6")
        assert "variance" in str(app.screen.query(Static).last().render())
        await pilot.press("escape")
    kinds = [type(b).__name__ for b in bodies(store_path)]
    assert kinds == [
        "BinOpened",
        "QuantityKeyed",
        "SerialScanned",
        "ScanUndone",
        "BinClosed",
        "BinOpened",
        "BinClosed",
    ]
    closed = bodies(store_path)
    assert isinstance(closed[3], ScanUndone) and closed[3].target_seq == 3
    assert isinstance(closed[6], BinClosed) and closed[6].confirmed_empty


async def test_without_an_open_count_the_app_offers_the_counts(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    new_store(path).close()
    app = RecordingApp(path)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "CountPicker"
        await pilot.press("down", "enter")  # the second: SC-2
        assert "COUNT SC-2" in shown(app, "#count")
        await scan(pilot, "MAIN-OUT-01")
        assert "MAIN-OUT-01" in shown(app, "#bin")
    assert bodies(path) == [BinOpened(count="SC-2", bin="MAIN-OUT-01")]


async def test_a_burst_of_20_scans_a_second_loses_none(store_path: Path) -> None:
    """The keystrokes of 20 scans arrive at 20 scans a second, without waiting for the
    screen; every scan is in the store, in order."""
    app = RecordingApp(store_path)
    serials = [f"SN-B{n:02d}" for n in range(20)]
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-01")
        start = time.perf_counter()
        for n, serial in enumerate(serials):
            for char in f"]d201{PUMP_GTIN}21{serial}\r":
                key = "enter" if char == "\r" else _character_to_key(char)
                app.post_message(events.Key(key, char))
            await asyncio.sleep(max(0.0, start + (n + 1) / 20 - time.perf_counter()))
        await pilot.pause()
        for _ in range(100):
            if totals(app) == [("PUMP", "20")]:
                break
            await pilot.pause(0.05)
        assert totals(app) == [("PUMP", "20")]
        assert app.bells == 0
    scanned = [b.serial for b in bodies(store_path) if isinstance(b, SerialScanned)]
    assert scanned == serials


async def test_gs_arrives_from_a_terminal_as_ctrl_right_square_bracket(store_path: Path) -> None:
    """A terminal reads 0x1D as the key ctrl+] with the character GS (Textual's parser):
    the scanner line keeps it in the scan."""
    app = RecordingApp(store_path)
    async with app.run_test() as pilot:
        await scan(pilot, "MAIN-A01-02")
        for char in f"]C101{RESIN_GTIN}10L-5{GS}307\r":
            if char == GS:
                key = "ctrl+right_square_bracket"
            else:
                key = "enter" if char == "\r" else _character_to_key(char)
            app.post_message(events.Key(key, char))
        await pilot.pause()
        assert totals(app) == [("RESIN L-5", "7")]
