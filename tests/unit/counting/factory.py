"""Small builders for counting tests: a location with bins B1..B4 (B9 an OUT bin)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from server.domain.counting import (
    BinCount,
    CountItemFacts,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
)
from server.domain.masterdata import BinKind, Tracking

D = Decimal
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

ITEMS = {
    "SER": CountItemFacts("SER", Tracking.SERIAL, average_cost=D("100.000000")),
    "AUTO": CountItemFacts(
        "AUTO", Tracking.SERIAL, auto_serialized=True, average_cost=D("12.500000")
    ),
    "LOT": CountItemFacts("LOT", Tracking.LOT, average_cost=D("3.250000")),
    "BULK": CountItemFacts("BULK", Tracking.NONE, average_cost=D("0.333333")),
    "NEW": CountItemFacts("NEW", Tracking.SERIAL, average_cost=D(0), last_cost=D("7.000000")),
}
BIN_KINDS = {
    "B1": BinKind.STOCK,
    "B2": BinKind.STOCK,
    "B3": BinKind.STOCK,
    "B4": BinKind.STOCK,
    "X1": BinKind.STOCK,  # outside the scope
    "B9": BinKind.OUT,
    "X9": BinKind.OUT,  # outside the scope
}
SCOPE = frozenset({"B1", "B2", "B3", "B4", "B9"})


def serial(number: str, bin_label: str, cost: str = "100", item: str = "SER") -> SnapshotSerial:
    return SnapshotSerial(item, number, bin_label, D(cost), BIN_KINDS[bin_label])


def balance(
    item: str, bin_label: str, quantity: str, lot: str = "", cost: str = ""
) -> SnapshotBalance:
    return SnapshotBalance(
        item, bin_label, lot, D(quantity), D(cost) if cost else ITEMS[item].average_cost
    )


def snapshot(
    serials: Iterable[SnapshotSerial] = (),
    balances: Iterable[SnapshotBalance] = (),
    outside: Iterable[SnapshotSerial] = (),
    elsewhere: Iterable[tuple[str, str]] = (),
) -> Snapshot:
    return Snapshot(
        location="MAIN",
        scope=SCOPE,
        bin_kinds=BIN_KINDS,
        items=ITEMS,
        serials=tuple(serials),
        balances=tuple(balances),
        outside_serials=tuple(outside),
        known_elsewhere=frozenset(elsewhere),
    )


def bin_count(
    bin_label: str,
    serials: Iterable[str | tuple[str, str]] = (),
    quantities: Mapping[tuple[str, str], str] | None = None,
    *,
    counter: str = "carl",
    device: str = "dev1",
    start: int = 0,
    minutes: int = 10,
    id: str | None = None,
) -> BinCount:
    keys = frozenset(("SER", s) if isinstance(s, str) else s for s in serials)
    started = T0 + timedelta(minutes=start)
    return BinCount(
        id=id or f"{bin_label}-{device}-{start}",
        bin=bin_label,
        counter=counter,
        device=device,
        started_at=started,
        finished_at=started + timedelta(minutes=minutes),
        serials=keys,
        quantities={k: D(v) for k, v in (quantities or {}).items()},
    )


def counts(*items: BinCount) -> dict[str, BinCount]:
    return {c.bin: c for c in items}
