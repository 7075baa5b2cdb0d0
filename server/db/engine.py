"""Engines for both backends, with SQLite set up for a server: WAL, foreign keys, busy wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 20
SQLITE_POOL_OVERFLOW = 20


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # NORMAL is durable across application crashes in WAL mode; FULL also survives power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
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
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
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
