"""Migrations on both databases: up, down to nothing, up again; models and migrations agree;
the server refuses an unmigrated database; `stockcount migrate` works as a real process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from litestar.testing import AsyncTestClient
from sqlalchemy import Connection, inspect

from server.app import create_app
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import Base
from server.domain.errors import Conflict
from server.settings import Settings
from server.tables import metadata as _all_tables  # noqa: F401  (every feature on Base)
from tests.conftest import BACKENDS, pg_admin, pg_url

STOCKCOUNT = Path(sys.executable).parent / "stockcount"
MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    request.getfixturevalue("postgres_available")
    name = f"sc_mig_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _inspect_async(database_url: str) -> tuple[set[str], str | None]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables)
        return tables, await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def _inspect(database_url: str) -> tuple[set[str], str | None]:
    """Tables and revision. Sync, like `migrate.upgrade`, which runs its own event loop."""
    return asyncio.run(_inspect_async(database_url))


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    assert _inspect(empty_database_url) == (set(), None)

    migrate.upgrade(empty_database_url)
    tables, revision = _inspect(empty_database_url)
    assert tables - {"alembic_version"} == MODEL_TABLES
    assert revision == migrate.head_revision()

    migrate.downgrade(empty_database_url, "base")
    tables, revision = _inspect(empty_database_url)
    # Alembic keeps its own bookkeeping table (empty); every table of ours is gone.
    assert tables <= {"alembic_version"}
    assert revision is None

    migrate.upgrade(empty_database_url)
    tables, revision = _inspect(empty_database_url)
    assert tables - {"alembic_version"} == MODEL_TABLES
    assert revision == migrate.head_revision()


async def _compare(database_url: str) -> list[Any]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences)
    finally:
        await engine.dispose()


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    differences = asyncio.run(_compare(empty_database_url))
    assert differences == [], "models.py and the migrations differ: write a migration"


async def test_server_refuses_an_unmigrated_database(empty_database_url: str) -> None:
    message = str(await _start(empty_database_url))
    assert "no stockcount tables" in message
    assert f"expects revision {migrate.head_revision()}" in message
    assert "run `stockcount migrate` first" in message
    # Refusing must not have created anything.
    assert await _inspect_async(empty_database_url) == (set(), None)


async def test_server_refuses_a_database_moved_back_to_base(empty_database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_database_url)
    await asyncio.to_thread(migrate.downgrade, empty_database_url, "base")
    refusal = await _start(empty_database_url)
    assert "no stockcount tables" in str(refusal)
    assert "run `stockcount migrate` first" in str(refusal)


def _startup_refusal(raised: BaseException) -> Conflict | None:
    """The Conflict from the lifespan, out of the exception groups anyio wraps it in."""
    if isinstance(raised, Conflict):
        return raised
    if isinstance(raised, BaseExceptionGroup):
        for inner in raised.exceptions:
            found = _startup_refusal(inner)
            if found is not None:
                return found
    return None


async def _start(database_url: str) -> Conflict:
    app = create_app(Settings(database_url=database_url, log_level="CRITICAL"))
    try:
        async with AsyncTestClient(app=app):
            pass
    except BaseException as exc:
        refusal = _startup_refusal(exc)
        if refusal is None:
            raise AssertionError(f"startup failed with {exc!r}, not the migration check") from exc
        return refusal
    raise AssertionError("the server started on a database that is not at head")


def _run_cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STOCKCOUNT_DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run(
        [str(STOCKCOUNT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_stockcount_migrate_cli_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "sub" / "fresh.sqlite3"
    assert not database.exists()

    done = _run_cli("migrate", database=database)
    assert done.returncode == 0, done.stderr
    assert f"database at revision {migrate.head_revision()}" in done.stdout
    url = f"sqlite+aiosqlite:///{database}"
    tables, revision = _inspect(url)
    assert tables - {"alembic_version"} == MODEL_TABLES
    assert revision == migrate.head_revision()

    # Running it again is harmless.
    again = _run_cli("migrate", database=database)
    assert again.returncode == 0, again.stderr

    down = _run_cli("migrate", "--to", "base", database=database)
    assert down.returncode == 0, down.stderr
    assert f"moved from {migrate.head_revision()} to base" in down.stdout
    tables, revision = _inspect(url)
    assert tables <= {"alembic_version"} and revision is None


def test_stockcount_serve_cli_exits_nonzero_on_unmigrated_database(tmp_path: Path) -> None:
    database = tmp_path / "unmigrated.sqlite3"
    env = {
        **os.environ,
        "STOCKCOUNT_DATABASE_URL": f"sqlite:///{database}",
        "STOCKCOUNT_PORT": "1",  # never bound: startup fails before uvicorn listens
    }
    done = subprocess.run(
        [str(STOCKCOUNT), "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "run `stockcount migrate` first" in done.stderr
