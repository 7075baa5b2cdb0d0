"""Engines for both backends, with SQLite set up for a server: WAL, foreign keys, busy wait."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import PoolResetState

from server.db.direct import resets_in_place

log = logging.getLogger("stockcount.db")

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 20
SQLITE_POOL_OVERFLOW = 20
# PostgreSQL: a pool as large as the pushes that run side by side (twenty devices at once),
# so that a burst does not open connections. With 10 (+10 overflow, closed on return) a
# 20-device sync benchmark opened 24 new connections during its 10 s run and 10 in the
# first round alone: each a new backend, its codecs set up by the driver, and its
# statements prepared again (the 500-row event INSERT: ~7 ms of PostgreSQL and ~5 ms of
# the event loop on every new connection).
PG_POOL_SIZE = 20
PG_POOL_OVERFLOW = 10


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # NORMAL is durable across application crashes in WAL mode; FULL also survives power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def sqlite_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's rollback on return (its `reset_on_return="rollback"`), for aiosqlite.

    As the pool does: nothing when the transaction was already reset or the event loop
    cannot be used (a connection collected by the garbage collector), else a rollback.
    The rollback is skipped when SQLite has no transaction open (`in_transaction`, which is
    `sqlite3_get_autocommit`, read while the connection's thread is idle): sqlite3's
    `rollback()` sends nothing then either, so only the hand-over to aiosqlite's thread
    and back (one per unit of work after its COMMIT) is saved. A connection returned
    after an error, or with a transaction left open, is still rolled back."""
    if state.transaction_was_reset or not state.asyncio_safe:
        return
    aiosqlite = getattr(dbapi_connection, "_connection", None)  # SQLAlchemy's adapter's
    sqlite = getattr(aiosqlite, "_connection", None)  # aiosqlite's; None once closed
    if sqlite is not None and not sqlite.in_transaction:
        return
    dbapi_connection.rollback()


def sqlite_commit(do_commit: Callable[[Any], None], dbapi_connection: Any) -> None:
    """The dialect's COMMIT, skipped when SQLite has no transaction open: sqlite3's
    `commit()` sends nothing then either (it reads the same `sqlite3_get_autocommit`), so
    only the hand-over to aiosqlite's thread is saved. That is the case of a unit of work
    that read only, and of one whose COMMIT was already sent on the connection's thread
    (server.db.direct.together(commit=True)); any other commit is sent as before."""
    aiosqlite = getattr(dbapi_connection, "_connection", None)  # SQLAlchemy's adapter's
    sqlite = getattr(aiosqlite, "_connection", None)  # aiosqlite's; None once closed
    if sqlite is not None and not sqlite.in_transaction:
        return
    do_commit(dbapi_connection)


def bind_none_directly() -> None:
    """sqlite3 binds int, float and str as they are, but sends every other value, None
    included, through its adapter protocol: a registry lookup, then `__adapt__` looked
    up on its PrepareProtocol class and `__conform__` on the value, both missing, each
    miss an AttributeError formatted and dropped (about 1,200 instructions a NULL; a
    journal save binds some 560 NULLs: 4-5% of its instructions). An adapter registered for
    NoneType ends the lookup at the registry: `{}.get`, a C function, gives None back,
    which binds as NULL exactly as before. Process-wide and idempotent; it changes no
    stored value (None is NULL either way)."""
    sqlite3.register_adapter(type(None), _NOTHING.get)


_NOTHING: dict[object, None] = {}


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        bind_none_directly()
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Every pooled aiosqlite connection is a thread, a file open and the PRAGMAs
            # above. With the default pool (5, plus 10 overflow closed on return) twenty
            # devices authenticating at once kept closing and reopening connections; a
            # pool as large as the concurrency keeps them open. SQLite still has one
            # writer; the extra connections are for reads (WAL readers do not block).
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_POOL_OVERFLOW)
        # The pool's rollback on return is done by `sqlite_reset` below, which skips it
        # when SQLite has no transaction open (after a COMMIT): the same as sqlite3's own
        # rollback, which sends nothing then, less the hand-over to aiosqlite's thread.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        if kwargs["pool_reset_on_return"] is None:
            event.listen(engine.sync_engine.pool, "reset", sqlite_reset)
            resets_in_place(engine.sync_engine.pool)
        dialect = engine.sync_engine.dialect
        # This engine's dialect object only (each engine has its own).
        dialect.do_commit = partial(sqlite_commit, dialect.do_commit)  # type: ignore[method-assign]
        return engine
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    kwargs.setdefault("max_overflow", PG_POOL_OVERFLOW)
    # A ping at checkout (one round trip a unit of work): a connection whose backend is
    # gone (PostgreSQL restarted, a backend killed, a failover) is replaced before the
    # request uses it, so no supervisor's finalize or device's push fails for it
    # (tests/integration/test_journal_disconnect.py). Tried without it (journal6p): one
    # request after such an event failed with a 500, for about 1 ms a save.
    kwargs.setdefault("pool_pre_ping", True)
    # JIT off: the app's statements are short OLTP ones or big set-based copies whose
    # plans are simple; PostgreSQL's cost-based JIT kicks in on the big ones and then
    # spends longer compiling expressions in LLVM than executing them (seen: a stock
    # count's statement compiling for over ten minutes, deaf to cancel). Nothing here
    # gains from JIT, so every connection of the app's engine turns it off.
    connect_args = dict(kwargs.pop("connect_args", None) or {})
    server_settings = {"jit": "off", **connect_args.get("server_settings", {})}
    connect_args["server_settings"] = server_settings
    kwargs["connect_args"] = connect_args
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def open_pool(
    engine: AsyncEngine, prime: Callable[[AsyncConnection], Awaitable[None]] | None = None
) -> int:
    """Open the pool's connections (as many as it keeps) before the server reports ready,
    `prime` run on each (statements prepared), and leave them in the pool; returns how
    many were opened. Otherwise the first burst of requests after start-up opens them, all in the
    same instant, and pays for them in its answers. A pool that keeps none (NullPool,
    StaticPool) is left as it is."""
    size = getattr(engine.pool, "size", None)
    count = size() if callable(size) else 0
    opened = 0
    async with AsyncExitStack() as held:  # all held at once: each one a new connection
        for _ in range(count):
            try:
                conn = await held.enter_async_context(engine.connect())
                if prime is not None:
                    await prime(conn)
                await conn.rollback()  # nothing is written: back to the pool idle
            except (DBAPIError, OSError) as error:
                if opened == 0:
                    raise  # the database cannot be reached at all: say so at start-up
                # Fewer connections than the pool keeps (the server's connection limit,
                # say): serve with what is open rather than refuse to start.
                log.warning(
                    "opened %d of the pool's %d connections before start-up (%s); "
                    "the rest open when requests need them",
                    opened,
                    count,
                    str(error).splitlines()[0] if str(error) else type(error).__name__,
                )
                break
            opened += 1
    return opened
