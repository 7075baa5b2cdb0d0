"""Scan-to-durable latency on the device: `CountingSession.scan` of a serial until its event
and outbox entry are committed (WAL, synchronous=FULL), beside the floor: a raw sqlite3
INSERT+COMMIT of the same two rows with the same pragmas, in the same run.

    .venv/bin/python bench/handheld_scan.py [--scans N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from handheld_sync.counting import CountingSession
from handheld_sync.scan.text import parse_scanner_text
from handheld_sync.store import Store, migrate
from schemas.sync import AssignedCount, BinRef, ItemRef, PullCursor, PullResponse

PUMP_GTIN = "04012345678901"


def reference_page() -> PullResponse:
    return PullResponse(
        protocol_version=1,
        cursor=PullCursor(epoch="bench", change_seq=1),
        has_more=False,
        counts=[
            AssignedCount(
                count="SC-1",
                location="MAIN",
                status="counting_in_process",
                blind=True,
                bins=["MAIN-A01-01"],
            )
        ],
        bins=[BinRef(location="MAIN", label="MAIN-A01-01")],
        items=[ItemRef(code="PUMP", name="Pump", tracking="serial", barcodes=[PUMP_GTIN])],
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_session(path: Path, scans: int) -> list[float]:
    store = Store.create(path)
    store.apply_pull(reference_page())
    session = CountingSession(store)
    session.open("SC-1")
    session.scan(parse_scanner_text("MAIN-A01-01"))
    times = []
    for n in range(scans):
        text = parse_scanner_text(f"]d201{PUMP_GTIN}21SN-{n:07d}")
        start = time.perf_counter()
        result = session.scan(text)
        times.append(time.perf_counter() - start)
        assert result.recorded
    store.close()
    return times


def bench_floor(path: Path, scans: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    migrate(conn)
    body = (
        b'{"kind":"serial_scanned","count":"SC-1","bin":"MAIN-A01-01","bin_seq":1,'
        b'"item":"PUMP","serial":"SN-0000000","raw":"]d20104012345678901SN-0000000"}'
    )
    times = []
    for seq in range(1, scans + 1):
        now = datetime.now(UTC).isoformat()
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO scans (seq, bin_seq, count, bin, kind, item, serial, raw) "
            "VALUES (?, 1, 'SC-1', 'MAIN-A01-01', 'serial', 'PUMP', ?, ?)",
            (seq, f"SN-{seq:07d}", "]d2..."),
        )
        conn.execute(
            "INSERT INTO outbox (seq, kind, device_time, body) VALUES (?, 'serial_scanned', ?, ?)",
            (seq, now, body),
        )
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=2_000)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a disk)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        floor = bench_floor(Path(tmp) / "floor.sqlite3", args.scans)
        scan = bench_session(Path(tmp) / "store.sqlite3", args.scans)
    print(f"{args.scans} serial scans, WAL + synchronous=FULL, in {tmp}")
    print(f"{'':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in [
        ("scan -> durable (CountingSession)", scan),
        ("floor: raw INSERT x2 + COMMIT", floor),
    ]:
        ms = [v * 1000 for v in values]
        print(f"{name:34} {statistics.median(ms):8.3f} {percentile(ms, 99):8.3f} {max(ms):8.3f}")


if __name__ == "__main__":
    main()
