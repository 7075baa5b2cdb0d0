"""The SQLite engine of a file database keeps as many connections open as requests run at
once, each with the server's PRAGMAs (synchronous=FULL among them)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.engine import SQLITE_POOL_SIZE, make_engine


async def test_twenty_connections_at_once_are_kept_open_with_their_pragmas(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda dbapi, _: opened.append(dbapi))
    started = asyncio.Event()
    waiting = 0

    async def one() -> tuple[int, int]:
        nonlocal waiting
        async with engine.connect() as conn:
            waiting += 1
            if waiting == SQLITE_POOL_SIZE:
                started.set()
            await started.wait()  # all checked out at the same time
            return await _pragmas(conn)

    try:
        for _ in range(3):
            results = await asyncio.gather(*[one() for _ in range(SQLITE_POOL_SIZE)])
            started.clear()
            waiting = 0
            assert set(results) == {(2, 1)}  # synchronous=FULL, foreign_keys=ON
        assert len(opened) == SQLITE_POOL_SIZE  # opened once, reused by the next rounds
    finally:
        await engine.dispose()


async def _pragmas(conn: AsyncConnection) -> tuple[int, int]:
    synchronous = await conn.scalar(text("PRAGMA synchronous"))
    foreign_keys = await conn.scalar(text("PRAGMA foreign_keys"))
    return int(synchronous or 0), int(foreign_keys or 0)


async def test_a_connection_returned_with_a_transaction_open_is_rolled_back(
    tmp_path: Path,
) -> None:
    """The pool's reset (server.db.engine.sqlite_reset): a write the SQLAlchemy connection
    did not know of (sent on the driver, as server.db.direct does) is rolled back when the
    connection goes back to the pool, and the next checkout of the same connection sees
    no transaction and no row; after a COMMIT, no rollback is sent."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}", pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.execute("INSERT INTO t VALUES (1)")  # opens sqlite3's transaction
            assert driver.in_transaction
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is driver  # the same pooled connection
            assert not driver.in_transaction
            assert await conn.scalar(text("SELECT count(*) FROM t")) == 0

        sent: list[str] = []
        rollback = type(driver).rollback

        async def counted(self: object) -> None:
            sent.append("rollback")
            await rollback(self)  # type: ignore[arg-type]

        type(driver).rollback = counted  # type: ignore[method-assign]
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
            assert sent == []  # committed: nothing to roll back, no hand-over for it
            async with engine.connect() as conn:
                await conn.execute(text("INSERT INTO t VALUES (3)"))
            assert sent == ["rollback"]  # left without commit: rolled back (by the connection)
        finally:
            type(driver).rollback = rollback  # type: ignore[method-assign]
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT x FROM t")) == 2
    finally:
        await engine.dispose()


async def test_a_null_binds_through_the_adapter_registry_and_is_stored_as_null(
    tmp_path: Path,
) -> None:
    """sqlite3's adapter lookup for None ends at the registry (server.db.engine's
    `bind_none_directly`), and None is still stored as NULL, not as a value."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'null.db'}")
    try:
        assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER, b TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES (:a, :b)"), [{"a": None, "b": None}])
            query = text("SELECT a IS NULL, b IS NULL, typeof(a) FROM t")
            found = (await conn.execute(query)).one()
        assert tuple(found) == (1, 1, "null")
    finally:
        await engine.dispose()
