"""A small warehouse for stock count tests, loaded through the importer, and API helpers.

Location MAIN (GL entity E1): bins A-01, A-02, A-03 (the count's scope by prefix "A-"),
B-01 (outside the scope), OUT-1 (an OUT bin). Items: SER (serial, last cost 10), AUTO
(auto-serialized, last cost 7), BOLT (untracked), LOTI (lot). Serials: S1 (100) and S2
(110) in A-01, S3 (120) in A-02, S4 (90) in OUT-1, S5 (130) in B-01. Opening stock:
10 BOLT in A-01 at 2.5, 5 LOTI lot L1 in A-02 at 4. Inventory group G: accounts 1400
(inventory) and 5100 (adjustment). Reason codes DAMAGED, LOST, MISCOUNT, MISPLACED, FOUND
and the inactive OLD.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from server.auth import usecases as auth
from server.db.engine import make_engine, make_sessionmaker
from server.domain.masterdata import Role
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source
from server.uow import SqlUnitOfWork
from tests.helpers import PASSWORD, add_users, token

Client = AsyncTestClient[Litestar]

WAREHOUSE: dict[str, list[dict[str, Any]]] = {
    "companies": [{"code": "C1", "name": "Company"}],
    "gl_accounts": [
        {"code": "1400", "name": "Inventory"},
        {"code": "5100", "name": "Inventory adjustment"},
    ],
    "gl_entities": [{"code": "E1", "name": "Entity", "company": "C1"}],
    "inventory_groups": [
        {"code": "G", "name": "Group", "inventory_account": "1400", "adjustment_account": "5100"}
    ],
    "locations": [{"code": "MAIN", "name": "Main", "company": "C1", "gl_entity": "E1"}],
    "bins": [
        {"location": "MAIN", "label": label, "kind": kind}
        for label, kind in (
            ("A-01", "stock"),
            ("A-02", "stock"),
            ("A-03", "stock"),
            ("B-01", "stock"),
            ("OUT-1", "out"),
        )
    ],
    "items": [
        {
            "code": "SER",
            "name": "Serial item",
            "tracking": "serial",
            "last_cost": "10",
            "inventory_group": "G",
        },
        {
            "code": "AUTO",
            "name": "Auto serial",
            "tracking": "serial",
            "auto_serialized": True,
            "last_cost": "7",
            "inventory_group": "G",
        },
        {"code": "BOLT", "name": "Bolt", "tracking": "none", "inventory_group": "G"},
        {"code": "LOTI", "name": "Lot item", "tracking": "lot", "inventory_group": "G"},
    ],
    "serials": [
        {"item": "SER", "serial_number": s, "location": "MAIN", "bin": b, "actual_cost": c}
        for s, b, c in (
            ("S1", "A-01", "100"),
            ("S2", "A-01", "110"),
            ("S3", "A-02", "120"),
            ("S4", "OUT-1", "90"),
            ("S5", "B-01", "130"),
        )
    ],
    "opening_stock": [
        {"item": "BOLT", "location": "MAIN", "bin": "A-01", "quantity": "10", "unit_cost": "2.5"},
        {
            "item": "LOTI",
            "location": "MAIN",
            "bin": "A-02",
            "quantity": "5",
            "unit_cost": "4",
            "lot": "L1",
        },
    ],
}
# The reason codes approvals need (kinds empty: every kind); OLD is retired.
WAREHOUSE["reason_codes"] = [
    {"code": "DAMAGED", "description": "Damaged", "kinds": ["missing", "quantity_variance"]},
    {"code": "LOST", "description": "Lost", "kinds": ["missing"]},
    {"code": "MISCOUNT", "description": "Miscounted before", "kinds": []},
    {"code": "MISPLACED", "description": "In another bin", "kinds": ["serial_transfer_proposal"]},
    {"code": "FOUND", "description": "Found", "kinds": ["unknown", "generated"]},
    {"code": "OLD", "description": "Retired", "kinds": [], "active": False},
]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


async def seed(database_url: str) -> None:
    """The users of tests.helpers, a second supervisor, and the warehouse."""
    await add_users(database_url)
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        await auth.create_user(uow, "super2", PASSWORD, Role.SUPERVISOR, datetime.now(UTC))
        await import_sources(uow, [Source("warehouse", WAREHOUSE)])
    finally:
        await engine.dispose()


async def headers(client: Client) -> dict[str, dict[str, str]]:
    return {name: await token(client, name) for name in ("admin", "super", "super2", "counter")}


async def create_count(client: Client, h: dict[str, str], **body: Any) -> str:
    payload = {"location": "MAIN", "scope": "prefix", "prefix": "A-", **body}
    response = await client.post("/api/counts", json=payload, headers=h)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


async def start(client: Client, h: dict[str, str], number: str) -> dict[str, Any]:
    response = await client.post(f"/api/counts/{number}/start", headers=h)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def bin_count(
    client: Client,
    h: dict[str, str],
    number: str,
    label: str,
    serials: list[tuple[str, str]] = (),  # type: ignore[assignment]
    quantities: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    *,
    at: int = 0,
    minutes: int = 5,
    expect: int = 201,
    started: datetime | None = None,
) -> dict[str, Any]:
    """A bin count that starts `at` minutes after T0, or at `started` (a recount must
    start after the recount order, which is made at the server's now)."""
    started = started or T0 + timedelta(minutes=at)
    body = {
        "bin": label,
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=minutes)).isoformat(),
        "serials": [{"item": i, "serial": s} for i, s in serials],
        "quantities": [{"item": i, "lot": lot, "quantity": q} for i, lot, q in quantities],
    }
    response = await client.post(f"/api/counts/{number}/bin-counts", json=body, headers=h)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def lines(
    client: Client, h: dict[str, str], number: str, **filters: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/counts/{number}/reconciliation", params={"limit": 1000, **filters}, headers=h
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["lines"]
    return found


async def generous_tolerances(client: Client, h: dict[str, str]) -> None:
    response = await client.put(
        "/api/locations/MAIN/tolerances", json={"quantity": "100", "value": "10000"}, headers=h
    )
    assert response.status_code == 200, response.text


async def count_the_scenario(client: Client, h: dict[str, str], counter: dict[str, str]) -> str:
    """A-01: S1 found, S2 missing, S3 found (from A-02), S9 unknown, S4 (released) found,
    8 BOLT (2 short). A-02: 6 LOTI L1 (1 over), 2 AUTO without serials, S5 found (from B-01,
    outside the scope). A-03 not counted."""
    number = await create_count(client, h)
    await start(client, h, number)
    await bin_count(
        client, counter, number, "A-01",
        [("SER", "S1"), ("SER", "S3"), ("SER", "S9"), ("SER", "S4")],
        [("BOLT", "", "8")],
    )  # fmt: skip
    await bin_count(
        client, counter, number, "A-02", [("SER", "S5")], [("LOTI", "L1", "6"), ("AUTO", "", "2")],
        at=10,
    )  # fmt: skip
    return number


async def rows(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql), params)]
    finally:
        await engine.dispose()
