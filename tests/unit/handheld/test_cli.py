"""`stockcount-handheld` as a real process on a real store file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from handheld_sync.store import Store
from tests.unit.handheld import images
from tests.unit.handheld.reference import PUMP_GTIN, write_reference

HANDHELD = Path(sys.executable).parent / "stockcount-handheld"
ROOT = Path(__file__).resolve().parents[3]


def run(store: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HANDHELD), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, "STOCKCOUNT_HANDHELD_STORE": str(store), **env},
    )


def ok(store: Path, *args: str, **env: str) -> str:
    done = run(store, *args, **env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def fails(store: Path, *args: str, **env: str) -> str:
    done = run(store, *args, **env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stockcount-handheld: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "device" / "store.sqlite3"
    assert "created" in ok(path, "init")
    ok(path, "load-reference", str(write_reference(tmp_path / "page.json")))
    return path


def test_init_then_refuses_twice_and_commands_need_a_store(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    assert "run 'stockcount-handheld init' first" in fails(path, "counts")
    out = ok(path, "init", "--store", str(path))
    assert "install" in out and path.is_file()
    assert "already holds a store" in fails(path, "init")


def test_a_count_through_the_command_line(store: Path, tmp_path: Path) -> None:
    table = ok(store, "counts")
    assert table.splitlines()[0].split() == [
        "COUNT",
        "LOCATION",
        "STATUS",
        "BLIND",
        "BINS",
        "DESCRIPTION",
    ]
    assert "SC-2" in table and "blind" in table
    assert "count SC-1 open" in ok(store, "open", "SC-1")
    assert "no bin is open: scan a bin label first" in fails(store, "qty", "BOLT", "1")
    assert "bin MAIN-A01-01 opened" in ok(store, "scan", "]C0MAIN-A01-01")
    assert "serial SN-1 of PUMP counted" in ok(store, "scan", f"]d201{PUMP_GTIN}21SN-1")
    assert "ignored" in ok(store, "scan", f"]d201{PUMP_GTIN}21SN-1")
    # An unknown barcode is kept (an event for the supervisor), and counts nothing: exit 1.
    assert "stored #3" in fails(store, "scan", "]E05901234123457")
    assert "lot-tracked" in fails(store, "qty", "RESIN", "4")
    # qty ITEM N sets the bin's total, qty ITEM +N adds.
    assert "stored #4: total of RESIN lot L1 set to 4: 4 in bin" in ok(
        store, "qty", "RESIN", "4", "--lot", "L1"
    )
    assert "1 of RESIN lot L1 counted: 5 in bin" in ok(store, "qty", "RESIN", "+1", "--lot", "L1")
    assert "undone: 1 of RESIN: 4 in bin" in ok(store, "undo")
    # GS1 with the scanner's replacement for GS.
    out = ok(store, "scan", "]C101" + "09501101530003" + "10L2~3007", STOCKCOUNT_HANDHELD_GS="~")
    assert "7 of RESIN lot L2 counted: 7 in bin" in out
    assert "undone: 7 of RESIN" in ok(store, "undo")

    frame = tmp_path / "frame.png"
    images.in_frame(images.zxing_written(f"(01){PUMP_GTIN}(21)SN-2", "DataMatrix", gs1=True)).save(
        frame
    )
    assert "serial SN-2 of PUMP counted" in ok(store, "scan", "--image", str(frame))

    status = ok(store, "status")
    assert "count: SC-1   bin: MAIN-A01-01 (3 scans)" in status
    assert outbox_states(status) == {
        "pending": "9",
        "applied": "0",
        "duplicate": "0",
        "rejected": "0",
    }
    assert "has 3 scan(s), it is not empty" in fails(store, "close-bin", "--empty")
    assert "closed: 3 scan(s)" in ok(store, "close-bin")
    assert ok(store, "recounts").splitlines()[2].split() == ["1", "SC-1", "MAIN-A01-03", "variance"]

    with Store.open(store) as opened:
        assert [e.kind for e in opened.outbox(state="pending")] == [
            "bin_opened",
            "serial_scanned",
            "barcode_unknown",
            "quantity_keyed",
            "quantity_keyed",
            "scan_undone",
            "quantity_keyed",
            "scan_undone",
            "serial_scanned",
            "bin_closed",
        ]


def test_status_lists_waiting_events_per_state(store: Path) -> None:
    ok(store, "open", "SC-1")
    ok(store, "scan", "MAIN-A01-03")
    ok(store, "close-bin", "--empty")
    assert outbox_states(ok(store, "status")) == {
        "pending": "2",
        "applied": "0",
        "duplicate": "0",
        "rejected": "0",
    }


def outbox_states(status: str) -> dict[str, str]:
    rows = [line.split() for line in status.splitlines()]
    states = {"pending", "applied", "duplicate", "rejected"}
    return {row[0]: row[1] for row in rows if len(row) == 2 and row[0] in states}


def test_image_errors_are_one_line(store: Path, tmp_path: Path) -> None:
    ok(store, "open", "SC-1")
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 100), 255).save(blank)
    assert "no barcode found" in fails(store, "scan", "--image", str(blank))
    assert "no such file" in fails(store, "scan", "--image", str(tmp_path / "nope.png"))
    assert "not both" in fails(store, "scan", "X", "--image", str(blank))


def test_a_crashing_decoder_is_reported_and_the_store_is_intact(
    store: Path, tmp_path: Path
) -> None:
    ok(store, "open", "SC-1")
    ok(store, "scan", "MAIN-A01-01")
    deadly = tmp_path / "deadly.png"
    image = Image.new("L", (64, 64), 255)
    image.putpixel((0, 0), 0)
    image.save(deadly)
    line = fails(
        store,
        "scan",
        "--image",
        str(deadly),
        STOCKCOUNT_HANDHELD_DECODER="tests.unit.handheld.crashing_decoder:CrashingDecoder",
    )
    assert "barcode decoder stopped (killed by SIGABRT)" in line and "scan again" in line
    assert "serial SN-3 of PUMP counted" in ok(store, "scan", f"]d201{PUMP_GTIN}21SN-3")
    with Store.open(store) as opened:
        assert [e.seq for e in opened.outbox()] == [1, 2]


def test_push_progress_is_a_rich_bar_of_events_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from handheld_sync.cli import PushProgress

    with PushProgress() as progress:
        progress(0, 5)
        progress(3, 5)
        progress(5, 5)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("push ") and captured.err.rstrip().endswith("5/5 events")
    assert "━" in captured.err  # rich's bar, not a hand-drawn one


def test_a_counter_signs_in_and_out_on_the_command_line(store: Path, tmp_path: Path) -> None:
    from handheld_sync.counters import make_verifier
    from schemas.sync import CounterRef, PullCursor, PullResponse

    with Store.open(store) as opened:
        opened.apply_pull(
            PullResponse(
                protocol_version=2,
                cursor=PullCursor(epoch="epoch-1", change_seq=11),
                has_more=False,
                counters=[CounterRef(username="ana", verifier=make_verifier("4711", n=16, r=1))],
            )
        )
    ok(store, "open", "SC-1")
    assert "nobody is signed in" in fails(store, "scan", "MAIN-A01-01")
    assert "counter: - (sign in to scan)" in ok(store, "status")
    assert "wrong PIN for ana" in fails(store, "sign-in", "ana", "--pin", "1111")
    assert "signed in: ana" in ok(store, "sign-in", "ana", "--pin", "4711")
    assert "counter: ana" in ok(store, "status")
    assert "bin MAIN-A01-01 opened" in ok(store, "scan", "MAIN-A01-01")
    assert "ana signed out" in ok(store, "sign-out")
    with Store.open(store) as opened:
        [body] = [e.event().body for e in opened.outbox()]
        assert getattr(body, "counter", None) == "ana"
