"""The composition root: the one place that builds the engine, the unit of work, the
writers and the objects the use cases share, for the app, the CLI, the demo, the importer
and the benchmarks alike.

Choices made here and nowhere else:
- which database (the URL), and whether a blocking writer serves it (a SQLite file);
- how a device's push is written (`PushIngest`): in groups behind one writer on SQLite
  (`server.sync.group.PushGroups`), one transaction per push on PostgreSQL, where pushes
  run side by side (`server.sync.group.PushOneByOne`);
- the reconciliation cache the counts' use cases keep between requests.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.counts.usecases.cache import ReconciliationCache
from server.db.blocking import BlockingWriter, can_block
from server.db.engine import make_engine, make_sessionmaker, open_pool
from server.db.migrate import check_at_head
from server.masterdata.usecases.importer import ImportSummary, Updating, run_import
from server.masterdata.usecases.sources import Say, SourceLike
from server.ports import Actor
from server.settings import Settings
from server.sync.group import PushGroups, PushOneByOne
from server.sync.ports import PushIngest
from server.sync.sql import SqlSync
from server.uow import SqlUnitOfWork


@dataclass
class Runtime:
    """What one process holds for its lifetime."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    ingest: PushIngest
    reconciliations: ReconciliationCache[Any]  # one per process, carried by every unit of work
    writer: BlockingWriter | None = None

    def uow(self) -> SqlUnitOfWork:
        """A new unit of work on the process's engine (one transaction per `async with`)."""
        return SqlUnitOfWork(self.sessionmaker, self.reconciliations)


@asynccontextmanager
async def open_runtime(
    settings: Settings | str, *, check_migrations: bool = False, warm: bool = False
) -> AsyncIterator[Runtime]:
    """Open everything for `settings` (or a database URL with default settings); close it
    all on leaving. `check_migrations`: refuse a database that is not at the head.
    `warm` (a server, before it reports ready): open the pool's connections and prepare
    the push's event INSERT on each, so that the first burst of pushes after start-up
    costs what a later one costs."""
    if isinstance(settings, str):
        settings = Settings(database_url=settings)
    engine = make_engine(settings.database_url)
    writer: BlockingWriter | None = None
    try:
        if can_block(settings.database_url):
            writer = BlockingWriter(settings.database_url)
        if check_migrations:
            await check_at_head(engine)
        if warm:
            await open_pool(engine, SqlSync.prime)
        sessionmaker = make_sessionmaker(engine)
        reconciliations: ReconciliationCache[Any] = ReconciliationCache()

        def uow() -> SqlUnitOfWork:
            return SqlUnitOfWork(sessionmaker, reconciliations)

        yield Runtime(
            settings,
            engine,
            sessionmaker,
            ingest=_ingest(settings, engine, uow, writer, reconciliations),
            reconciliations=reconciliations,
            writer=writer,
        )
    finally:
        if writer is not None:
            await writer.close()
        await engine.dispose()


def _ingest(
    settings: Settings,
    engine: AsyncEngine,
    uow: Callable[[], SqlUnitOfWork],
    writer: BlockingWriter | None,
    reconciliations: ReconciliationCache[Any],
) -> PushIngest:
    """How pushes are written, chosen here once for the process. SQLite has one writer
    and its busy wait is not fair: twenty devices pushing at once starve some past the
    busy timeout, so the process writes its own pushes one transaction at a time, the
    pushes that queued meanwhile together (group commit). On PostgreSQL the install row's
    lock serializes the pushes of one device, and pushes run side by side."""
    bind = SqlSync.binder(engine.dialect)
    if settings.is_sqlite:
        if writer is None:
            return PushGroups(uow, bind=bind)
        blocking = writer
        return PushGroups(
            lambda: SqlUnitOfWork.blocking(blocking, reconciliations), bind=bind, runner=blocking
        )
    return PushOneByOne(uow, bind=bind)


async def import_into_database(
    database_url: str,
    sources: Sequence[SourceLike],
    say: Say | None = None,
    update: Updating | None = None,
    audit_as: Actor | None = None,
) -> ImportSummary:
    """Open the database at `database_url`, import every source (all or nothing), close:
    for the CLI, the demo and scripts. `update`: rows whose key exists update the record
    (logged as `update.by`). `audit_as`: the import is in the audit trail (the CLI's)."""
    started = time.perf_counter()
    async with open_runtime(database_url) as runtime:
        stored = await run_import(runtime.uow(), sources, say, update, audit_as)
    seconds = time.perf_counter() - started
    if update is None:
        return ImportSummary(stored.rows, seconds)
    return ImportSummary(stored.rows, seconds, stored.updated, stored.unchanged)
