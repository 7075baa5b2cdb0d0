"""Fixtures shared by every test.

`database_url` runs a test once on SQLite and once on PostgreSQL, each time on a fresh
database migrated by the real migrations (copied from a per-session template, so it is
fast). With CI=true an unreachable PostgreSQL fails the run instead of skipping.

Argon2 is the slowest thing most tests do (each hash or verification of a password costs
0.1 to 1 s here, by design): `_remembered_argon2` makes each distinct one cost it once per
session, with the server's own parameters. A test's PostgreSQL database is dropped by a
background thread while the next tests run (`_drops`), and the session waits for every drop.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import asyncpg
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import passwords
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


class _Dropper:
    """Drops the tests' PostgreSQL databases on a thread of its own, in order; `finish`
    waits for all of them and lists the drops that failed."""

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._failures: list[str] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def drop(self, name: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="drop-test-dbs", daemon=True)
                self._thread.start()
        self._names.put(name)

    def _run(self) -> None:
        while (name := self._names.get()) is not None:
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # reported by finish(), at the end of the session
                self._failures.append(f"{name}: {type(exc).__name__}: {exc}")

    def finish(self) -> list[str]:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._names.put(None)
            thread.join()
        return self._failures


_drops = _Dropper()


@pytest.fixture(scope="session", autouse=True)
def _dropped_at_the_end() -> Iterator[None]:
    """Every test database is gone when the session ends; a drop that failed fails it."""
    yield
    failures = _drops.finish()
    if failures:
        pytest.fail("test databases not dropped:\n" + "\n".join(failures), pytrace=False)


def _pg_reachable() -> str | None:
    try:
        pg_admin("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class RememberingHasher(PasswordHasher):
    """The server's Argon2id hasher, same parameters, remembering what it worked out.

    `verify` is a pure function of (hash, password): its answer, a match or a mismatch, is
    remembered. `hash` (with no salt given) gives the same real hash, with one random salt,
    every time it is asked for the same password: tests hash few distinct passwords many
    times (three users a test), and only the salt differs between such hashes.
    """

    def __init__(self, real: PasswordHasher) -> None:
        super().__init__(
            time_cost=real.time_cost,
            memory_cost=real.memory_cost,
            parallelism=real.parallelism,
            hash_len=real.hash_len,
            salt_len=real.salt_len,
            encoding=real.encoding,
            type=real.type,
        )
        self._hashes: dict[str | bytes, str] = {}
        self._verified: dict[tuple[str | bytes, str | bytes], bool] = {}

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if salt is not None:
            return super().hash(password, salt=salt)
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        key = (hash, password)
        if key not in self._verified:
            try:
                super().verify(hash, password)
            except VerifyMismatchError:
                self._verified[key] = False
            else:
                self._verified[key] = True
        if not self._verified[key]:
            raise VerifyMismatchError("The password does not match the supplied hash")
        return True


@pytest.fixture(scope="session", autouse=True)
def _remembered_argon2() -> Iterator[None]:
    """The in-process server's password hasher remembers (servers in processes of their own,
    tests/e2e and tests/web, keep the plain one)."""
    real = passwords._hasher
    passwords._hasher = RememberingHasher(real)
    try:
        yield
    finally:
        passwords._hasher = real


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
        _drops.drop(name)


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
