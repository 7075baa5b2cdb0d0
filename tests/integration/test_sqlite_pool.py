"""The SQLite engine of a file database keeps as many connections open as requests run at
once, each with the server's PRAGMAs (synchronous=FULL among them)."""

from __future__ import annotations

import asyncio
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
