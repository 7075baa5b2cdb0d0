"""SQLite's one writer on a thread of its own, with a blocking sqlite3 connection.

The app reaches SQLite through aiosqlite: every statement is handed to the connection's
thread and its result handed back to the event loop. A group transaction of pushes
(`server.sync.group`) is a dozen such round trips (the install upsert, the count
facts, the event INSERTs, the marks, the COMMIT), and each waits for the event loop, which
is busy decoding the next pushes. Measured under the ingest benchmark: a 2,000-event group
spent 20 ms on its one-row install upsert; over 200,000 events the upserts took 0.65-0.82 s
in all through aiosqlite and 0.13-0.21 s here (docs/BENCHMARKS.md, Sync ingest).

`BlockingWriter` runs the whole transaction on one thread instead: the thread has its own
event loop and one plain sqlite3 connection (SQLAlchemy's pysqlite, the same PRAGMAs), so
each statement runs when it is awaited, with no hand-over; SQLite releases the GIL while
it works, and the server's loop goes on meanwhile. The caller awaits one future for the
whole transaction. The repositories and the services are the same code as everywhere: they
see the blocking session through `BlockingSession`, a `server.db.session.Session` as
AsyncSession is (mypy checks that it has every method the repositories call).

One thread, one connection: transactions run one after another, as SQLite runs them
anyway. A transaction that was started runs to its end (COMMIT or ROLLBACK) even when the
caller stops waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Executable,
    PoolProxiedConnection,
    Result,
    ScalarResult,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from server.db.engine import sqlite_pragmas

T = TypeVar("T")


class BlockingConnection:
    """A `server.db.session.Connection` over a blocking Connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.dialect = connection.dialect

    async def execute(
        self, statement: Executable, parameters: Any = None, /
    ) -> CursorResult[*tuple[Any, ...]]:
        return self._connection.execute(statement, parameters)

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, /
    ) -> CursorResult[*tuple[Any, ...]]:
        return self._connection.exec_driver_sql(statement, parameters)

    async def get_raw_connection(self) -> PoolProxiedConnection:
        return self._connection.connection


class BlockingSession:
    """A `server.db.session.Session` over a blocking Session: the push path (`SqlSync`'s
    push methods, and what recording a bin count reads and writes) runs on it.
    Each method runs when it is awaited: only for the writer thread, where blocking is the
    point. Unlike AsyncSession, results are not buffered: the push path reads each result
    whole before its next statement, as code for either session must."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def info(self) -> dict[Any, Any]:
        return self._session.info

    def get_bind(self) -> Engine | Connection:
        return self._session.get_bind()

    async def connection(self) -> BlockingConnection:
        return BlockingConnection(self._session.connection())

    async def execute(
        self, statement: Executable, params: Any = None, /
    ) -> Result[*tuple[Any, ...]]:
        return self._session.execute(statement, params)

    async def scalar(self, statement: Executable, params: Any = None, /) -> Any:
        return self._session.scalar(statement, params)

    async def scalars(self, statement: Executable, params: Any = None, /) -> ScalarResult[Any]:
        return self._session.scalars(statement, params)

    def add(self, instance: object, /) -> None:
        self._session.add(instance)

    async def flush(self) -> None:
        self._session.flush()

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[SessionTransaction]:
        with self._session.begin_nested() as savepoint:
            yield savepoint

    async def commit(self) -> None:
        self._session.commit()

    async def rollback(self) -> None:
        self._session.rollback()

    async def close(self) -> None:
        self._session.close()


def make_blocking_engine(url: str) -> Engine:
    """A plain sqlite3 engine on the file of an app's SQLite URL, set up as the app's
    (`sqlite_pragmas`), with one connection: the writer thread's."""
    parsed = make_url(url)
    engine = create_engine(parsed.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0)
    event.listen(engine, "connect", sqlite_pragmas)
    return engine


def can_block(url: str) -> bool:
    """A SQLite file: a second connection reaches the same database (not ':memory:')."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


class BlockingWriter:
    """One thread that runs transactions on its own event loop and blocking connection.

    `run(work)` runs `work()` there and returns its result (or raises its exception) on the
    caller's loop; `session()` is a session on the thread's connection, for `work` to use
    (`server.uow.SqlUnitOfWork.blocking` makes a unit of work of it).
    `close()` ends the thread and closes the connection."""

    def __init__(self, url: str) -> None:
        self._engine = make_blocking_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._loop: asyncio.AbstractEventLoop | None = None  # the thread's; made there
        self._closed = False

    def session(self) -> BlockingSession:
        """A session on the thread's connection, for `work` to use."""
        return BlockingSession(self._sessions())

    async def run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self._closed:
            raise RuntimeError("the SQLite writer is closed")
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work)

    def _run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(work())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close_here)
        self._thread.shutdown(wait=True)

    def _close_here(self) -> None:
        self._engine.dispose()
        if self._loop is not None:
            self._loop.close()
