"""Small helpers for API tests: users of each role and their tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth import usecases as auth
from server.db.engine import make_engine, make_sessionmaker
from server.domain.masterdata import Role
from server.uow import SqlUnitOfWork

PASSWORD = "correct horse battery"
USERS = {"admin": Role.ADMIN, "super": Role.SUPERVISOR, "counter": Role.COUNTER}


async def add_users(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        for name, role in USERS.items():
            await auth.create_user(uow, name, PASSWORD, role, datetime.now(UTC))
    finally:
        await engine.dispose()


async def token(client: AsyncTestClient[Litestar], username: str) -> dict[str, str]:
    response = await client.post(
        "/api/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
