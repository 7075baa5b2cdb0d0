"""Scan-to-durable latency on the device, as the counting app calls it: from the scanner's
text to `CountingWorkflow.scan_text` returning its result (event, scan row and outbox
entry committed, WAL, synchronous=FULL, and the running total read back), beside the
floor: a raw sqlite3 BEGIN IMMEDIATE; UPDATE meta; INSERT scans; INSERT outbox; COMMIT of
the same rows with the same pragmas, in the same run.

Two kinds of scan: `serial` (a GS1 DataMatrix with a serial) and `unit` (an EAN-13 of an
untracked item: one unit per scan). Bins of `--per-bin` scans (opened and closed outside
the timing), so the running total reads a bin of realistic size.

    .venv/bin/python bench/handheld_scan.py [--scans N] [--per-bin N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from handheld_sync.counting import CountingWorkflow, ScannerSettings
from handheld_sync.store import Store, migrate
from schemas.sync import AssignedCount, BinRef, ItemRef, PullCursor, PullResponse

PUMP_GTIN = "04012345678901"
BOLT_EAN = "4006381333931"
BINS = [f"MAIN-A{n // 100:02d}-{n % 100:02d}" for n in range(1, 400)]


def reference_page() -> PullResponse:
    return PullResponse(
        protocol_version=2,
        cursor=PullCursor(epoch="bench", change_seq=1),
        has_more=False,
        counts=[
            AssignedCount(
                count="SC-1", location="MAIN", status="counting_in_process", blind=True, bins=BINS
            )
        ],
        bins=[BinRef(location="MAIN", label=label) for label in BINS],
        items=[
            ItemRef(code="PUMP", name="Pump", tracking="serial", barcodes=[PUMP_GTIN]),
            ItemRef(code="BOLT", name="Bolt", tracking="none", barcodes=[BOLT_EAN]),
        ],
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def scan_text(kind: str, n: int) -> str:
    return f"]d201{PUMP_GTIN}21SN-{n:07d}" if kind == "serial" else f"]E0{BOLT_EAN}"


def bench_workflow(path: Path, kind: str, scans: int, per_bin: int) -> list[float]:
    store = Store.create(path)
    store.apply_pull(reference_page())
    flow = CountingWorkflow(store, settings=ScannerSettings())
    flow.open_count("SC-1")
    times = []
    for n in range(scans):
        if n % per_bin == 0:
            if n:
                flow.close_bin()
            flow.scan_text(BINS[n // per_bin])
        text = scan_text(kind, n)
        start = time.perf_counter()
        result = flow.scan_text(text)
        times.append(time.perf_counter() - start)
        assert result.recorded, result.message
    store.close()
    return times


def bench_floor(path: Path, kind: str, scans: int, per_bin: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    migrate(conn)
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('last_seq', '0')")
    times = []
    for n in range(scans):
        seq = n + 1
        bin_seq = seq - n % per_bin
        if n % per_bin == 0:
            conn.execute(
                "INSERT INTO bin_counts (opened_seq, count, bin) VALUES (?, 'SC-1', ?)",
                (bin_seq, BINS[n // per_bin]),
            )
        serial, quantity = (f"SN-{n:07d}", None) if kind == "serial" else (None, "1")
        body = (
            f'{{"kind":"{"serial_scanned" if serial else "quantity_keyed"}","count":"SC-1",'
            f'"bin":"{BINS[n // per_bin]}","bin_seq":{bin_seq},"item":"PUMP","raw":"x"}}'
        ).encode()
        now = datetime.now(UTC).isoformat()
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'last_seq' "
            "RETURNING value"
        ).fetchone()
        conn.execute(
            "INSERT INTO scans (seq, bin_seq, count, bin, kind, item, serial, lot, quantity, "
            "raw, mode, counter) VALUES (?, ?, 'SC-1', ?, ?, 'PUMP', ?, '', ?, ?, 'add', '')",
            (
                seq,
                bin_seq,
                BINS[n // per_bin],
                "serial" if serial else "quantity",
                serial,
                quantity,
                scan_text(kind, n),
            ),
        )
        conn.execute(
            "INSERT INTO outbox (seq, kind, device_time, body) VALUES (?, 'x', ?, ?)",
            (seq, now, body),
        )
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=2_000)
    parser.add_argument("--per-bin", type=int, default=50, help="scans per bin")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a disk)")
    args = parser.parse_args()
    rows: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for kind in ("serial", "unit"):
            runs: list[tuple[str, Callable[[Path, str, int, int], list[float]]]] = [
                ("floor: raw INSERTs + COMMIT", bench_floor),
                ("scan -> durable (workflow)", bench_workflow),
            ]
            for name, run in runs:
                path = Path(tmp) / f"{kind}-{run.__name__}.sqlite3"
                rows.append((f"{kind:6} {name}", run(path, kind, args.scans, args.per_bin)))
        where = tmp
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{args.scans} scans of each kind, {args.per_bin} a bin, WAL + synchronous=FULL")
    print(f"in {where}; load average {load}")
    print(f"{'':41} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in rows:
        ms = [v * 1000 for v in values]
        print(f"{name:41} {statistics.median(ms):8.3f} {percentile(ms, 99):8.3f} {max(ms):8.3f}")


if __name__ == "__main__":
    main()
