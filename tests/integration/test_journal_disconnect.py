"""A journal save after PostgreSQL dropped the pool's connections (issue 16).

The PostgreSQL engine pings a connection at each checkout: a connection whose backend is
gone is replaced before the save uses it, so no save fails for it and none is doubled.
Real PostgreSQL, the backends killed with pg_terminate_backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
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


async def test_saves_after_the_backends_were_killed_all_work(
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
    # Every pooled connection is dead: the ping at checkout finds it, and every save works.
    for _ in range(6):
        await save(engine)
    async with make_sessionmaker(engine)() as db:
        headers = await db.scalar(select(func.count()).select_from(JournalTransactionTable))
        lines = await db.scalar(select(func.count()).select_from(JournalLineTable))
    assert headers == 7
    assert lines == 70
