"""SQLite's blocking writer (server/db/blocking.py): transactions on a thread of its own,
with a plain sqlite3 connection set up as the app's, while the caller's loop stays free.

SQLite only: the writer exists because SQLite has one writer and aiosqlite a thread hop
per statement; PostgreSQL's pushes run side by side on the loop (test_sync_group_commit
runs the group writer both ways on SQLite and on the loop on PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from server.db.blocking import BlockingWriter, can_block
from server.db.engine import make_engine
from server.db.tables import Company
from server.uow import SqlUnitOfWork
from tests.conftest import fresh_database


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request, "sqlite", tmp_path)


@pytest.fixture
async def writer(sqlite_url: str) -> AsyncIterator[BlockingWriter]:
    found = BlockingWriter(sqlite_url)
    try:
        yield found
    finally:
        await found.close()


async def column(url: str, sql: str) -> list[str]:
    """The first column of what `sql` reads, through an engine of the app's own."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return [str(r[0]) for r in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def epoch_rows(url: str) -> list[str]:
    return await column(url, "SELECT epoch FROM sync_server")


async def test_a_transaction_runs_on_the_writer_thread_with_the_apps_pragmas(
    writer: BlockingWriter,
) -> None:
    async def work() -> tuple[str, list[object]]:
        async with SqlUnitOfWork.blocking(writer) as uow:
            conn = await uow.session.connection()
            found = []
            for pragma in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout"):
                found.append((await conn.execute(text(f"PRAGMA {pragma}"))).scalar_one())
            return threading.current_thread().name, found

    thread, pragmas = await writer.run(work)
    assert thread.startswith("sqlite-writer") and thread != threading.current_thread().name
    assert pragmas == ["wal", 1, 2, 10_000]  # WAL, foreign keys, synchronous=FULL, busy wait


async def test_the_callers_loop_runs_while_a_transaction_works(writer: BlockingWriter) -> None:
    """A statement that keeps SQLite busy for a while blocks only the writer's thread."""

    async def work() -> int:
        async with SqlUnitOfWork.blocking(writer) as uow:
            conn = await uow.session.connection()
            slow = text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 3000000) SELECT count(*) FROM n"
            )
            return int((await conn.execute(slow)).scalar_one())

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    try:
        assert await writer.run(work) == 3_000_000
    finally:
        ticker.cancel()
    elapsed = time.perf_counter() - started
    assert elapsed > 0.1, "the statement is meant to take a while"
    # The loop ticked all along: a blocked loop ticks about once; a free one about 20 times
    # in 0.1 s, and still well over 8 on a loaded machine.
    assert ticks >= 8, (ticks, elapsed)


async def test_an_exception_reaches_the_caller_and_nothing_of_the_transaction_stays(
    writer: BlockingWriter, sqlite_url: str
) -> None:
    before = await epoch_rows(sqlite_url)

    class Broken(Exception):
        pass

    async def work() -> None:
        async with SqlUnitOfWork.blocking(writer) as uow:
            await uow.sync.renew_epoch()
            raise Broken("after the write, before the commit")

    with pytest.raises(Broken):
        await writer.run(work)
    assert await epoch_rows(sqlite_url) == before

    async def renew() -> str:
        async with SqlUnitOfWork.blocking(writer) as uow:
            epoch = await uow.sync.renew_epoch()
            await uow.commit()
            return epoch

    renewed = await writer.run(renew)  # the writer goes on after a failure
    assert await epoch_rows(sqlite_url) == [renewed] != before


async def test_a_savepoint_rolled_back_undoes_only_its_own_writes(
    writer: BlockingWriter, sqlite_url: str
) -> None:
    """As a refused bin count inside a push's transaction: the savepoint's writes go, the
    transaction's own stay and commit."""

    class Refused(Exception):
        pass

    async def work() -> tuple[str, str]:
        async with SqlUnitOfWork.blocking(writer) as uow:
            outer = await uow.sync.renew_epoch()
            try:
                async with uow.sync.savepoint():
                    inner = await uow.sync.renew_epoch()
                    assert await uow.sync.epoch() == inner
                    raise Refused
            except Refused:
                pass
            assert await uow.sync.epoch() == outer
            await uow.commit()
            return outer, inner

    outer, inner = await writer.run(work)
    assert outer != inner
    assert await epoch_rows(sqlite_url) == [outer]


async def test_a_transaction_ends_even_when_its_caller_stops_waiting(
    writer: BlockingWriter, sqlite_url: str
) -> None:
    """Cancelling the caller does not cut a transaction in half: it commits (or rolls
    back) as it would have; the group writer answers nobody for it, and devices send
    again and get duplicates."""
    before = await epoch_rows(sqlite_url)
    started, go_on = threading.Event(), threading.Event()

    async def work() -> str:
        async with SqlUnitOfWork.blocking(writer) as uow:
            epoch = await uow.sync.renew_epoch()
            started.set()
            go_on.wait(10)
            await uow.commit()
            return epoch

    caller = asyncio.create_task(writer.run(work))
    await asyncio.to_thread(started.wait, 10)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    go_on.set()

    async def read() -> str:
        async with SqlUnitOfWork.blocking(writer) as uow:
            return await uow.sync.epoch()

    committed = await writer.run(read)  # runs after the cancelled one ended
    assert await epoch_rows(sqlite_url) == [committed] != before


async def test_a_closed_writer_refuses_work(sqlite_url: str) -> None:
    writer = BlockingWriter(sqlite_url)

    async def work() -> int:
        return 1

    assert await writer.run(work) == 1
    await writer.close()
    await writer.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        await writer.run(work)


def test_only_a_sqlite_file_gets_a_blocking_writer(tmp_path: Path) -> None:
    assert can_block(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    assert not can_block("sqlite+aiosqlite:///:memory:")
    assert not can_block("sqlite+aiosqlite://")
    assert not can_block("postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def test_the_blocking_session_has_the_sessions_reads_and_writes(
    writer: BlockingWriter, sqlite_url: str
) -> None:
    """The methods of `server.db.session.Session` that the push path does not call today
    (scalar, scalars, add and flush, info, the raw connection) do on the writer's thread
    what AsyncSession does: a repository that starts to call one works there too."""
    before = await column(sqlite_url, "SELECT code FROM company ORDER BY id")

    async def work() -> tuple[object, list[str], str, object]:
        async with SqlUnitOfWork.blocking(writer) as uow:
            session = uow.session
            session.add(Company(code="ADDED", name="Added"))
            await session.flush()  # the INSERT runs now, so the reads below see it
            one = await session.scalar(select(Company.name).where(Company.code == "ADDED"))
            every = list(await session.scalars(select(Company.code).order_by(Company.id)))
            session.info.setdefault("seen", []).append(one)
            raw = await (await session.connection()).get_raw_connection()
            mode = raw.driver_connection.execute("PRAGMA journal_mode").fetchone()[0]
            await uow.commit()
            return one, every, mode, session.info["seen"]

    one, every, mode, seen = await writer.run(work)
    assert one == "Added" and every == [*before, "ADDED"]
    assert mode == "wal" and seen == ["Added"]
    assert await column(sqlite_url, "SELECT code FROM company ORDER BY id") == [*before, "ADDED"]
