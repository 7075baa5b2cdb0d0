"""Import master data into a database named by URL: for the CLI, the demo and scripts."""

from __future__ import annotations

import time
from collections.abc import Sequence

from server.db.engine import make_engine, make_sessionmaker
from server.db.uow import SqlUnitOfWork
from server.services.import_sources import Say, SourceLike
from server.services.importer import ImportSummary, Updating, run_import


async def import_into_database(
    database_url: str,
    sources: Sequence[SourceLike],
    say: Say | None = None,
    update: Updating | None = None,
) -> ImportSummary:
    """Open the database at `database_url`, import every source (all or nothing), close.

    `update`: rows whose key exists update the record (logged as `update.by`)."""
    started = time.perf_counter()
    engine = make_engine(database_url)
    try:
        stored = await run_import(SqlUnitOfWork(make_sessionmaker(engine)), sources, say, update)
    finally:
        await engine.dispose()
    seconds = time.perf_counter() - started
    if update is None:
        return ImportSummary(stored.rows, seconds)
    return ImportSummary(stored.rows, seconds, stored.updated, stored.unchanged)
