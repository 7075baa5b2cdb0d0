"""Writers racing for the same records: one wins, the others get a problem, never a 500."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from server.db.engine import make_engine
from server.db.tables import Bin
from tests.helpers import add_users, token

BASE = {
    "companies": [{"code": "ACME", "name": "Acme"}],
    "locations": [{"code": "MAIN", "name": "Main", "company": "ACME"}],
}
BINS = {"bins": [{"location": "MAIN", "label": f"R-{i:04d}"} for i in range(300)]}


async def _bins(database_url: str) -> int:
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        value = await conn.scalar(select(func.count()).select_from(Bin))
    await engine.dispose()
    return int(value or 0)


async def test_racing_imports_of_the_same_records_store_them_once(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    await add_users(database_url)
    admin = await token(client, "admin")
    assert (await client.post("/api/imports", json=BASE, headers=admin)).status_code == 200
    answers = await asyncio.gather(
        *[client.post("/api/imports", json=BINS, headers=admin) for _ in range(4)]
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 1, [r.text for r in answers]
    for r in answers:
        if r.status_code != 200:
            assert r.status_code in (409, 503), r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "nothing" in r.json()["detail"]
    assert await _bins(database_url) == 300
