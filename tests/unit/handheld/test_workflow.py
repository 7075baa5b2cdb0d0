"""The counting workflow as a screen calls it (one call per counter action, a result to
show), and counters signing in offline: on a real store, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from handheld_sync.counters import SignIn, make_verifier, pin_matches
from handheld_sync.counting import CountingWorkflow, ScannerSettings
from handheld_sync.store import Store
from schemas.sync import (
    BarcodeUnknown,
    BinClosed,
    BinOpened,
    CounterRef,
    DeviceSettings,
    ItemRef,
    PullCursor,
    PullResponse,
    QuantityKeyed,
    ScanUndone,
)
from tests.unit.handheld.reference import BOLT_EAN, new_store, reference_page

CABLE_EAN = "4012345000016"  # counted by measure
AUTO_EAN = "4012345000023"  # auto-serialized
FAST = {"n": 16, "r": 1, "p": 1}  # a cheap verifier for tests; the server's are slow


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def pull_page(
    store: Store, counters: list[CounterRef] | None, settings: DeviceSettings | None = None
) -> None:
    cursor = store.pull_cursor()
    assert cursor is not None
    store.apply_pull(
        PullResponse(
            protocol_version=2,
            cursor=PullCursor(epoch=cursor.epoch, change_seq=cursor.change_seq + 1),
            has_more=False,
            items=[
                ItemRef(
                    code="CABLE",
                    name="Cable",
                    tracking="none",
                    barcodes=[CABLE_EAN],
                    uom="M",
                    count_mode="measure",
                ),
                ItemRef(
                    code="AUTO",
                    name="Drill",
                    tracking="serial",
                    auto_serialized=True,
                    barcodes=[AUTO_EAN],
                ),
            ],
            counters=counters,
            settings=settings,
        )
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = new_store(tmp_path / "s.sqlite3")
    pull_page(
        store,
        [
            CounterRef(username="ana", verifier=make_verifier("4711", **FAST)),
            CounterRef(username="ben", verifier=make_verifier("0000", **FAST)),
        ],
        DeviceSettings(idle_sign_out_minutes=10, pin_attempts=3),
    )
    return store


@pytest.fixture
def flow(store: Store, clock: Clock) -> CountingWorkflow:
    return CountingWorkflow(store, settings=ScannerSettings.resolve(store, env={}), clock=clock)


def test_a_counter_counts_a_bin_scan_by_scan(flow: CountingWorkflow) -> None:
    assert flow.scan_text("MAIN-A01-01").code == "no_count_open"
    assert flow.open_count("SC-1").outcome == "count_opened"
    refused = flow.scan_text("MAIN-A01-01")
    assert refused.error and "sign in" in refused.message and not refused.recorded
    assert flow.sign_in("ana", "4711").outcome == "signed_in"
    assert flow.scan_text("MAIN-A01-01").outcome == "bin_opened"
    totals = [flow.scan_text("]E0" + BOLT_EAN).total for _ in range(3)]
    assert totals == [Decimal(1), Decimal(2), Decimal(3)]
    gs1 = flow.scan_text("]C101" + "0" + BOLT_EAN + "305")  # GS1 AI 01 + AI 30 of 5
    assert (gs1.item, gs1.quantity, gs1.total) == ("BOLT", Decimal(5), Decimal(8))
    assert flow.set_quantity("BOLT", "20").total == Decimal(20)
    assert flow.add_quantity("BOLT", "2").total == Decimal(22)
    undone = flow.undo()  # takes back the +2
    assert (undone.outcome, undone.total) == ("undone", Decimal(20))
    assert flow.undo().total == Decimal(8)  # the set, and the scans before it stand again
    [total] = flow.totals()
    assert (total.item, total.total) == ("BOLT", Decimal(8))
    assert flow.close_bin().outcome == "bin_closed"
    bodies = [e.event().body for e in flow.store.outbox()]
    assert {getattr(b, "counter", None) for b in bodies} == {"ana"}  # every event names her
    assert isinstance(bodies[0], BinOpened) and isinstance(bodies[-1], BinClosed)
    scans = [b for b in bodies if isinstance(b, QuantityKeyed)]
    assert [(b.quantity, b.source, b.mode) for b in scans] == [
        (Decimal(1), "scan", "add"),
        (Decimal(1), "scan", "add"),
        (Decimal(1), "scan", "add"),
        (Decimal(5), "gs1", "add"),
        (Decimal(20), "keyed", "set"),
        (Decimal(2), "keyed", "add"),
    ]
    assert sum(isinstance(b, ScanUndone) for b in bodies) == 2


def test_measure_items_ask_for_a_quantity_and_auto_serialized_count_a_unit(
    flow: CountingWorkflow,
) -> None:
    flow.sign_in("ben", "0000")
    flow.open_count("SC-1")
    flow.scan_text("MAIN-A01-02")
    asked = flow.scan_text(CABLE_EAN)
    assert asked.outcome == "needs_input" and "qty CABLE N" in asked.message
    assert not asked.recorded
    assert flow.add_quantity("CABLE", "12.5").total == Decimal("12.5")
    unit = flow.scan_text(AUTO_EAN)  # no serial: one unit, its serial made at finalize
    assert (unit.outcome, unit.item, unit.total, unit.serial) == (
        "counted",
        "AUTO",
        Decimal(1),
        "",
    )
    assert flow.scan_text(AUTO_EAN).total == Decimal(2)
    assert flow.undo().total == Decimal(1)


def test_unknown_barcodes_are_kept_with_bin_counter_and_time(
    flow: CountingWorkflow, clock: Clock
) -> None:
    flow.sign_in("ana", "4711")
    flow.open_count("SC-1")
    flow.scan_text("MAIN-A01-01")
    clock.now += timedelta(minutes=1)
    kept = flow.scan_text("5901234123457")
    assert kept.outcome == "unknown" and kept.recorded and kept.error
    malformed = flow.scan_text("]C1" + "0104012345678902")  # a GS1 GTIN, bad check digit
    assert malformed.code == "malformed_barcode" and malformed.recorded
    [first, second] = flow.store.unknown_scans("SC-1")
    assert (first.bin, first.counter, first.problem, first.device_time) == (
        "MAIN-A01-01",
        "ana",
        "unknown",
        clock.now,
    )
    assert second.problem == "malformed"
    body = flow.store.outbox()[-1].event().body
    assert isinstance(body, BarcodeUnknown) and body.bin_seq == 1
    # Never counted: the bin has nothing, and undo finds nothing to take back.
    assert flow.totals() == [] and flow.undo().error


def test_the_same_serial_twice_is_a_duplicate(flow: CountingWorkflow) -> None:
    flow.sign_in("ana", "4711")
    flow.open_count("SC-1")
    flow.scan_text("MAIN-A01-01")
    assert flow.scan_text("SN-7").total == Decimal(1)
    again = flow.scan_text("SN-7")
    assert again.duplicate and not again.recorded and again.total == Decimal(1)


def test_wrong_pins_lock_the_counter_until_a_new_pin_is_pulled(
    store: Store, flow: CountingWorkflow
) -> None:
    assert "2 attempt(s) left" in flow.sign_in("ana", "1111").message
    assert flow.sign_in("ana", "2222").code == "sign_in_refused"
    locked = flow.sign_in("ana", "3333")
    assert locked.code == "counter_locked" and "locked" in locked.message
    assert flow.sign_in("ana", "4711").code == "counter_locked"  # the right PIN, too late
    assert flow.counter is None
    assert flow.sign_in("ben", "0000").outcome == "signed_in"  # others are not locked
    assert flow.sign_in("nobody", "0000").code == "sign_in_refused"
    # A pull with the same verifier keeps the lock; a new PIN (a new verifier) lifts it.
    same = store.counter_verifier("ana")
    assert same is not None
    pull_page(store, [CounterRef(username="ana", verifier=same[0])])
    assert flow.sign_in("ana", "4711").code == "counter_locked"
    pull_page(store, [CounterRef(username="ana", verifier=make_verifier("9999", **FAST))])
    assert flow.sign_in("ana", "9999").outcome == "signed_in"
    assert store.counter_verifier("ben") is None  # the pull's list is the site's, whole


def test_a_right_pin_clears_the_wrong_ones(flow: CountingWorkflow) -> None:
    flow.sign_in("ana", "1111")
    flow.sign_in("ana", "2222")
    assert flow.sign_in("ana", "4711").outcome == "signed_in"
    flow.sign_out()
    assert "2 attempt(s) left" in flow.sign_in("ana", "1111").message


def test_idle_counters_are_signed_out(flow: CountingWorkflow, clock: Clock) -> None:
    flow.sign_in("ana", "4711")
    flow.open_count("SC-1")
    flow.scan_text("MAIN-A01-01")
    clock.now += timedelta(minutes=9)
    assert flow.scan_text(BOLT_EAN).recorded  # activity: the idle time starts again
    clock.now += timedelta(minutes=9)
    assert flow.counter == "ana"
    clock.now += timedelta(minutes=10, seconds=1)  # the site's 10 minutes, and a second
    assert flow.counter is None
    refused = flow.scan_text(BOLT_EAN)
    assert refused.error and "sign in" in refused.message
    assert flow.sign_out().message == "nobody was signed in"


def test_sign_out(flow: CountingWorkflow) -> None:
    flow.sign_in("ana", "4711")
    assert flow.sign_out().message == "ana signed out"
    assert flow.counter is None


def test_a_device_whose_site_has_no_counters_counts_as_the_device(tmp_path: Path) -> None:
    flow = CountingWorkflow(new_store(tmp_path / "s.sqlite3"), settings=ScannerSettings())
    flow.open_count("SC-1")
    assert flow.scan_text("MAIN-A01-01").outcome == "bin_opened"
    assert flow.store.outbox()[-1].event().body == BinOpened(
        count="SC-1", bin="MAIN-A01-01", counter=""
    )


def test_the_verifier_is_no_pin() -> None:
    verifier = make_verifier("4711", **FAST)
    assert "4711" not in verifier.hash and "4711" not in verifier.salt
    assert pin_matches(verifier, "4711") and not pin_matches(verifier, "4712")
    assert make_verifier("4711", **FAST).salt != verifier.salt  # a salt of its own


def test_settings_come_from_the_site_and_the_environment_overrides(store: Store) -> None:
    pull_page(
        store,
        None,
        DeviceSettings(
            bin_pattern=r"^BIN-\d+$", gs_replacement="|", aim_prefixes=False, pin_attempts=4
        ),
    )
    site = ScannerSettings.resolve(store, env={})
    assert (site.bin_pattern, site.gs_replacement, site.aim_prefixes, site.pin_attempts) == (
        r"^BIN-\d+$",
        "|",
        False,
        4,
    )
    local = ScannerSettings.resolve(
        store,
        env={
            "STOCKCOUNT_HANDHELD_BIN_PATTERN": "^X$",
            "STOCKCOUNT_HANDHELD_GS": "~",
            "STOCKCOUNT_HANDHELD_AIM": "1",
            "STOCKCOUNT_HANDHELD_IDLE_MINUTES": "3",
        },
    )
    assert (local.bin_pattern, local.gs_replacement, local.aim_prefixes, local.idle) == (
        "^X$",
        "~",
        True,
        timedelta(minutes=3),
    )
    assert store.counter_verifier("ana") is not None  # counters=None: left as they were
    assert SignIn(store).attempts == 4


def test_without_aim_prefixes_a_leading_bracket_is_data(store: Store, clock: Clock) -> None:
    flow = CountingWorkflow(store, settings=ScannerSettings(aim_prefixes=False), clock=clock)
    flow.sign_in("ana", "4711")
    flow.open_count("SC-1")
    flow.scan_text("MAIN-A01-01")
    kept = flow.scan_text("]E0" + BOLT_EAN)  # not parsed as an AIM prefix: unknown data
    assert kept.outcome == "unknown"
    assert flow.store.unknown_scans()[0].raw == "]E0" + BOLT_EAN


def test_a_reset_pull_keeps_no_counters(store: Store) -> None:
    page = reference_page(epoch="epoch-2")
    page.reset = True
    store.apply_pull(page)
    assert not store.has_counters()
