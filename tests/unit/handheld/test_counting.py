"""The counting workflow on a real store: each rule, and the outbox events it leaves."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from handheld_sync.counting import CountingSession
from handheld_sync.errors import (
    BinStillOpen,
    MalformedBarcode,
    NoBinOpen,
    NoCountOpen,
    NotAllowed,
)
from handheld_sync.scan.text import GS, parse_scanner_text
from handheld_sync.store import Store
from schemas.sync import BinClosed, BinOpened, QuantityKeyed, ScanUndone, SerialScanned
from tests.unit.handheld.reference import (
    BOLT_EAN,
    PUMP_GTIN,
    RESIN_GTIN,
    new_store,
    reference_page,
)


def serial_label(serial: str) -> str:
    return f"]d201{PUMP_GTIN}21{serial}"


@pytest.fixture
def session(tmp_path: Path) -> CountingSession:
    return CountingSession(new_store(tmp_path / "s.sqlite3"))


def bodies(store: Store) -> list[object]:
    return [e.event().body for e in store.outbox()]


def scan(session: CountingSession, text: str):  # type: ignore[no-untyped-def]
    return session.scan(parse_scanner_text(text))


def test_a_bin_count_from_label_to_close(session: CountingSession) -> None:
    session.open("SC-1")
    opened = scan(session, "]C0MAIN-A01-01")
    assert opened.seq == 1 and "opened" in opened.message
    assert scan(session, serial_label("SN-1")).seq == 2
    assert scan(session, "SN-7").seq == 3  # an expected serial, bare
    assert session.key_quantity("BOLT", "250").seq == 4
    assert scan(session, "]C101" + RESIN_GTIN + "10L-9" + GS + "3040").seq == 5
    closed = session.close_bin()
    assert closed.seq == 6 and "4 scan(s)" in closed.message
    assert session.open_bin is None

    assert bodies(session.store) == [
        BinOpened(count="SC-1", bin="MAIN-A01-01"),
        SerialScanned(
            count="SC-1",
            bin="MAIN-A01-01",
            bin_seq=1,
            item="PUMP",
            serial="SN-1",
            raw=serial_label("SN-1"),
            symbology="DATAMATRIX",
        ),
        SerialScanned(
            count="SC-1", bin="MAIN-A01-01", bin_seq=1, item="PUMP", serial="SN-7", raw="SN-7"
        ),
        QuantityKeyed(
            count="SC-1", bin="MAIN-A01-01", bin_seq=1, item="BOLT", quantity=Decimal("250")
        ),
        QuantityKeyed(
            count="SC-1",
            bin="MAIN-A01-01",
            bin_seq=1,
            item="RESIN",
            quantity=Decimal("40"),
            lot="L-9",
            source="gs1",
            raw="]C101" + RESIN_GTIN + "10L-9" + GS + "3040",
        ),
        BinClosed(count="SC-1", bin="MAIN-A01-01", bin_seq=1),
    ]


def test_state_survives_a_new_session_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    first = CountingSession(new_store(path))
    first.open("SC-1")
    scan(first, "MAIN-A01-01")
    first.store.close()
    with Store.open(path) as store:
        again = CountingSession(store)
        assert again.open_count is not None and again.open_count.count == "SC-1"
        assert again.open_bin is not None and again.open_bin.bin == "MAIN-A01-01"
        assert scan(again, serial_label("SN-2")).seq == 2


def test_the_same_serial_twice_in_one_bin_is_ignored(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    assert scan(session, serial_label("SN-1")).recorded
    again = scan(session, serial_label("SN-1"))
    assert not again.recorded and "already counted in this bin: ignored" in again.message
    assert len(session.store.outbox()) == 2


def test_a_serial_already_in_another_bin_is_flagged(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    scan(session, serial_label("SN-1"))
    session.close_bin()
    scan(session, "MAIN-A01-02")
    flagged = scan(session, serial_label("SN-1"))
    assert flagged.recorded and flagged.flagged and "MAIN-A01-01" in flagged.message
    body = session.store.outbox()[-1].event().body
    assert isinstance(body, SerialScanned) and body.also_in_bin == "MAIN-A01-01"


def test_a_recount_of_the_same_bin_is_not_flagged(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    scan(session, serial_label("SN-1"))
    session.close_bin()
    scan(session, "MAIN-A01-01")  # the same bin again: a new bin count
    again = scan(session, serial_label("SN-1"))
    assert again.recorded and not again.flagged


def test_an_undone_serial_can_be_scanned_again_and_is_not_flagged_elsewhere(
    session: CountingSession,
) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    scan(session, serial_label("SN-1"))
    undone = session.undo()
    assert "undone: serial SN-1 of PUMP" in undone.message
    assert session.store.outbox()[-1].event().body == ScanUndone(
        count="SC-1", bin="MAIN-A01-01", bin_seq=1, target_seq=2
    )
    with pytest.raises(NotAllowed, match="nothing to undo"):
        session.undo()
    with pytest.raises(NotAllowed, match="nothing counted"):
        session.close_bin()
    assert session.close_bin(empty=True).recorded
    scan(session, "MAIN-A01-02")
    assert not scan(session, serial_label("SN-1")).flagged


def test_undo_takes_back_the_last_scan_first(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    session.key_quantity("BOLT", "5")
    session.key_quantity("BOLT", "7")
    assert session.undo().message == "undone: 7 of BOLT: 5 in bin MAIN-A01-01"
    assert [s.quantity for s in session.bin_scans()] == [Decimal("5")]


def test_closing_an_empty_bin_needs_confirmation(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-03")
    with pytest.raises(NotAllowed, match="close-bin --empty"):
        session.close_bin()
    assert session.store.outbox_summary()["pending"] == 1
    closed = session.close_bin(empty=True)
    assert closed.recorded and "empty, confirmed" in closed.message
    assert session.store.outbox()[-1].event().body == BinClosed(
        count="SC-1", bin="MAIN-A01-03", bin_seq=1, confirmed_empty=True
    )


def test_empty_confirmation_refused_for_a_bin_with_scans(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    session.key_quantity("BOLT", "1")
    with pytest.raises(NotAllowed, match="not empty"):
        session.close_bin(empty=True)


def test_quantities_follow_item_tracking(session: CountingSession) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    with pytest.raises(NotAllowed, match="serialized: scan each serial"):
        session.key_quantity("PUMP", "2")
    with pytest.raises(NotAllowed, match="lot-tracked"):
        session.key_quantity("RESIN", "2")
    with pytest.raises(NotAllowed, match="has no lots"):
        session.key_quantity("BOLT", "2", lot="L1")
    for bad in ["0", "-1", "abc", "1.23456", "NaN", "Infinity"]:
        with pytest.raises(NotAllowed, match="not a quantity"):
            session.key_quantity("BOLT", bad)
    with pytest.raises(NotAllowed, match="no item NOPE"):
        session.key_quantity("NOPE", "1")
    by_barcode = session.key_quantity(BOLT_EAN, "2.5")
    assert by_barcode.message == "2.5 of BOLT counted: 2.5 in bin MAIN-A01-01"
    assert session.key_quantity("RESIN", "3", lot="L-1").recorded
    assert len(session.store.outbox()) == 3  # the bin and the two good quantities


def test_an_item_barcode_counts_one_and_a_serialized_item_label_asks_for_its_serial(
    session: CountingSession,
) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    one = scan(session, "]E0" + BOLT_EAN)
    assert (one.item, one.quantity, one.total) == ("BOLT", Decimal(1), Decimal(1))
    asked = scan(session, "]E0" + PUMP_GTIN[1:])  # the pump's EAN-13
    assert "now scan its serial" in asked.message and not asked.recorded
    assert asked.outcome == "needs_input"
    serial = scan(session, "]C0X-5501")  # the serial label that follows
    assert serial.recorded and "serial X-5501 of PUMP" in serial.message
    assert len(session.store.outbox()) == 3


def test_unknown_and_malformed_barcodes_are_kept_and_not_counted(
    session: CountingSession,
) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    unknown = scan(session, "]E05901234123457")
    assert unknown.outcome == "unknown" and unknown.recorded and "not counted" in unknown.message
    malformed = scan(session, "]d20104012345678902")  # bad GTIN check digit
    assert malformed.outcome == "unknown" and malformed.code == "malformed_barcode"
    assert [b.problem for b in bodies(session.store)[1:]] == ["unknown", "malformed"]  # type: ignore[attr-defined]
    kept = session.store.unknown_scans("SC-1")
    assert [(u.bin, u.raw) for u in kept] == [
        ("MAIN-A01-01", "]E05901234123457"),
        ("MAIN-A01-01", "]d20104012345678902"),
    ]
    assert session.bin_scans() == []  # nothing counted
    with pytest.raises(MalformedBarcode):
        session.scan_text(GS + " ")  # an empty scan is no barcode at all: nothing to keep


def test_bins_and_counts_rules(session: CountingSession) -> None:
    with pytest.raises(NoCountOpen):
        scan(session, "MAIN-A01-01")
    with pytest.raises(NotAllowed, match="not assigned"):
        session.open("SC-9")
    with pytest.raises(NotAllowed, match="completed"):
        session.open("SC-OLD")
    session.open("SC-1")
    with pytest.raises(NoBinOpen):
        session.key_quantity("BOLT", "1")
    with pytest.raises(NoBinOpen):
        scan(session, serial_label("SN-1"))
    with pytest.raises(NotAllowed, match="not part of count SC-1"):
        scan(session, "MAIN-OUT-01")
    scan(session, "MAIN-A01-01")
    assert "already open" in scan(session, "MAIN-A01-01").message
    with pytest.raises(BinStillOpen, match="close-bin"):
        scan(session, "MAIN-A01-02")
    with pytest.raises(BinStillOpen):
        session.open("SC-2")
    assert len(session.store.outbox()) == 1


def test_blind_count_has_no_expected_serials(session: CountingSession) -> None:
    session.open("SC-2")
    scan(session, "MAIN-A01-01")
    # expected in SC-1, but SC-2 is blind: the device cannot know
    assert scan(session, "SN-7").outcome == "unknown"


def test_recount_orders(session: CountingSession) -> None:
    session.open("SC-1")
    [order] = session.recounts()
    assert (order.bin, order.reason) == ("MAIN-A01-03", "variance")
    assert "recount: variance" in scan(session, "MAIN-A01-03").message
    session.store.close()


# --- the in-memory copies of state and reference data (store.py, "Caching") ---------------


def test_a_serial_scan_runs_only_the_statements_that_record_it(
    session: CountingSession,
) -> None:
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    scan(session, serial_label("SN-1"))
    statements: list[str] = []
    session.store.connection.set_trace_callback(statements.append)
    assert scan(session, serial_label("SN-2")).recorded
    session.store.connection.set_trace_callback(None)
    assert [s.split()[0] for s in statements] == [
        "PRAGMA",  # data_version: has another process written since the last scan?
        "SELECT",  # the serial in this count already (a duplicate, or in another bin)
        "BEGIN",
        "PRAGMA",  # data_version again, now that this store holds the write lock
        "UPDATE",  # the seq
        "INSERT",  # the scan
        "INSERT",  # its outbox entry
        "COMMIT",
        "WITH",  # after the beep: the bin's running total of the item, for the screen
    ]


def test_what_another_process_changes_is_seen_by_the_next_scan(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    session = CountingSession(new_store(path))
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    assert scan(session, serial_label("SN-1")).recorded
    with Store.open(path) as other:  # a CLI command in another process
        CountingSession(other).close_bin()
    with pytest.raises(NoBinOpen):
        scan(session, serial_label("SN-2"))
    with Store.open(path) as other:
        other.set_setting("open_count", None)
    with pytest.raises(NoCountOpen):
        scan(session, "MAIN-A01-01")
    session.store.close()


def test_a_rolled_back_transaction_leaves_no_state_in_memory(session: CountingSession) -> None:
    session.open("SC-1")
    store = session.store

    def switch_then_fail() -> None:
        with store.transaction():
            store.set_setting("open_count", "SC-2")
            assert store.setting("open_count") == "SC-2"
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        switch_then_fail()
    assert store.setting("open_count") == "SC-1"
    assert session.open_count is not None and session.open_count.count == "SC-1"


@pytest.mark.parametrize("where", ["this store", "another process"])
def test_a_pull_is_seen_by_the_next_scan(tmp_path: Path, where: str) -> None:
    path = tmp_path / "s.sqlite3"
    session = CountingSession(new_store(path))
    session.open("SC-1")
    scan(session, "MAIN-A01-01")
    assert scan(session, serial_label("SN-1")).recorded  # count, bin and item now in memory
    page = reference_page(change_seq=11)
    page = msgspec.structs.replace(
        page,
        counts=[
            msgspec.structs.replace(c, status="completed") if c.count == "SC-1" else c
            for c in page.counts
        ],
    )
    if where == "this store":
        session.store.apply_pull(page)
    else:
        with Store.open(path) as other:
            other.apply_pull(page)
    with pytest.raises(NotAllowed, match="completed"):
        scan(session, serial_label("SN-2"))
    session.store.close()


def test_a_write_rests_on_what_the_database_holds_not_on_a_stale_copy(tmp_path: Path) -> None:
    """Another process commits between a scan's check of the copies and its transaction:
    inside the transaction the store sees it (a setting it would leave alone is written)."""
    path = tmp_path / "s.sqlite3"
    store = new_store(path)
    assert store.setting("serial_item") is None
    with store.checked_once():
        with Store.open(path) as other:
            other.set_setting("serial_item", "PUMP")
        assert store.setting("serial_item") is None  # the copy, checked on entry
        with store.transaction():
            store.set_setting("serial_item", None)  # not skipped: the database holds PUMP
    assert store.setting("serial_item") is None
    with Store.open(path) as other:
        assert other.setting("serial_item") is None
    store.close()
