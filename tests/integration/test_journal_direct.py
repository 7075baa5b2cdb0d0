"""server.db.direct: the journal save's and the posting writer's statements sent to the
SQLite driver directly store and read exactly what SQLAlchemy stores and reads, on both
databases (PostgreSQL takes SQLAlchemy's path), and fail as SQLAlchemy fails."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.db.direct import (
    Writes,
    connection,
    executemany,
    fetchall,
    insert_returning,
    together,
)
from server.db.engine import make_engine, make_sessionmaker
from server.db.writes import table

GL = table("gl_posting")
_INSERT = insert(GL)
_READ = (
    select(GL.c.id, GL.c.amount, GL.c.posting_date, GL.c.posted_at, GL.c.intercompany)
    .where(GL.c.document_number.in_(bindparam("numbers", expanding=True)))
    .where(GL.c.posted_at == bindparam("at", type_=GL.c.posted_at.type))
    .order_by(GL.c.id)
)
_INSERT_RETURNING = insert(GL).returning(GL.c.id, GL.c.document_number, GL.c.amount)
# As stored, every column as text (no driver or SQLAlchemy conversion on the way back).
_RAW = (
    "SELECT id, account_code, company_code, period, document_number, CAST(amount AS TEXT), "
    "CAST(intercompany AS TEXT), CAST(posting_date AS TEXT), CAST(posted_at AS TEXT) "
    "FROM gl_posting ORDER BY id"
)


def row(number: str, amount: str) -> dict[str, Any]:
    return {
        "account_code": "1200",
        "entity_code": None,
        "company_code": "C1",
        "period": "2026-11",
        "intercompany": True,
        "journal_name": "IA",
        "document_kind": "journal_transaction",
        "document_id": 1,
        "document_number": number,
        "line_no": 1,
        "amount": Decimal(amount),
        "posting_date": date(2026, 11, 23),
        "posted_at": datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC),
    }


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def stored(conn: AsyncConnection) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them (no SQLAlchemy types), ids left out."""
    return [tuple(r)[1:] for r in await conn.exec_driver_sql(_RAW)]


async def test_direct_writes_and_reads_are_sqlalchemys(engine: AsyncEngine) -> None:
    rows = [row("IA-1", "-12.34"), row("IA-2", "0.01"), row("IA-3", "1.5"), row("IA-4", "-0.25")]
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    async with engine.connect() as conn:
        await conn.execute(_INSERT, rows)  # SQLAlchemy's path
        by_sqlalchemy = await stored(conn)
        await conn.rollback()
        await conn.execute(select(1))  # in a transaction, as a save is
        sent.clear()
        await executemany(conn, _INSERT, rows[:2])
        assert [s for s in sent if "INSERT INTO gl_posting" in s], "the engine's events see it"
        assert await stored(conn) == by_sqlalchemy[:2]  # the same stored values, byte for byte
        since = {"numbers": ["IA-2", "IA-1", "IA-9"], "at": rows[0]["posted_at"]}
        read = await fetchall(conn, _READ, since)
        expected = list(await conn.execute(_READ, since))
        assert [tuple(r) for r in read] == [tuple(r) for r in expected]
        assert [r[1:] for r in read] == [
            (Decimal("-12.34"), date(2026, 11, 23), rows[0]["posted_at"], True),
            (Decimal("0.01"), date(2026, 11, 23), rows[0]["posted_at"], True),
        ]
        ids = [r[0] for r in read]
        returned = await insert_returning(conn, _INSERT_RETURNING, rows[2:])
        assert sorted(tuple(r) for r in returned) == [
            (ids[1] + 1, "IA-3", Decimal("1.5")),
            (ids[1] + 2, "IA-4", Decimal("-0.25")),
        ]
        assert await stored(conn) == by_sqlalchemy  # stored as SQLAlchemy stores them
        with pytest.raises(IntegrityError):  # as SQLAlchemy raises it
            await executemany(conn, _INSERT, [{**rows[0], "id": ids[0]}])


async def add_tuples(conn: AsyncConnection, keys: tuple[str, ...], rows: list[Any]) -> None:
    writes = Writes(conn)
    await writes.add_tuples(_INSERT, keys, rows)
    await writes.flush()


async def test_rows_given_as_tuples_store_as_mappings_do(engine: AsyncEngine) -> None:
    """`Writes.add_tuples` (each row a tuple in the order of its keys, here not the
    table's order) stores what `executemany` stores for the same rows as mappings, on the
    driver directly in a transaction, and through SQLAlchemy outside one; a value every
    row shares (the same timestamp object) is stored in every row."""
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    rows = [{**row(f"IA-{n}", f"{n}.25"), "posted_at": at} for n in range(4)]
    keys = tuple(reversed(list(rows[0])))
    tuples = [tuple(r[k] for k in keys) for r in rows]
    async with engine.connect() as conn:
        await conn.execute(select(1))
        await executemany(conn, _INSERT, rows)
        as_mappings = await stored(conn)
        await conn.rollback()
        await conn.execute(select(1))  # in a transaction: the driver's path on SQLite
        await add_tuples(conn, keys, tuples)
        assert await stored(conn) == as_mappings
        await conn.rollback()
    async with engine.connect() as conn:  # no transaction yet: SQLAlchemy's path
        await add_tuples(conn, keys, tuples)
        assert await stored(conn) == as_mappings
        await conn.rollback()


async def test_connection_is_the_session_transactions_own(engine: AsyncEngine) -> None:
    """`connection` gives the connection of the session's current transaction: the same
    one within it, and after a commit or a rollback the next transaction's, never the
    one kept from the transaction that ended (closed, or outside the transaction)."""
    async with make_sessionmaker(engine)() as session:
        first = await connection(session)
        assert await connection(session) is first
        await first.execute(_INSERT, [row("IA-1", "1")])
        await session.commit()
        await session.execute(select(1))  # the next transaction begins
        second = await connection(session)
        assert isinstance(second, AsyncConnection) and second.sync_connection.in_transaction()
        await second.execute(_INSERT, [row("IA-2", "2")])
        await session.rollback()
        await session.execute(select(1))
        third = await connection(session)
        await third.execute(_INSERT, [row("IA-3", "3")])
        await session.commit()
    async with engine.connect() as conn:
        numbers = [r[4] for r in await conn.exec_driver_sql(_RAW)]
    assert numbers == ["IA-1", "IA-3"]


async def numbers(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return [r[4] for r in await conn.exec_driver_sql(_RAW)]


async def test_together_runs_the_work_on_the_connections_thread(engine: AsyncEngine) -> None:
    """On SQLite the work's statements, sent directly or through the session's own
    (ORM) path, run on the connection's thread in place: one hand-over for them all, the
    event loop's thread sending none. On PostgreSQL the work is awaited on the loop.
    Either way they are the session's transaction: committed with it."""
    threads: list[int] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda *a: threads.append(threading.get_ident()),
    )
    at = row("IA-1", "1")["posted_at"]
    async with make_sessionmaker(engine)() as session:

        async def work() -> tuple[list[Any], list[str]]:
            conn = await connection(session)
            await executemany(conn, _INSERT, [row("IA-1", "1.5")])
            await session.execute(insert(GL), [row("IA-2", "2")])  # SQLAlchemy's path
            read = await fetchall(conn, _READ, {"numbers": ["IA-1", "IA-2"], "at": at})
            found = await session.scalars(select(GL.c.document_number).order_by(GL.c.id))
            return read, list(found)

        read, found = await together(session, work)
        during = list(threads)
        await session.commit()
    assert [r[1] for r in read] == [Decimal("1.5"), Decimal(2)]
    assert found == ["IA-1", "IA-2"]
    assert await numbers(engine) == ["IA-1", "IA-2"]
    loop = threading.get_ident()
    assert len(during) == 4
    if engine.dialect.name == "sqlite":
        assert len(set(during)) == 1 and during[0] != loop, "one thread, not the loop's"
    else:
        assert set(during) == {loop}


async def test_together_fails_as_the_work_fails(engine: AsyncEngine) -> None:
    """An error of the work is raised by `together` as it was raised (a driver's error as
    SQLAlchemy's IntegrityError, on either path); work that waits on anything but its
    statements is refused on SQLite (RuntimeError). The transaction then rolls back, and
    the session's connection works as before."""
    maker = make_sessionmaker(engine)
    async with maker() as session:
        await session.execute(insert(GL), [row("IA-1", "1")])
        (first,) = await session.scalars(select(GL.c.id))
        await session.commit()
    twice = {**row("X", "1"), "id": first}
    async with maker() as session:

        async def duplicate_direct() -> None:
            await executemany(await connection(session), _INSERT, [twice])

        async def duplicate_orm() -> None:
            await session.execute(insert(GL), [twice])

        async def sleeps() -> None:
            await executemany(await connection(session), _INSERT, [row("IA-2", "2")])
            await asyncio.sleep(0)

        for work in (duplicate_direct, duplicate_orm):
            with pytest.raises(IntegrityError):
                await together(session, work)
            await session.rollback()
        if engine.dialect.name == "sqlite":
            with pytest.raises(RuntimeError, match="awaited something else"):
                await together(session, sleeps)
            # aiosqlite's own hand-over is the connection's again: statements sent from
            # the event loop go to its thread, none runs in place on the loop.
            raw = (await (await connection(session)).get_raw_connection()).driver_connection
            assert "_execute" not in vars(raw)
        else:
            await together(session, sleeps)
        await session.rollback()
        await session.execute(insert(GL), [row("IA-3", "3")])
        await session.commit()
    assert await numbers(engine) == ["IA-1", "IA-3"]


async def test_together_commits_with_the_work_when_asked(engine: AsyncEngine) -> None:
    """`commit=True`: on SQLite the COMMIT is sent on the connection's thread right after
    the work (another connection sees the rows before the session's commit, which then
    sends no second COMMIT); on PostgreSQL the session's commit commits. A COMMIT that
    fails (a deferred foreign key) is raised as SQLAlchemy's IntegrityError, on SQLite by
    `together`, on PostgreSQL by the session's commit, and nothing is stored."""
    sqlite = engine.dialect.name == "sqlite"
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE p (id INTEGER PRIMARY KEY)")
        await conn.exec_driver_sql(
            "CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    maker = make_sessionmaker(engine)
    sent: list[str] = []
    async with maker() as session:

        async def work() -> None:
            await executemany(await connection(session), _INSERT, [row("IA-1", "1")])

        await together(session, work, commit=True)
        assert await numbers(engine) == (["IA-1"] if sqlite else [])
        if sqlite:
            raw = (await (await connection(session)).get_raw_connection()).driver_connection
            assert raw is not None and not raw.in_transaction
            commit = type(raw).commit

            async def counted(self: Any) -> None:
                sent.append("commit")
                await commit(self)

            type(raw).commit = counted  # type: ignore[method-assign]
            try:
                await session.commit()
            finally:
                type(raw).commit = commit  # type: ignore[method-assign]
        else:
            await session.commit()
    assert sent == []
    assert await numbers(engine) == ["IA-1"]

    async with maker() as session:

        async def orphan() -> None:
            await executemany(await connection(session), _INSERT, [row("IA-2", "2")])
            await session.execute(text("INSERT INTO c (p) VALUES (99)"))

        if sqlite:
            with pytest.raises(IntegrityError) as raised:
                await together(session, orphan, commit=True)
        else:
            await together(session, orphan, commit=True)
            with pytest.raises(IntegrityError) as raised:
                await session.commit()
        assert raised.value.orig is not None
        await session.rollback()
    assert await numbers(engine) == ["IA-1"]
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM c")) == 0


async def test_direct_dates_and_times_store_as_sqlalchemys(engine: AsyncEngine) -> None:
    """Dates and timestamps repeat within a document, and direct formats each distinct
    one once: the same instant in two time zones, distinct instants and dates, one after
    another and again, are stored as SQLAlchemy stores them; a naive timestamp is refused
    each time, as SQLAlchemy refuses it."""
    at = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
    east = at.astimezone(timezone(timedelta(hours=2)))
    days = (date(2026, 11, 23), date(2026, 11, 24))
    rows = [
        {**row(f"IA-{n}", "1"), "posted_at": when, "posting_date": day}
        for n, (when, day) in enumerate(
            [(at, days[0]), (east, days[0]), (at + timedelta(microseconds=1), days[1])] * 2
        )
    ]
    async with engine.connect() as conn:
        await conn.execute(_INSERT, rows)
        by_sqlalchemy = await stored(conn)
        await conn.rollback()
        await conn.execute(select(1))
        await executemany(conn, _INSERT, rows[:3])
        await executemany(conn, _INSERT, rows[3:])
        assert await stored(conn) == by_sqlalchemy
        naive = {**rows[0], "posted_at": at.replace(tzinfo=None)}
        for _ in range(2):
            with pytest.raises((ValueError, StatementError)):
                await executemany(conn, _INSERT, [naive])


_READ_OWN = (
    select(GL.c.document_number, GL.c.amount)
    .where(GL.c.document_number.in_(bindparam("numbers", expanding=True)))
    .where(GL.c.company_code.in_(["C1", "C2"]), GL.c.line_no == 1)
    .where(GL.c.amount > bindparam("least", type_=GL.c.amount.type))
    .order_by(GL.c.id)
)


async def test_direct_reads_of_each_shape_are_sqlalchemys(engine: AsyncEngine) -> None:
    """A read's IN lists are expanded once per length: lists of other values and of other
    lengths (empty too), sets, and the statement's own constants and lists read what
    SQLAlchemy reads, whatever came before."""
    rows = [row(f"IA-{n}", f"{n}.5") for n in range(5)]
    async with engine.connect() as conn:
        await conn.execute(select(1))
        await executemany(conn, _INSERT, rows)
        for numbers in (["IA-1"], ["IA-0", "IA-2", "IA-4"], ["IA-3", "IA-1", "IA-9"], [],
                        ["IA-4"], {"IA-2", "IA-3"}, ("IA-0", "IA-1", "IA-3")):  # fmt: skip
            for least in (Decimal(0), Decimal("1.5")):
                params = {"numbers": numbers, "least": least}
                expected = [tuple(r) for r in await conn.execute(_READ_OWN, dict(params))]
                assert [tuple(r) for r in await fetchall(conn, _READ_OWN, params)] == expected
