"""Fixtures shared by every test.

`database_url` runs a test once on SQLite and once on PostgreSQL, each time on a fresh
database migrated by the real migrations (copied from a per-session template, so it is
fast). With CI=true an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db import migrate
from server.settings import Settings

PG_ADMIN_URL = os.environ.get("STOCKCOUNT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgres"]


def pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def _pg_admin(*statements: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def pg_admin(*statements: str) -> None:
    asyncio.run(_pg_admin(*statements))


def _pg_reachable() -> str | None:
    try:
        pg_admin("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    problem = _pg_reachable()
    if problem is None:
        return True
    if IN_CI:
        pytest.fail(
            f"CI=true but PostgreSQL at {PG_ADMIN_URL} is unreachable ({problem}); start it with "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {problem}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_available: bool) -> Iterator[str]:
    name = f"sc_tmpl_{uuid.uuid4().hex[:10]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    migrate.upgrade(pg_url(name))
    yield name
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "stockcount.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"sc_t_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield pg_url(name)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: once on SQLite, once on PostgreSQL."""
    yield from fresh_database(request, request.param, tmp_path)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, log_level="WARNING")


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
