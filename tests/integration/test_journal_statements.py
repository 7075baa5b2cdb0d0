"""What one journal save sends to the database, on SQLite and PostgreSQL (issue 16).

A save resolves each code once, reads its facts in a few round trips and writes with a
handful of set-based statements: the statements are counted with the engine's own
cursor events, for an Adjustment and a Loc-to-Loc transfer of ten lines each (the
shapes bench/journal_post.py times), and what they wrote is checked beside the count.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import session as asyncio_session

from server.db import direct
from server.db.engine import make_engine, make_sessionmaker
from server.db.tables import GlPosting, ItemLocationCost, StockBalance, StockMovement
from server.domain.journal import JournalLine, JournalSide, JournalTransaction, TransactionType
from server.journal.tables import JournalLineSide, JournalLineTable, JournalTransactionTable
from server.journal.usecases import journal
from server.uow import SqlUnitOfWork
from tests.helpers import clerk_engine

D = Decimal
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
ITEMS = 20


def master_data() -> dict[str, list[dict[str, Any]]]:
    """bench/journal_post.py's master data, smaller: two locations of two GL entities."""
    locations = ("SRC", "DST")
    return {
        "companies": [{"code": "C1", "name": "Company"}],
        "gl_accounts": [{"code": "10150", "name": "Inventory"}, {"code": "50111", "name": "Adj"}],
        "gl_entities": [{"code": f"E-{loc}", "name": loc, "company": "C1"} for loc in locations],
        "inventory_groups": [
            {
                "code": "STD",
                "name": "Standard",
                "inventory_account": "10150",
                "adjustment_account": "50111",
                "gl_entity": "E-SRC",
            }
        ],
        "locations": [
            {"code": loc, "name": loc, "company": "C1", "gl_entity": f"E-{loc}"}
            for loc in locations
        ],
        "bins": [
            {"location": loc, "label": f"{loc}-{b:02d}"} for loc in locations for b in range(5)
        ],
        "items": [
            {
                "code": f"I{i:02d}",
                "name": f"Item {i}",
                "tracking": "none",
                "last_cost": "10",
                "inventory_group": "STD",
            }
            for i in range(ITEMS)
        ],
        "opening_stock": [
            {
                "item": f"I{i:02d}",
                "location": "SRC",
                "bin": f"SRC-{i % 5:02d}",
                "quantity": "100",
                "unit_cost": "10",
            }
            for i in range(ITEMS)
        ],
        "accounting_periods": [{"code": "2026-11", "starts": "2026-11-01", "ends": "2026-11-30"}],
    }


def adjustment(cost: str) -> JournalTransaction:
    lines = tuple(
        JournalLine(
            n + 1,
            f"I{n:02d}",
            D(1),
            JournalSide("SRC", f"SRC-{n % 5:02d}"),
            JournalSide("SRC", f"SRC-{n % 5:02d}"),
            unit_cost=D(cost),
        )
        for n in range(10)
    )
    return JournalTransaction(DAY, TransactionType.ADJUSTMENT, lines, period="2026-11")


def transfer() -> JournalTransaction:
    lines = tuple(
        JournalLine(
            n + 1,
            f"I{n:02d}",
            D(2),
            JournalSide("SRC", f"SRC-{n % 5:02d}"),
            JournalSide("DST", f"DST-{n % 5:02d}"),
        )
        for n in range(10)
    )
    return JournalTransaction(DAY, TransactionType.LOC_TO_LOC, lines, period="2026-11")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with clerk_engine(database_url, master_data(), NOW) as engine:
        yield engine


async def counted_save(engine: AsyncEngine, draft: JournalTransaction) -> list[str]:
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await journal.save_transaction(
            SqlUnitOfWork(make_sessionmaker(engine)), draft, 1, "clerk", NOW
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    return sent


async def total(engine: AsyncEngine, query: Any) -> Any:
    async with make_sessionmaker(engine)() as db:
        return await db.scalar(query)


# 32-34 statements a save before issue 16 (each code looked up three times, the lock
# written twice, the frozen bins read twice, the header flushed by the ORM and numbered
# after). Now: the lock; the facts (one UNION ALL; on SQLite one statement a kind), the
# frozen bins; the header; balances, costs, movements, GL; lines, sides.
MOST = 10


async def test_a_save_sends_a_handful_of_statements(engine: AsyncEngine) -> None:
    first = await counted_save(engine, adjustment("12"))
    again = await counted_save(engine, adjustment("13"))
    moved = await counted_save(engine, transfer())
    # The saves wrote all they write: lines, sides, movements, GL, costs, balances.
    assert await total(engine, select(func.count()).select_from(JournalLineTable)) == 30
    async with make_sessionmaker(engine)() as db:
        headers = (
            await db.execute(select(JournalTransactionTable.id, JournalTransactionTable.number))
        ).all()
    assert sorted(headers) == [(i, f"IA-{i:08d}") for i in (1, 2, 3)]
    assert await total(engine, select(func.count()).select_from(JournalLineSide)) == 60
    assert await total(engine, select(func.count()).select_from(StockMovement)) == 40
    assert await total(engine, select(func.count()).select_from(GlPosting)) == 60
    on_hand = await total(
        engine, select(func.sum(StockBalance.quantity)).where(StockBalance.item_id == 1)
    )
    assert on_hand == D(100) + 2  # +1 twice (adjustments), then 2 moved within the company
    costs = await total(engine, select(func.count()).select_from(ItemLocationCost))
    assert costs == ITEMS + 10  # the opening costs, and the ten items now at DST
    for sent in (first, again, moved):
        # Each code once, with the facts: no other lookup of items, locations or bins.
        if engine.dialect.name == "postgresql":
            assert len(sent) <= MOST, "\n".join(sent)
            facts = [s for s in sent if s.startswith("SELECT 'i' AS c0, item.id")]
            assert len(facts) == 1, sent
    if engine.dialect.name == "sqlite":
        # The facts' kinds one statement each (the three small tables' one union of their
        # own columns), run in place on the connection's thread with the rest (no round
        # trip; the test below), and the master-data version: four more. The master-data
        # rows are kept between saves while the version stays (server.journal.sql.kept):
        # the second adjustment reads only its stock; the transfer, its new location.
        items = "SELECT item.id AS c0, item.code"
        places = "SELECT location.id AS c0, location.code"
        stock = "SELECT item.code AS c0, location.code AS c1"
        version = "SELECT master_data_version.version"
        for sent, read in ((first, {items, places}), (again, set()), (moved, {places})):
            assert len(sent) <= MOST + 4, "\n".join(sent)
            assert len([s for s in sent if s.startswith(version)]) == 1, sent
            assert len([s for s in sent if s.startswith(stock)]) == 1, sent
            for kind in (items, places):
                assert len([s for s in sent if s.startswith(kind)]) == (kind in read), sent
            unions = [s for s in sent if "UNION ALL" in s]
            assert len(unions) == (sent is first), sent
            assert all(u.startswith("SELECT 's' AS kind") for u in unions), sent
    for sent in (first, again, moved):
        lookups = ("SELECT item.code, item.id", "SELECT location.code, location.id",
                   "SELECT location.code, bin.label, bin.id")  # fmt: skip
        assert not [s for s in sent if s.startswith(lookups)], sent
        # The frozen bins read once; the costs locked once (PostgreSQL: their rows;
        # SQLite: the database, before the first read), and written once.
        assert len([s for s in sent if "JOIN count_bin" in s]) == 1, sent
        costs = [s for s in sent if "INTO item_location_cost" in s]
        if engine.dialect.name == "postgresql":
            assert len(costs) == 2, sent
        else:
            assert sent[0] == "BEGIN IMMEDIATE", sent
            assert sent.count("BEGIN IMMEDIATE") == 1, sent
            assert len(costs) == 1, sent
        if engine.dialect.name == "postgresql":
            # The writer's balances, costs, movements and GL: one statement, one round trip.
            assert len(sent) <= 7, "\n".join(sent)
            [writes] = [s for s in sent if "INTO stock_movement" in s]
            assert all(f"INTO {t} " in writes for t in ("stock_balance", "gl_posting")), writes


async def test_a_save_waits_for_its_statements_once_on_sqlite(engine: AsyncEngine) -> None:
    """On SQLite every statement of a save (lock, facts, frozen bins, header, posting
    writes, lines) runs on the connection's own thread in one hand-over
    (server.db.direct.together): none is sent from the event loop's thread. On
    PostgreSQL they are sent from the loop, each a round trip."""
    threads: list[int] = []

    def record(*args: Any) -> None:
        threads.append(threading.get_ident())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await journal.save_transaction(
            SqlUnitOfWork(make_sessionmaker(engine)), transfer(), 1, "clerk", NOW
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    loop = threading.get_ident()
    # PostgreSQL: the posting writer's INSERTs are one statement (server/db/posting.py).
    assert len(threads) >= (8 if engine.dialect.name == "sqlite" else 7)
    if engine.dialect.name == "sqlite":
        assert len(set(threads)) == 1 and threads[0] != loop
    else:
        assert set(threads) == {loop}


async def test_a_sqlite_save_hands_over_to_a_greenlet_once(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a save's session takes its connection through a greenlet (the pool may
    wait) and no more: its statements and COMMIT run on the connection's thread, and the
    session's transaction ends on the event loop without one (server.db.direct.together,
    SqlUnitOfWork.commit). The connection is back in the pool after it, and what the
    save wrote is there for another session."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's statements are each a round trip through a greenlet")
    spawned: list[Any] = []
    real = asyncio_session.greenlet_spawn

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        spawned.append(getattr(fn, "__name__", fn))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio_session, "greenlet_spawn", counted)
    for draft in (adjustment("12"), transfer()):
        spawned.clear()
        await journal.save_transaction(
            SqlUnitOfWork(make_sessionmaker(engine)), draft, 1, "clerk", NOW
        )
        assert len(spawned) == 1, spawned
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    monkeypatch.undo()
    assert await total(engine, select(func.count()).select_from(JournalLineTable)) == 20


async def test_a_sqlite_save_gives_back_its_connection_to_a_full_pool(
    database_url: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool of one: another holder has its connection while a save takes a second (an
    overflow), and gives its own back while the save runs, so the pool is full when the
    save's connection comes back and closes it. Closing an aiosqlite connection awaits:
    the session's own commit does it (no error logged, no connection's thread left)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the session's end without a greenlet is SQLite's")
    small = make_engine(database_url, pool_size=1, max_overflow=1)
    errors: list[logging.LogRecord] = []

    class Errors(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record)

    handler = Errors(logging.WARNING)
    logging.getLogger("sqlalchemy").addHandler(handler)
    before = threading.active_count()
    try:
        async with small.connect() as warm:  # the pool's one connection, opened
            await warm.exec_driver_sql("SELECT 1")
        held = small.sync_engine.pool.connect()  # taken without I/O: it is idle
        loop = asyncio.get_running_loop()
        real = direct._drive

        def drive(*args: Any) -> Any:  # on the save's connection's thread
            loop.call_soon_threadsafe(held.close)  # back before the save's result
            return real(*args)

        monkeypatch.setattr(direct, "_drive", drive)
        await journal.save_transaction(
            SqlUnitOfWork(make_sessionmaker(small)), transfer(), 1, "clerk", NOW
        )
        monkeypatch.undo()
        assert small.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert small.sync_engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    finally:
        await small.dispose()
        logging.getLogger("sqlalchemy").removeHandler(handler)
    assert errors == []
    for _ in range(100):  # the closed connections' threads end
        if threading.active_count() <= before:
            break
        await asyncio.sleep(0.01)
    assert threading.active_count() <= before
    assert await total(engine, select(func.count()).select_from(JournalLineTable)) == 10


async def test_an_unchanged_average_cost_is_not_written_again(engine: AsyncEngine) -> None:
    """A transfer leaves the issuing location's average as it was: its cost row is not
    updated (no page written on SQLite, no second row version on PostgreSQL); the
    receiving location's, and an adjustment at a new cost, are. Counted by a trigger on
    each update. On PostgreSQL the save's lock (server.journal.sql.journal.lock_costs)
    is itself an update of each pair's row to itself: one update a locked pair."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE cost_updates (item_id BIGINT, location_id BIGINT)")
        if postgres:
            await conn.exec_driver_sql(
                "CREATE FUNCTION count_cost_update() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN INSERT INTO cost_updates VALUES (new.item_id, new.location_id); "
                "RETURN new; END $$"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER count_cost_updates AFTER UPDATE ON item_location_cost "
                "FOR EACH ROW EXECUTE FUNCTION count_cost_update()"
            )
        else:
            await conn.exec_driver_sql(
                "CREATE TRIGGER count_cost_updates AFTER UPDATE ON item_location_cost "
                "BEGIN INSERT INTO cost_updates VALUES (new.item_id, new.location_id); END"
            )

    async def updates() -> dict[tuple[int, int], int]:
        async with engine.connect() as conn:
            rows = await conn.exec_driver_sql(
                "SELECT item_id, location_id, count(*) FROM cost_updates GROUP BY 1, 2"
            )
            return {(int(r[0]), int(r[1])): int(r[2]) for r in rows}

    locked = 1 if postgres else 0
    await counted_save(engine, transfer())  # SRC's averages stay at 10; DST's rows are new
    src = {(i, 1) for i in range(1, 11)}
    dst = {(i, 2) for i in range(1, 11)}
    expected = dict.fromkeys(src, locked)
    # PostgreSQL's lock inserts a missing pair's row at zero, and the write updates it;
    # SQLite's write inserts it.
    expected.update(dict.fromkeys(dst, locked))
    assert await updates() == {k: n for k, n in expected.items() if n}
    await counted_save(engine, adjustment("13"))  # SRC's ten items at a new average
    for key in src:
        expected[key] += locked + 1
    assert await updates() == {k: n for k, n in expected.items() if n}
