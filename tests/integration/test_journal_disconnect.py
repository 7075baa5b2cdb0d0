"""A journal save after PostgreSQL dropped the pool's connections (issue 16).

The PostgreSQL engine does not ping a connection at each checkout (a round trip of every
save): a connection whose backend is gone fails its first statement, SQLAlchemy sees a
disconnect and invalidates the whole pool, so that request fails cleanly (a DBAPIError,
nothing written) and the next ones get new connections and work. Real PostgreSQL, the
backends killed with pg_terminate_backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import make_sessionmaker, open_pool
from server.journal.tables import JournalLineTable, JournalTransactionTable
from server.journal.usecases import journal
from server.uow import SqlUnitOfWork
from tests.conftest import PG_ADMIN_URL, fresh_database
from tests.integration.test_journal_statements import NOW, adjustment, engine  # noqa: F401


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """PostgreSQL only: SQLite has no server to lose."""
    yield from fresh_database(request, "postgres", tmp_path)


async def save(engine_: AsyncEngine) -> None:
    await journal.save_transaction(
        SqlUnitOfWork(make_sessionmaker(engine_)), adjustment("12"), 1, "clerk", NOW
    )


async def test_a_save_after_the_backends_were_killed_fails_cleanly_then_saves_work(
    engine: AsyncEngine,  # noqa: F811 (the fixture imported above)
    database_url: str,
) -> None:
    assert await open_pool(engine) > 1  # the pool holds several idle connections
    await save(engine)
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        others = f"FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        assert await admin.fetchval(f"SELECT count(*) {others}") > 1
        await admin.execute(f"SELECT pg_terminate_backend(pid, 5000) {others}")  # waits
        assert await admin.fetchval(f"SELECT count(*) {others}") == 0
    finally:
        await admin.close()
    # Every pooled connection is dead and none is pinged: the first save fails, cleanly.
    with pytest.raises(DBAPIError) as failed:
        await save(engine)
    assert failed.value.connection_invalidated, failed.value
    # Whatever connection the pool hands out next is a new one: every save works.
    for _ in range(5):
        await save(engine)
    async with make_sessionmaker(engine)() as db:
        headers = await db.scalar(select(func.count()).select_from(JournalTransactionTable))
        lines = await db.scalar(select(func.count()).select_from(JournalLineTable))
    assert headers == 6
    assert lines == 60
