"""The local store: durable when `append` returns, all-or-nothing, seq never reused, install
id per database, migrations that keep data, outbox acknowledgement, pull pages atomic.

Real SQLite files in tmp dirs; crashes are real processes killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handheld_sync.errors import StoreError, StoreExists, StoreMissing, StoreTooNew
from handheld_sync.store import MIGRATIONS, SCHEMA_VERSION, Store, migrate
from schemas.sync import (
    BinOpened,
    EventAck,
    PullCursor,
    PullResponse,
    ScanUndone,
    SerialScanned,
)
from tests.unit.handheld.reference import reference_page

ROOT = Path(__file__).resolve().parents[3]


def serial(bin_seq: int, n: int) -> SerialScanned:
    return SerialScanned(
        count="SC-1",
        bin="MAIN-A01-01",
        bin_seq=bin_seq,
        item="PUMP",
        serial=f"SN-{n}",
        raw=f"SN-{n}",
    )


def child(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_scan_is_durable_once_append_returns(tmp_path: Path) -> None:
    """A process killed (SIGKILL) right after `append` returned: the event is there."""
    path = tmp_path / "store.sqlite3"
    Store.create(path).close()
    process = child(
        f"""
        import sys, time
        from handheld_sync.store import Store
        from schemas.sync import BinOpened, SerialScanned
        store = Store.open(__import__("pathlib").Path({str(path)!r}))
        b = store.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
        s = store.append(SerialScanned(count="SC-1", bin="MAIN-A01-01", bin_seq=b,
                                       item="PUMP", serial="SN-1", raw="SN-1"))
        print(s, flush=True)   # the beep
        time.sleep(60)
        """
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    assert process.stderr is not None
    process.stderr.close()
    assert line.strip() == "2", line

    with Store.open(path) as store:
        assert [(e.seq, e.kind, e.state) for e in store.outbox()] == [
            (1, "bin_opened", "pending"),
            (2, "serial_scanned", "pending"),
        ]
        assert [(s.seq, s.serial) for s in store.scans()] == [(2, "SN-1")]
        assert store.last_seq() == 2


@pytest.mark.parametrize("killed_at", ["INSERT INTO outbox", "INSERT INTO scans", "COMMIT"])
def test_a_crash_inside_the_transaction_leaves_neither_scan_nor_outbox(
    tmp_path: Path, killed_at: str
) -> None:
    """The process kills itself as SQLite is about to run a statement of the scan's
    transaction: after the scan insert (before the outbox insert), before it, or at COMMIT."""
    path = tmp_path / "store.sqlite3"
    with Store.create(path) as store:
        store.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
    process = child(
        f"""
        import os, signal
        from pathlib import Path
        from handheld_sync.store import Store
        from schemas.sync import SerialScanned
        store = Store.open(Path({str(path)!r}))
        def trace(sql):
            if sql.strip().startswith({killed_at!r}):
                os.kill(os.getpid(), signal.SIGKILL)
        store.connection.set_trace_callback(trace)
        store.append(SerialScanned(count="SC-1", bin="MAIN-A01-01", bin_seq=1,
                                   item="PUMP", serial="SN-1", raw="SN-1"))
        print("returned", flush=True)
        """
    )
    out, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert "returned" not in out

    with Store.open(path) as store:
        assert [e.seq for e in store.outbox()] == [1]
        assert store.scans() == []
        assert store.last_seq() == 1
        # The next scan takes seq 2: nothing of the lost one was stored or reserved.
        assert store.append(serial(1, 2)) == 2


def test_seq_is_monotonic_and_never_reused_after_reopen_or_rollback(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with Store.create(path) as store:
        opened = store.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
        seqs = [opened] + [store.append(serial(opened, n)) for n in range(5)]
        store.acknowledge([EventAck(seq=s, outcome="applied") for s in seqs])
        assert store.prune_acknowledged(up_to_seq=6) == 6
        missing = ScanUndone(count="SC-1", bin="MAIN-A01-01", bin_seq=1, target_seq=99)
        with pytest.raises(StoreError):  # undoing a scan that does not exist: rolled back
            store.append(missing)
    with Store.open(path) as store:
        later = [store.append(serial(1, n)) for n in range(10, 13)]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert later == [7, 8, 9]  # not reused, although the outbox was emptied


def test_install_id_is_stable_and_new_for_a_new_database(tmp_path: Path) -> None:
    first = tmp_path / "a.sqlite3"
    with Store.create(first) as store:
        install = store.install_id
    with Store.open(first) as store:
        assert store.install_id == install
    assert len(install) == 32 and int(install, 16) >= 0
    first.unlink()
    with Store.create(first) as store:  # re-imaged device, same path
        assert store.install_id != install
        assert store.append(BinOpened(count="SC-1", bin="MAIN-A01-01")) == 1


def test_create_refuses_an_existing_store_and_open_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with pytest.raises(StoreMissing, match="stockcount-handheld init"):
        Store.open(path)
    Store.create(path).close()
    with pytest.raises(StoreExists):
        Store.create(path)


def test_durability_pragmas(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s.sqlite3") as store:
        conn = store.connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_migration_from_version_1_keeps_the_data(tmp_path: Path) -> None:
    """A store written by the first release (schema 1), with scans and acknowledged and
    pending entries in it, opened by this app: migrated, nothing lost, seq carries on."""
    path = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [("install_id", "ab" * 16), ("last_seq", "2"), ("open_count", "SC-1")],
    )
    now = datetime.now(UTC).isoformat()
    conn.execute(
        "INSERT INTO outbox (seq, kind, device_time, body, state) "
        "VALUES (1, 'bin_opened', ?, ?, 'applied')",
        (now, b'{"kind":"bin_opened","count":"SC-1","bin":"MAIN-A01-01"}'),
    )
    conn.execute(
        "INSERT INTO outbox (seq, kind, device_time, body) VALUES (2, 'serial_scanned', ?, ?)",
        (
            now,
            b'{"kind":"serial_scanned","count":"SC-1","bin":"MAIN-A01-01","bin_seq":1,'
            b'"item":"PUMP","serial":"SN-1","raw":"SN-1"}',
        ),
    )
    conn.execute(
        "INSERT INTO bin_counts (opened_seq, count, bin) VALUES (1, 'SC-1', 'MAIN-A01-01')"
    )
    conn.execute(
        "INSERT INTO scans (seq, bin_seq, count, bin, kind, item, serial) "
        "VALUES (2, 1, 'SC-1', 'MAIN-A01-01', 'serial', 'PUMP', 'SN-1')"
    )
    conn.close()

    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS) >= 2
        assert store.install_id == "ab" * 16
        assert store.setting("open_count") == "SC-1"
        assert [(e.seq, e.state) for e in store.outbox()] == [(1, "applied"), (2, "pending")]
        event = store.outbox(state="pending")[0].event()
        assert isinstance(event.body, SerialScanned) and event.body.serial == "SN-1"
        assert [s.serial for s in store.scans()] == ["SN-1"]
        assert store.recounts() == []  # the table migration 2 added
        assert store.append(serial(1, 2)) == 3


def test_a_store_from_a_newer_app_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Store.create(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreTooNew, match="install the newer app"):
        Store.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_outbox_acknowledgement(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s.sqlite3") as store:
        opened = store.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
        for n in range(4):
            store.append(serial(opened, n))
        assert store.outbox_summary() == {"pending": 5, "applied": 0, "duplicate": 0, "rejected": 0}

        changed = store.acknowledge(
            [
                EventAck(seq=1, outcome="applied"),
                EventAck(seq=2, outcome="duplicate"),
                EventAck(
                    seq=3, outcome="rejected", reason="count_completed", detail="SC-1 is done"
                ),
            ],
            epoch="e1",
        )
        assert changed == 3
        assert store.outbox_summary() == {"pending": 2, "applied": 1, "duplicate": 1, "rejected": 1}
        # What is sent next: only pending entries, oldest first.
        assert [e.seq for e in store.pending_batch(max_events=10, max_bytes=10_000)] == [4, 5]
        # A late or repeated answer changes nothing already acknowledged.
        assert store.acknowledge([EventAck(seq=1, outcome="rejected", reason="x")]) == 0
        rejected = store.outbox(state="rejected")
        assert [(e.seq, e.reason, e.detail) for e in rejected] == [
            (3, "count_completed", "SC-1 is done")
        ]

        # Pruning deletes acknowledged entries only: never pending or rejected ones.
        assert store.prune_acknowledged(up_to_seq=5) == 2
        assert [e.seq for e in store.outbox()] == [3, 4, 5]

        # A server restored from a backup lost seq >= 4: pending again.
        store.acknowledge([EventAck(seq=4, outcome="applied"), EventAck(seq=5, outcome="applied")])
        assert store.resend_lost_from(4) == 2
        assert store.outbox_summary()["pending"] == 2
        assert store.outbox(state="rejected")[0].seq == 3


def test_resend_lost_from_makes_every_answered_entry_from_a_seq_pending(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s.sqlite3") as store:
        opened = store.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
        for n in range(5):
            store.append(serial(opened, n))
        store.acknowledge(
            [
                EventAck(seq=1, outcome="applied"),
                EventAck(seq=2, outcome="rejected", reason="count_completed", detail="done"),
                EventAck(seq=3, outcome="duplicate"),
                EventAck(seq=4, outcome="rejected", reason="count_completed", detail="done"),
                EventAck(seq=5, outcome="applied"),
            ],
            epoch="e1",
        )
        # The server lost seq 3 on: applied, duplicate and rejected entries alike come back,
        # their old answer cleared; seq 6 (never answered) stays pending; nothing below 3 moves.
        assert store.resend_lost_from(3) == 3
        states = {e.seq: (e.state, e.reason, e.detail) for e in store.outbox()}
        assert states == {
            1: ("applied", "", ""),
            2: ("rejected", "count_completed", "done"),
            3: ("pending", "", ""),
            4: ("pending", "", ""),
            5: ("pending", "", ""),
            6: ("pending", "", ""),
        }
        acked = store.connection.execute(
            "SELECT seq FROM outbox WHERE acked_at IS NOT NULL OR acked_epoch != ''"
        ).fetchall()
        assert sorted(r[0] for r in acked) == [1, 2]
        assert [e.seq for e in store.pending_batch(max_events=10, max_bytes=10_000)] == [3, 4, 5, 6]
        assert store.resend_lost_from(3) == 0  # nothing answered from there: nothing changes


def test_pending_batch_is_bounded_by_count_and_bytes(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s.sqlite3") as store:
        opened = store.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
        for n in range(20):
            store.append(serial(opened, n))
        assert len(store.pending_batch(max_events=7, max_bytes=1_000_000)) == 7
        one = len(store.outbox()[1].body) + 64
        batch = store.pending_batch(max_events=100, max_bytes=one * 3)
        assert 2 <= len(batch) <= 4 and sum(len(e.body) + 64 for e in batch) <= one * 3
        assert len(store.pending_batch(max_events=100, max_bytes=1)) == 1  # never stuck


def test_a_pull_page_and_its_cursor_are_applied_together(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s.sqlite3") as store:
        assert store.pull_cursor() is None
        store.apply_pull(reference_page(change_seq=10))
        assert store.pull_cursor() == PullCursor(epoch="epoch-1", change_seq=10)
        assert [c.count for c in store.counts()] == ["SC-1", "SC-2", "SC-OLD"]

        # A page whose apply fails half-way (a bin label NULL violates NOT NULL) leaves the
        # old data and the old cursor.
        bad = reference_page(change_seq=11)
        bad.items[0].name = None  # type: ignore[assignment]
        with pytest.raises(sqlite3.IntegrityError):
            store.apply_pull(bad)
        assert store.pull_cursor() == PullCursor(epoch="epoch-1", change_seq=10)
        assert store.item("PUMP") is not None and store.item("PUMP").name == "Pump"  # type: ignore[union-attr]

        # Cursors never move back within an epoch.
        with pytest.raises(StoreError, match="older than the stored cursor"):
            store.apply_pull(reference_page(change_seq=9))

        # A withdrawn count disappears; a new epoch without reset is refused; reset replaces.
        page = PullResponse(
            protocol_version=1,
            cursor=PullCursor(epoch="epoch-1", change_seq=12),
            has_more=False,
            counts=[reference_page().counts[1]],
        )
        page.counts[0].active = False
        store.apply_pull(page)
        assert [c.count for c in store.counts()] == ["SC-1", "SC-OLD"]
        with pytest.raises(StoreError, match="epoch changed"):
            store.apply_pull(reference_page(epoch="epoch-2", change_seq=1))
        reset = PullResponse(
            protocol_version=1,
            cursor=PullCursor(epoch="epoch-2", change_seq=1),
            has_more=False,
            reset=True,
        )
        store.apply_pull(reset)
        assert store.counts() == [] and store.item("PUMP") is None
        assert store.pull_cursor() == PullCursor(epoch="epoch-2", change_seq=1)


def test_store_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handheld_sync.store import default_store_path

    monkeypatch.setenv("STOCKCOUNT_HANDHELD_STORE", str(tmp_path / "x.sqlite3"))
    assert default_store_path() == tmp_path / "x.sqlite3"
    monkeypatch.delenv("STOCKCOUNT_HANDHELD_STORE")
    assert default_store_path() == Path(os.path.expanduser("~/.stockcount-handheld/store.sqlite3"))
