"""The database matches serials for the reconciliation (server.counts.sql.snapshot
`serial_differences`): on SQLite and PostgreSQL, for random warehouses and counts, the
service's reconciliation is the one the domain computes from the whole snapshot and the
whole bin counts, read here straight from the tables.

Each warehouse has stock bins and an OUT bin in the count's scope and outside it, a
second location, serial, auto-serialized and untracked items. Counters scan most of a
bin's serials, serials of other bins (in and out of the scope, of the OUT bins, of the
other location), serials nobody knows, units without serial; two counters count some
bins at once and disagree (conflicts, one of them picked), or agree; some bins are
recounted, some never counted, some serials scanned in two bins.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from server.auth import usecases as auth
from server.counts.tables import CountBin, CountSnapshotSerial
from server.counts.usecases import counting as counts
from server.db.engine import make_engine, make_sessionmaker
from server.db.tables import Bin, Item, Location, Serial, User
from server.domain.auth import Caller, CallerKind
from server.domain.counting import (
    BinCount,
    Reconciliation,
    Snapshot,
    SnapshotSerial,
    SubmittedBinCount,
    counters_by_bin,
    effective_bin_counts,
    reconcile,
)
from server.domain.masterdata import BinKind, Role
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source
from server.uow import SqlUnitOfWork
from tests.integration.counts_setup import WAREHOUSE

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
IN_SCOPE = [f"A-{n:02}" for n in range(1, 9)]
SCOPE_OUT_BIN = "A-09"  # an OUT bin inside the scope
OUTSIDE = ["B-01", "B-02"]
OUT_BIN = "OUT-1"
SERIAL_ITEMS = ("SER1", "SER2", "AUTO")


def warehouse(rng: random.Random) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """Master data, and the serial keys ("item|serial") of every bin."""
    main_bins = [*IN_SCOPE, SCOPE_OUT_BIN, *OUTSIDE, OUT_BIN]
    kinds = {SCOPE_OUT_BIN: "out", OUT_BIN: "out"}
    serials: list[dict[str, Any]] = []
    held: dict[str, list[str]] = {}
    for n in range(140):
        item = rng.choice(SERIAL_ITEMS)
        where = ("OTHER", "O-01") if rng.random() < 0.12 else ("MAIN", rng.choice(main_bins))
        cost = Decimal(rng.randrange(100, 50_000)) / 100
        serials.append(
            {"item": item, "serial_number": f"N{n:04}", "location": where[0], "bin": where[1],
             "actual_cost": str(cost)}
        )  # fmt: skip
        held.setdefault(where[1], []).append(f"{item}|N{n:04}")
    # The company, its accounts, GL entity and inventory group as in the shared warehouse.
    shared = ("companies", "gl_accounts", "gl_entities", "inventory_groups")
    data: dict[str, list[dict[str, Any]]] = {
        **{kind: WAREHOUSE[kind] for kind in shared},
        "locations": [
            {"code": "MAIN", "name": "Main", "company": "C1", "gl_entity": "E1"},
            {"code": "OTHER", "name": "Other", "company": "C1", "gl_entity": "E1"},
        ],
        "bins": [
            *({"location": "MAIN", "label": b, "kind": kinds.get(b, "stock")} for b in main_bins),
            {"location": "OTHER", "label": "O-01", "kind": "stock"},
        ],
        "items": [
            {
                "code": "SER1",
                "name": "Serial 1",
                "tracking": "serial",
                "last_cost": "10",
                "inventory_group": "G",
            },
            {
                "code": "SER2",
                "name": "Serial 2",
                "tracking": "serial",
                "last_cost": "20",
                "inventory_group": "G",
            },
            {
                "code": "AUTO",
                "name": "Auto",
                "tracking": "serial",
                "auto_serialized": True,
                "last_cost": "7",
                "inventory_group": "G",
            },
            {"code": "BOLT", "name": "Bolt", "tracking": "none", "inventory_group": "G"},
        ],
        "serials": serials,
        "opening_stock": [
            {
                "item": "BOLT",
                "location": "MAIN",
                "bin": b,
                "quantity": str(rng.randrange(1, 20)),
                "unit_cost": "2.5",
            }
            for b in IN_SCOPE[:5]
        ],
    }
    return data, held


def scans(rng: random.Random, label: str, held: dict[str, list[str]]) -> SubmittedBinCount:
    """A counter's count of one bin: most of its serials, some from elsewhere, sometimes a
    serial nobody knows, units of AUTO without serial, a BOLT quantity."""
    found = [k for k in held.get(label, []) if rng.random() < 0.85]
    everywhere = [k for keys in held.values() for k in keys]
    found += rng.sample(everywhere, rng.choice((0, 0, 1, 2, 3)))
    if rng.random() < 0.3:
        found.append(f"SER1|X{rng.randrange(10_000):04}")
    quantities = [("BOLT", "", Decimal(rng.randrange(0, 20)))]
    if rng.random() < 0.3:
        quantities.append(("AUTO", "", Decimal(rng.randrange(1, 3))))
    return SubmittedBinCount(
        bin=label,
        started_at=T0,
        finished_at=T0,
        serials=[(k.split("|")[0], k.split("|")[1]) for k in dict.fromkeys(found)],
        quantities=quantities,
    )


def at(submitted: SubmittedBinCount, minute: int) -> SubmittedBinCount:
    start = T0 + timedelta(minutes=minute)
    return SubmittedBinCount(
        submitted.bin, start, start + timedelta(minutes=5), submitted.serials, submitted.quantities
    )


async def whole_reconciliation(uow: SqlUnitOfWork, number: str) -> Reconciliation:
    """The domain's reconciliation of the whole snapshot and the whole bin counts."""
    async with uow:
        count = await counts.load_count(uow, number)
        frame = await uow.snapshots.load_snapshot(count)
        session = uow.session
        snapshot_rows = await session.execute(
            select(Item.code, CountSnapshotSerial.serial_number, Bin.label,
                   CountSnapshotSerial.actual_cost, CountSnapshotSerial.bin_kind)
            .join(Item, Item.id == CountSnapshotSerial.item_id)
            .join(Bin, Bin.id == CountSnapshotSerial.bin_id)
            .where(CountSnapshotSerial.count_id == count.id)
        )  # fmt: skip
        serials = [SnapshotSerial(c, s, b, cost, BinKind(k)) for c, s, b, cost, k in snapshot_rows]
        in_scope = select(CountBin.bin_id).where(CountBin.count_id == count.id)
        live = await session.execute(
            select(Item.code, Serial.serial_number, Bin.label, Serial.actual_cost, Bin.kind,
                   Location.code, Bin.id.in_(in_scope))
            .join(Item, Item.id == Serial.item_id)
            .outerjoin(Bin, Bin.id == Serial.bin_id)
            .outerjoin(Location, Location.id == Bin.location_id)
        )  # fmt: skip
        outside: list[SnapshotSerial] = []
        elsewhere: set[tuple[str, str]] = set()
        for code, serial, label, cost, kind, location, scoped in live:
            if location != "MAIN":
                elsewhere.add((code, serial))
            elif not scoped:
                outside.append(SnapshotSerial(code, serial, label, cost, BinKind(kind)))
        items = dict(frame.items)
        every_item = [str(c) for c in (await session.execute(select(Item.code))).scalars()]
        more = await uow.snapshots.item_facts(count.location_id, every_item)
        items.update({code: facts for code, facts in more.items() if code not in items})
        snapshot = Snapshot(
            location=frame.location,
            scope=frame.scope,
            bin_kinds=frame.bin_kinds,
            items=items,
            serials=serials,
            balances=frame.balances,
            outside_serials=outside,
            known_elsewhere=elsewhere,
        )
        headers = await uow.bin_counts.bin_count_headers(count.id)
        lines = await uow.bin_counts.bin_count_lines([h.id for h in headers])
        every = [
            BinCount(str(h.id), h.bin, h.counter, counts.counting_source(h.device_id, h.counter),
                     h.started_at, h.finished_at, *lines[h.id])
            for h in headers
        ]  # fmt: skip
        scope = await uow.counts.bins(count.id)
        picked = {
            b.label: str(b.picked_bin_count_id) for b in scope if b.picked_bin_count_id is not None
        }
        ordered = {b.label: b.recount_ordered_at for b in scope if b.recount_ordered_at}
        effective = effective_bin_counts(every, picked, ordered)
        return reconcile(
            snapshot,
            effective.effective,
            conflicts=effective.conflicts,
            counters=counters_by_bin(every),
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_database_matching_gives_the_whole_reconciliation(
    database_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    data, held = warehouse(rng)
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        await import_sources(uow, [Source("warehouse", data)])
        now = datetime.now(UTC)
        callers = []
        for name in ("ann", "bob"):
            await auth.create_user(uow, name, "a-long-password", Role.SUPERVISOR, now)
            async with engine.connect() as conn:
                user_id = (
                    await conn.execute(select(User.id).where(User.username == name))
                ).scalar_one()
            callers.append(Caller(CallerKind.USER, name, user_id=user_id, role=Role.SUPERVISOR))
        ann, bob = callers
        view = await counts.create_count(
            uow, ann, counts.NewCount("MAIN", "prefix", prefix="A-"), now
        )
        number = view.count.number
        await counts.start_count(uow, ann, number, now)

        async def cached() -> Reconciliation:
            async with uow:
                record = await counts.load_count(uow, number)
                return await counts.reconciliation_of(uow, record)

        scope = [*IN_SCOPE, SCOPE_OUT_BIN]
        counted = [b for b in scope if rng.random() < 0.85]
        for minute, label in enumerate(counted):
            if minute == len(counted) // 2:
                # The process reconciles half-way: the snapshot's serials per (item, bin)
                # it asked for stay in its cache for the recomputations below.
                await cached()
            submitted = at(scans(rng, label, held), 10 * minute)
            await counts.submit_bin_count(uow, ann, number, submitted, now)
            roll = rng.random()
            if roll < 0.25:  # a second counter at the same time, who found something else
                rival = at(scans(rng, label, held), 10 * minute + 1)
                await counts.submit_bin_count(uow, bob, number, rival, now)
            elif roll < 0.4:  # a second counter at the same time, who found the same
                await counts.submit_bin_count(uow, bob, number, at(submitted, 10 * minute), now)
            elif roll < 0.5:  # a recount later
                recount = at(scans(rng, label, held), 1000 + minute)
                await counts.submit_bin_count(uow, ann, number, recount, now)

        async def both() -> tuple[Reconciliation, Reconciliation]:
            counts.forget_cached(uow)
            async with uow:
                record = await counts.load_count(uow, number)
                mine = await counts.reconciliation_of(uow, record)
            return mine, await whole_reconciliation(uow, number)

        warm = await cached()  # recomputed through the cache of the half-way one
        mine, whole = await both()
        assert warm.lines == whole.lines
        assert warm.matched_by_bin == mine.matched_by_bin
        assert mine.lines == whole.lines
        assert mine.not_counted_bins == whole.not_counted_bins
        assert mine.counted_bins == whole.counted_bins
        assert mine.bin_count_conflicts == whole.bin_count_conflicts
        assert {line.kind for line in whole.lines} >= {"missing", "serial_transfer_proposal"}

        if whole.bin_count_conflicts:  # a supervisor picks the first count of a conflict
            conflict = whole.bin_count_conflicts[0]
            await counts.mark_count_counted(uow, ann, number, True, now)
            await counts.pick_bin_count(
                uow, ann, number, conflict.bin, int(conflict.bin_count_ids[0]), now
            )
            mine, whole = await both()
            assert conflict.bin in whole.counted_bins
            assert mine.lines == whole.lines
            assert mine.counted_bins == whole.counted_bins
    finally:
        await engine.dispose()
