"""The unit of work makes its repositories on its own session at each `async with`, and
closes a committed session without a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from server.db.engine import make_engine, make_sessionmaker
from server.journal.sql.journal import SqlJournal
from server.uow import SqlUnitOfWork


async def test_repositories_are_made_on_each_units_own_session(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        with pytest.raises(AttributeError):
            _ = uow.journal  # no session before `async with`
        async with uow:
            journal = uow.journal
            assert isinstance(journal, SqlJournal)
            assert journal.session is uow.session
            assert uow.journal is journal  # the same one for the whole unit
            assert uow.postings.frozen.session is uow.session
            with pytest.raises(AttributeError):
                _ = uow.no_such_repository  # type: ignore[attr-defined]
            first = uow.session
        async with uow:
            assert uow.session is not first
            assert uow.journal is not journal
            assert uow.journal.session is uow.session
    finally:
        await engine.dispose()


async def test_leaving_without_commit_rolls_back_and_a_committed_unit_keeps_its_rows(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE uow_probe (n INTEGER)"))
        maker = make_sessionmaker(engine)
        async with SqlUnitOfWork(maker) as uow:
            await uow.session.execute(text("INSERT INTO uow_probe VALUES (1)"))
            await uow.commit()
        async with SqlUnitOfWork(maker) as uow:
            await uow.session.execute(text("INSERT INTO uow_probe VALUES (2)"))
        async with SqlUnitOfWork(maker) as uow:
            rows = (await uow.session.execute(text("SELECT n FROM uow_probe"))).all()
            assert [tuple(r) for r in rows] == [(1,)]
            assert uow.session.in_transaction()
        assert not uow.session.in_transaction()  # closed on leaving
    finally:
        await engine.dispose()
