"""Time the pure reconciliation on issue 3's data set, in memory (no database).

10,000 bins, 1,000,000 serials: 1% sit in another bin, 0.5% are missing, 0.5% are
unknown; plus 20,000 untracked item-bin balances, a tenth of them counted wrong.

    .venv/bin/python bench/reconcile_domain.py [--serials N] [--items-per-bin K] [--memory]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from server.domain.counting import (
    BinCount,
    CountItemFacts,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
    reconcile,
)
from server.domain.masterdata import BinKind, Tracking

BINS = 10_000
SERIAL_ITEMS = 200
BULK_BALANCES = 20_000


def build(
    serial_count: int, items_per_bin: int = 10, seed: int = 7
) -> tuple[Snapshot, dict[str, BinCount]]:
    rng = random.Random(seed)
    bins = [f"B{i:05d}" for i in range(BINS)]
    costs = [
        Decimal(f"{rng.randint(100, 99_999)}.{rng.randint(0, 999_999):06d}") for _ in range(997)
    ]
    items: dict[str, CountItemFacts] = {
        f"S{i:03d}": CountItemFacts(f"S{i:03d}", Tracking.SERIAL, average_cost=Decimal("50"))
        for i in range(SERIAL_ITEMS)
    }
    bulk_items = [f"U{i:04d}" for i in range(BULK_BALANCES // 10)]
    for code in bulk_items:
        items[code] = CountItemFacts(code, Tracking.NONE, average_cost=Decimal("1.25"))

    serials: list[SnapshotSerial] = []
    found: dict[str, set[tuple[str, str]]] = {label: set() for label in bins}
    for n in range(serial_count):
        item = f"S{(n % SERIAL_ITEMS + n // BINS % items_per_bin) % SERIAL_ITEMS:03d}"
        number = f"SN{n:09d}"
        label = bins[n % BINS]
        serials.append(SnapshotSerial(item, number, label, costs[n % 997], BinKind.STOCK))
        roll = n % 200  # 2 of 200 misplaced, 1 missing: 1% and 0.5%
        if roll < 2:
            found[bins[(n * 7 + 13) % BINS]].add((item, number))
        elif roll == 2:
            continue
        else:
            found[label].add((item, number))
    for n in range(serial_count // 200):  # 0.5% unknown
        found[bins[rng.randrange(BINS)]].add((f"S{n % SERIAL_ITEMS:03d}", f"NEW{n:09d}"))

    balances: list[SnapshotBalance] = []
    keyed: dict[str, dict[tuple[str, str], Decimal]] = {label: {} for label in bins}
    for n in range(BULK_BALANCES):
        item, label = bulk_items[n // 10], bins[(n * 31) % BINS]
        quantity = Decimal(rng.randint(6, 500))
        balances.append(SnapshotBalance(item, label, "", quantity, Decimal("1.25")))
        keyed[label][(item, "")] = quantity + (Decimal(rng.randint(-5, 5)) if n % 10 == 0 else 0)

    start = datetime(2025, 3, 1, tzinfo=UTC)
    counts = {
        label: BinCount(
            id=f"bc-{label}",
            bin=label,
            counter=f"user{i % 20}",
            device=f"dev{i % 20}",
            started_at=start + timedelta(seconds=i),
            finished_at=start + timedelta(seconds=i + 60),
            serials=frozenset(found[label]),
            quantities=keyed[label],
        )
        for i, label in enumerate(bins)
    }
    snapshot = Snapshot(
        location="MAIN",
        scope=frozenset(bins),
        bin_kinds=dict.fromkeys(bins, BinKind.STOCK),
        items=items,
        serials=serials,
        balances=balances,
    )
    return snapshot, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serials", type=int, default=1_000_000)
    parser.add_argument(
        "--items-per-bin", type=int, default=10, help="serialized items sharing a bin"
    )
    parser.add_argument("--memory", action="store_true", help="trace peak memory (slower)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    snapshot, counts = build(args.serials, args.items_per_bin)
    built = time.perf_counter() - t0
    if args.memory:
        tracemalloc.start()
    t1 = time.perf_counter()
    recon = reconcile(snapshot, counts)
    cold = time.perf_counter() - t1
    peak = tracemalloc.get_traced_memory()[1] if args.memory else 0
    # Reconciliation is recomputed as bin counts arrive: later runs reuse the snapshot's
    # indexes, built on first use.
    t2 = time.perf_counter()
    recon = reconcile(snapshot, counts)
    seconds = time.perf_counter() - t2

    by_kind: dict[str, int] = {}
    for line in recon.lines:
        by_kind[line.kind.value] = by_kind.get(line.kind.value, 0) + 1
    matched = sum(recon.matched.values())
    print(
        f"data set: {args.serials:,} serials, {BINS:,} bins, {BULK_BALANCES:,} balances "
        f"(built in {built:.1f} s)"
    )
    rows = args.serials + BULK_BALANCES
    print(f"reconcile, first (indexes the snapshot): {cold:.2f} s, {rows / cold:,.0f} rows/s")
    print(
        f"reconcile, recomputed: {seconds:.2f} s, {rows / seconds:,.0f} rows/s, "
        f"{len(recon.lines) / seconds:,.0f} discrepancy lines/s"
    )
    print(
        f"lines: {len(recon.lines):,} {dict(sorted(by_kind.items()))}; matched serials {matched:,}"
    )
    if args.memory:
        print(f"peak memory inside reconcile: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
