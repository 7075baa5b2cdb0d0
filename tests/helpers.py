"""Small helpers for tests: users of each role and their tokens, an enrolled device, one
value read from the database, SQL run by hand, and an engine on imported master data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import Executable, text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.auth import usecases as auth
from server.bootstrap import import_into_database, open_runtime
from server.db.engine import make_engine, make_sessionmaker
from server.domain.masterdata import Role
from server.uow import SqlUnitOfWork

PASSWORD = "correct horse battery"
USERS = {"admin": Role.ADMIN, "super": Role.SUPERVISOR, "counter": Role.COUNTER}


async def add_users(database_url: str) -> None:
    async with open_runtime(database_url) as runtime:
        for name, role in USERS.items():
            await auth.create_user(runtime.uow(), name, PASSWORD, role, datetime.now(UTC))


async def token(client: AsyncTestClient[Litestar], username: str) -> dict[str, str]:
    response = await client.post(
        "/api/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@dataclass(frozen=True, slots=True)
class EnrolledDevice:
    id: int
    headers: dict[str, str]  # carrying its credential


async def enrollment_code(
    client: AsyncTestClient[Litestar], admin: dict[str, str], location: str = "MAIN"
) -> str:
    code = await client.post("/api/enrollment-codes", json={"location": location}, headers=admin)
    assert code.status_code == 201, code.text
    return str(code.json()["code"])


async def enroll(
    client: AsyncTestClient[Litestar],
    admin: dict[str, str],
    name: str = "HH-01",
    location: str = "MAIN",
) -> EnrolledDevice:
    """A device of `location`, enrolled as an operator does it: an enrollment code, then
    the device's enroll request with it."""
    code = await enrollment_code(client, admin, location)
    enrolled = await client.post("/api/devices/enroll", json={"code": code, "name": name})
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    return EnrolledDevice(int(body["device_id"]), {"Authorization": f"Bearer {body['credential']}"})


async def scalar(database: str | AsyncEngine, query: str | Executable, **params: Any) -> Any:
    """The first value `query` (SQL text, or a statement) reads, straight from the database:
    a URL (an engine of its own, disposed after) or the test's engine."""
    engine = make_engine(database) if isinstance(database, str) else database
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(text(query) if isinstance(query, str) else query, params)
    finally:
        if isinstance(database, str):
            await engine.dispose()


async def execute(database_url: str, sql: str) -> None:
    """SQL run in a transaction of its own by an engine of its own (another process, a
    person at a prompt), disposed after."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@asynccontextmanager
async def clerk_engine(
    database_url: str, master_data: dict[str, list[dict[str, Any]]], now: datetime
) -> AsyncIterator[AsyncEngine]:
    """An engine on `database_url` after `master_data` is imported and the admin user
    "clerk" (password "clerk-password", id 1) made; disposed after."""
    await import_into_database(database_url, [("test.json", master_data, None)])
    engine = make_engine(database_url)
    await auth.create_user(
        SqlUnitOfWork(make_sessionmaker(engine)), "clerk", "clerk-password", Role.ADMIN, now
    )
    try:
        yield engine
    finally:
        await engine.dispose()
