"""`stockcount serve` opens its database pool and prepares a full push's event INSERT
before it reports ready (issue 16): a burst of pushes right after start-up opens no
connection and prepares nothing the later ones do not. Without it the twenty first pushes
of a sync, sent in the same instant, opened ten connections and prepared the 6,000-
parameter INSERT twenty times, and were the slowest pushes of the benchmark."""

from __future__ import annotations

import logging
import uuid
from contextlib import AsyncExitStack
from typing import Any
from unittest.mock import ANY

import asyncpg
import pytest
from litestar import Litestar
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.api.state import STATE_KEY
from server.app import create_app
from server.bootstrap import open_runtime
from server.db.engine import make_engine, open_pool
from server.domain.sync import MAX_PUSH_EVENTS
from server.settings import Settings
from server.sync.http import wire
from server.sync.sql import SqlSync
from tests.conftest import _pg_admin
from tests.helpers import scalar
from tests.integration.counts_setup import Client
from tests.integration.test_sync_api import enroll_device, outcomes, setup
from tests.integration.test_sync_group_commit import T0, caller, scans


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, warm=True)  # as `stockcount serve` builds it


def engine_of(app: Litestar) -> AsyncEngine:
    engine = app.state[STATE_KEY].engine
    assert isinstance(engine, AsyncEngine)
    return engine


async def event_inserts(engine: AsyncEngine) -> list[dict[int, int]]:
    """For each connection the pool keeps (all checked out at once), the event INSERTs in
    its driver adapter's prepared statement cache: rows -> the prepared statement's id."""
    found: list[dict[int, int]] = []
    async with AsyncExitStack() as held:
        for _ in range(engine.pool.size()):  # type: ignore[attr-defined]
            conn = await held.enter_async_context(engine.connect())
            adapted = (await conn.get_raw_connection()).dbapi_connection
            cache: Any = getattr(adapted, "_prepared_statement_cache", None) or {}
            found.append(
                {
                    sql.count("), (") + 1: id(entry[0])
                    for sql, entry in cache.items()
                    if sql.startswith("INSERT INTO sync_event")
                }
            )
    return found


def sorted_items(prepared: dict[int, int]) -> list[tuple[int, int]]:
    return sorted(prepared.items())


async def test_a_served_app_opens_its_pool_before_it_serves(app: Litestar, client: Client) -> None:
    pool: Any = engine_of(app).pool
    assert pool.size() >= 20 and pool.checkedin() == pool.size()  # open, idle, ready
    assert (await client.get("/health")).status_code == 200


async def test_a_full_push_after_a_warm_start_prepares_and_opens_nothing(
    client: Client, database_url: str
) -> None:
    hs, number = await setup(client, database_url)
    device = await enroll_device(client, hs["admin"], "hh-1")
    location = int(await scalar(database_url, "SELECT id FROM location WHERE code = 'MAIN'"))
    async with open_runtime(database_url, warm=True) as runtime:
        engine, pool = runtime.engine, runtime.engine.pool
        assert pool.checkedin() == pool.size()  # type: ignore[attr-defined]
        opened: list[object] = []
        event.listen(engine.sync_engine, "connect", lambda dbapi, _: opened.append(dbapi))
        before = await event_inserts(engine)
        if engine.dialect.name == "postgresql":
            # each connection: one event INSERT prepared, of a full push's rows
            assert before == [{MAX_PUSH_EVENTS: ANY}] * len(before)
        else:  # SQLite: the pushes go through the writer's own connection; nothing to prime
            assert before == [{}] * len(before)

        request = device.request(scans(number, device, 1, MAX_PUSH_EVENTS))
        result = await runtime.ingest.push(caller(device, location), wire.push_batch(request), T0)
        answer = wire.push_response(result)
        assert set(outcomes(answer).values()) == {"applied"}
        assert answer.high_water == MAX_PUSH_EVENTS

        # The push found the prepared statement: none prepared again, none added, and no
        # connection opened.
        assert sorted(map(sorted_items, await event_inserts(engine))) == sorted(
            map(sorted_items, before)
        )
        assert opened == []


async def test_opening_the_pool_writes_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert await open_pool(engine, SqlSync.prime) == engine.pool.size()  # type: ignore[attr-defined]
        async with engine.connect() as conn:
            events = (await conn.exec_driver_sql("SELECT count(*) FROM sync_event")).scalar()
        assert events == 0
        if engine.dialect.name == "postgresql":  # no id drawn from the events' sequence
            async with engine.connect() as conn:
                drawn = await conn.exec_driver_sql("SELECT is_called FROM sync_event_id_seq")
                assert drawn.scalar() is False
    finally:
        await engine.dispose()


async def in_database(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", "", 1), timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_a_server_short_of_connections_starts_with_what_it_opened(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The database gives fewer connections than the pool keeps (its role's limit here, as
    a server's max_connections would): start-up opens those, says so in one line, and the
    server serves; it does not refuse to start for a warm-up."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a connection limit is PostgreSQL's")
    role = f"warm_{uuid.uuid4().hex[:12]}"
    database = database_url.rsplit("/", 1)[1]
    await _pg_admin(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 3")
    await in_database(
        database_url,
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
    )
    limited = database_url.replace("://postgres@", f"://{role}@", 1)
    assert limited != database_url and database
    engine = make_engine(limited)
    try:
        with caplog.at_level(logging.WARNING, logger="stockcount.db"):
            assert await open_pool(engine, SqlSync.prime) == 3
        (line,) = [r.getMessage() for r in caplog.records if r.name == "stockcount.db"]
        assert line.startswith("opened 3 of the pool's 20 connections before start-up (")
        async with engine.connect() as conn:  # the three opened are there to serve
            assert (await conn.exec_driver_sql("SELECT count(*) FROM sync_event")).scalar() == 0
    finally:
        await engine.dispose()
        await in_database(
            database_url,
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        )
        await _pg_admin(f"DROP ROLE {role}")


async def test_a_database_out_of_reach_still_fails_start_up() -> None:
    """Warm-up hides nothing: with no database to reach at all, the first connection's
    error is raised as before."""
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises((OSError, DBAPIError)):
            await open_pool(engine, SqlSync.prime)
    finally:
        await engine.dispose()
