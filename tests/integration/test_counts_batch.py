"""Bin counts recorded in lots (`record_bin_counts`) are recorded as one by one
(`record_bin_count`): on SQLite and PostgreSQL, the same submissions give the same bin
counts (who, when, what), the same count statuses and events after each lot, and the same
reconciliation, whether the lot leaves bins awaiting a count, counts the last bin of the
scope (the count becomes Counted by itself, and bin counts after it in the lot meet a
Counted count), brings a conflict into a Counted count (back to Counting in Process) or
recounts bins with and without a recount order since; and the same rows as stored (the
driver's values: times as text and quantities as scaled integers on SQLite), whichever
way a lot is written (on SQLite, on the driver's connection in one hand-over:
server.counts.sql.direct_bincounts). A lot with a refused bin count writes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, exc, func, select, text

from server.auth import usecases as auth
from server.counts.ports import BinCountHeader, NewBinCount
from server.counts.tables import BinCountTable, CountBin
from server.counts.usecases import counting as counts
from server.db.engine import make_engine, make_sessionmaker
from server.db.tables import User
from server.domain.auth import Caller, CallerKind
from server.domain.counting import CountStatus, LineKind, SubmittedBinCount
from server.domain.errors import ValidationFailed
from server.domain.masterdata import Role
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source
from server.uow import SqlUnitOfWork
from tests.integration.test_counts_matching import IN_SCOPE, SCOPE_OUT_BIN, T0, at, scans, warehouse

Lot = tuple[Caller, list[SubmittedBinCount]]


def lots(rng: random.Random, held: dict[str, list[str]], ann: Caller, bob: Caller) -> list[Lot]:
    """The submissions, lot by lot: most bins (one recounted later in the same lot); the
    last bins, which complete the scope, then a recount by the same counter in the same
    lot; a rival count of another counter (a conflict); after a recount order (at minute
    500, between the lots) bins counted before the order and after it."""
    scope = [*IN_SCOPE, SCOPE_OUT_BIN]
    first = [at(scans(rng, b, held), 10 * n) for n, b in enumerate(scope[:-2])]
    first.append(at(scans(rng, scope[0], held), 300))
    last = [at(scans(rng, b, held), 310 + n) for n, b in enumerate(scope[-2:])]
    last.append(at(scans(rng, scope[1], held), 320))
    rival = [at(scans(rng, scope[2], held), 20), at(scans(rng, scope[4], held), 40)]
    recounts = [at(scans(rng, scope[3], held), 450), at(scans(rng, scope[5], held), 600)]
    recounts.append(at(scans(rng, scope[6], held), 610))
    recounts += [at(scans(rng, scope[7], held), 460), at(scans(rng, scope[7], held), 620)]
    return [(ann, first), (ann, last), (bob, rival), (ann, recounts)]


async def run(
    uow: SqlUnitOfWork, me: Caller, lots_: Sequence[Lot], batched: bool
) -> dict[str, Any]:
    """A count of the A- bins through the lots, one by one or in lots; what it recorded."""
    view = await counts.create_count(uow, me, counts.NewCount("MAIN", "prefix", prefix="A-"), T0)
    number = view.count.number
    await counts.start_count(uow, me, number, T0)
    after: list[tuple[CountStatus, list[tuple[str, str]]]] = []
    for n, (caller, submitted) in enumerate(lots_):
        if n == len(lots_) - 1:
            order_at = T0 + timedelta(minutes=500)
            labels = [s.bin for s in submitted]
            await counts.order_recounts(uow, me, number, labels, "check", order_at)
        now = T0 + timedelta(minutes=700 + n)
        async with uow:
            headers: Sequence[BinCountHeader]
            if batched:
                headers = await counts.record_bin_counts(uow, caller, number, submitted, now)
            else:
                headers = [
                    await counts.record_bin_count(uow, caller, number, s, now) for s in submitted
                ]
            await uow.commit()
        assert [h.bin for h in headers] == [s.bin for s in submitted]
        assert len({h.id for h in headers}) == len(headers)
        async with uow:
            count = await counts.load_count(uow, number)
            events = await uow.counts.events(count.id)
        after.append((count.status, [(e.kind, e.detail) for e in events]))
    counts.forget_cached(uow)
    async with uow:
        count = await counts.load_count(uow, number)
        recon = await counts.reconciliation_of(uow, count)
        stored = await uow.bin_counts.bin_count_headers(count.id)
        lines = await uow.bin_counts.bin_count_lines([h.id for h in stored])
        scope = await uow.counts.bins(count.id)
        stored_rows = await raw_rows(uow, count.id)
        awaiting = list(
            (
                await uow.session.execute(
                    select(CountBin.awaiting_count)
                    .where(CountBin.count_id == count.id)
                    .order_by(CountBin.bin_id)
                )
            ).scalars()
        )
    await counts.cancel_count(uow, me, number, T0 + timedelta(minutes=900))
    place = {h.id: n for n, h in enumerate(stored)}
    return {
        "after each lot": after,
        "bin counts": [
            (h.bin, h.counter, h.started_at, h.finished_at, h.counter_name, lines[h.id])
            for h in stored
        ],
        "awaiting a count": awaiting,
        "bins": [(b.label, b.picked_bin_count_id is None, b.recount_ordered_at) for b in scope],
        # A conflict's line names its bin counts by id (in their text's order): by place here.
        "lines": [
            replace(x, bins=tuple(sorted(str(place[int(i)]) for i in x.bins)))
            if x.kind is LineKind.BIN_COUNT_CONFLICT
            else x
            for x in recon.lines
        ],
        "counted": recon.counted_bins,
        "not counted": recon.not_counted_bins,
        "conflicts": [(c.bin, len(c.bin_count_ids)) for c in recon.bin_count_conflicts],
        "stored rows": stored_rows,
    }


async def raw_rows(uow: SqlUnitOfWork, count_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """The count's bin count rows and bins' rows as the driver reads them back, a bin
    count named by its place among the count's (ids differ from count to count)."""
    conn = await uow.session.connection()
    of_count = {"c": count_id}
    headers = (
        await conn.execute(
            text(
                "SELECT id, bin_id, counter_id, device_id, counter, started_at, finished_at, "
                "submitted_at FROM bin_count WHERE count_id = :c ORDER BY id"
            ),
            of_count,
        )
    ).all()
    place = {h[0]: n for n, h in enumerate(headers)}
    place[None] = None
    lines = {}
    for name, columns in (
        ("bin_count_serial", "item_id, serial_number"),
        ("bin_count_quantity", "item_id, lot, quantity"),
    ):
        found = await conn.execute(
            text(
                f"SELECT l.bin_count_id, {columns} FROM {name} l "
                "JOIN bin_count h ON h.id = l.bin_count_id WHERE h.count_id = :c"
            ),
            of_count,
        )
        lines[name] = sorted((place[r[0]], *r[1:]) for r in found)
    bins = await conn.execute(
        text(
            "SELECT bin_id, picked_bin_count_id, awaiting_count, recount_ordered_at "
            "FROM count_bin WHERE count_id = :c ORDER BY bin_id"
        ),
        of_count,
    )
    return {
        "bin_count": [(place[h[0]], *h[1:]) for h in headers],
        **lines,
        "count_bin": [(b, place[picked], *rest) for b, picked, *rest in bins],
    }


async def callers(uow: SqlUnitOfWork, engine: Any) -> tuple[Caller, Caller]:
    found = []
    for name, role in (("ann", Role.SUPERVISOR), ("bob", Role.COUNTER)):
        await auth.create_user(uow, name, "a-long-password", role, datetime.now(UTC))
        async with engine.connect() as conn:
            user_id = (
                await conn.execute(select(User.id).where(User.username == name))
            ).scalar_one()
        found.append(Caller(CallerKind.USER, name, user_id=user_id, role=role))
    return found[0], found[1]


@pytest.mark.parametrize("seed", [1, 2])
async def test_lots_record_what_one_by_one_records(database_url: str, seed: int) -> None:
    rng = random.Random(seed)
    data, held = warehouse(rng)
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        await import_sources(uow, [Source("warehouse", data)])
        ann, bob = await callers(uow, engine)
        submitted = lots(rng, held, ann, bob)
        one_by_one = await run(uow, ann, submitted, batched=False)
        sent: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
        in_lots = await run(uow, ann, submitted, batched=True)
        assert in_lots == one_by_one
        assert one_by_one["stored rows"]["bin_count_serial"]
        # On SQLite a lot's writes go to the driver in one hand-over (direct_bincounts,
        # whose UPDATE of the bins names NULL in its SQL); elsewhere through SQLAlchemy.
        direct = any(s.startswith("UPDATE count_bin SET picked_bin_count_id=NULL") for s in sent)
        assert direct == database_url.startswith("sqlite")
        statuses = [status for status, _ in one_by_one["after each lot"]]
        # The lots meet every path: a bin still awaits, the last bin counted (Counted by
        # itself), a conflict brought into a Counted count, a recount order.
        assert statuses == [
            CountStatus.COUNTING,
            CountStatus.COUNTED,
            CountStatus.COUNTING,
            CountStatus.COUNTING,
        ]
        kinds = [kind for kind, _ in one_by_one["after each lot"][-1][1]]
        assert kinds.count("counted") == 1 and "reopened" in kinds
        assert one_by_one["conflicts"]
        assert one_by_one["lines"]
    finally:
        await engine.dispose()


async def test_a_lot_with_a_refused_bin_count_writes_nothing(database_url: str) -> None:
    rng = random.Random(7)
    data, held = warehouse(rng)
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        await import_sources(uow, [Source("warehouse", data)])
        ann, _ = await callers(uow, engine)
        view = await counts.create_count(
            uow, ann, counts.NewCount("MAIN", "prefix", prefix="A-"), T0
        )
        number = view.count.number
        await counts.start_count(uow, ann, number, T0)
        good = at(scans(rng, IN_SCOPE[0], held), 1)
        outside = SubmittedBinCount("B-01", T0, T0, [("SER1", "Z1")], [])
        unknown_item = SubmittedBinCount(IN_SCOPE[1], T0, T0, [("NOPE", "Z2")], [])
        for bad, where in ((outside, "bin"), (unknown_item, f"bins/{IN_SCOPE[1]}/serials/Z2")):
            with pytest.raises(ValidationFailed) as refused:
                await counts.submit_bin_counts(uow, ann, number, [good, bad], T0)
            assert [p.location for p in refused.value.details] == [where]
        async with engine.connect() as conn:
            written = await conn.scalar(select(func.count()).select_from(BinCountTable))
        assert written == 0
        headers = await counts.submit_bin_counts(uow, ann, number, [good], T0)
        assert [h.bin for h in headers] == [IN_SCOPE[0]]
    finally:
        await engine.dispose()


async def test_a_lot_the_database_refuses_raises_its_integrity_error(database_url: str) -> None:
    """A driver error in a lot's writes (here a bin that does not exist, refused by its
    foreign key) is raised as SQLAlchemy raises it on every path, the driver's error its
    cause; the unit of work rolls back."""
    rng = random.Random(3)
    data, _ = warehouse(rng)
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        await import_sources(uow, [Source("warehouse", data)])
        ann, _ = await callers(uow, engine)
        view = await counts.create_count(
            uow, ann, counts.NewCount("MAIN", "prefix", prefix="A-"), T0
        )
        bad = NewBinCount(view.count.id, 10**6, ann.user_id, None, "ann", T0, T0, [], {})
        with pytest.raises(exc.IntegrityError) as refused:
            async with uow:
                await uow.bin_counts.add_bin_counts([bad], T0)
        assert refused.value.__cause__ is not None
        assert "bin_count" in str(refused.value.statement)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(BinCountTable)) == 0
    finally:
        await engine.dispose()
