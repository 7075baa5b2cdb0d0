"""Import master data into a database named by URL: for the CLI, the demo and scripts."""

from __future__ import annotations

import time
from collections.abc import Sequence

from server.db.engine import make_engine, make_sessionmaker
from server.db.uow import SqlUnitOfWork
from server.services.import_sources import Say, SourceLike
from server.services.importer import ImportSummary, import_sources


async def import_into_database(
    database_url: str, sources: Sequence[SourceLike], say: Say | None = None
) -> ImportSummary:
    """Open the database at `database_url`, import every source (all or nothing), close."""
    started = time.perf_counter()
    engine = make_engine(database_url)
    try:
        rows = await import_sources(SqlUnitOfWork(make_sessionmaker(engine)), sources, say)
    finally:
        await engine.dispose()
    return ImportSummary(rows, time.perf_counter() - started)
