"""Users, tokens, roles, enrollment and revocation through the HTTP API, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from server.db.engine import make_engine
from server.db.tables import ApiToken, Company, Device, EnrollmentCode, Location, User
from tests.helpers import add_users, enroll, enrollment_code, token

Client = AsyncTestClient[Litestar]


async def _add_location(database_url: str, code: str = "MAIN") -> None:
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        company = (
            await conn.execute(
                Company.__table__.insert().values(code="C1", name="Co", intercompany=False)
            )
        ).inserted_primary_key
        assert company is not None
        await conn.execute(
            Location.__table__.insert().values(code=code, name="Main", company_id=company[0])
        )
    await engine.dispose()


async def _count(database_url: str, model: type) -> int:
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        value = await conn.scalar(select(func.count()).select_from(model))
    await engine.dispose()
    return int(value or 0)


@pytest.fixture
async def users(database_url: str) -> None:
    await add_users(database_url)
    await _add_location(database_url)


async def test_login_gives_a_token_that_authenticates(client: Client, users: None) -> None:
    headers = await token(client, "super")
    me = await client.get("/api/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {"kind": "user", "name": "super", "role": "supervisor"}


async def test_wrong_password_is_401_problem(client: Client, users: None) -> None:
    r = await client.post("/api/auth/token", json={"username": "super", "password": "nope-nope"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "unauthenticated"
    assert r.json()["detail"] == "wrong username or password"


async def test_missing_and_bad_tokens_are_401_wrong_role_is_403(
    client: Client, users: None
) -> None:
    assert (await client.get("/api/users")).status_code == 401
    bad = await client.get("/api/users", headers={"Authorization": "Bearer sct_u_forged"})
    assert bad.status_code == 401
    basic = await client.get("/api/users", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    counter = await client.get("/api/users", headers=await token(client, "counter"))
    assert counter.status_code == 403
    assert counter.json()["code"] == "forbidden"
    admin = await client.get("/api/users", headers=await token(client, "admin"))
    assert admin.status_code == 200
    assert {u["username"] for u in admin.json()["items"]} == {"admin", "super", "counter"}


async def test_unauthenticated_broken_body_is_401_not_400(client: Client, users: None) -> None:
    r = await client.post("/api/users", content=b"{not json")
    assert r.status_code == 401


async def test_admin_creates_user_and_duplicate_is_409(client: Client, users: None) -> None:
    admin = await token(client, "admin")
    body = {"username": "ann", "password": "long enough pw", "role": "counter"}
    assert (await client.post("/api/users", json=body, headers=admin)).status_code == 201
    dup = await client.post("/api/users", json=body, headers=admin)
    assert dup.status_code == 409
    short = await client.post(
        "/api/users", json={**body, "username": "bob", "password": "short"}, headers=admin
    )
    assert short.status_code == 400
    assert short.json()["errors"][0]["location"] == "password"


async def test_enrollment_code_works_once_and_credential_is_stored_hashed(
    client: Client, users: None, database_url: str
) -> None:
    admin = await token(client, "admin")
    code = await enrollment_code(client, admin)
    # Typed by a person: lower case with a dash still works.
    typed = code[:5].lower() + "-" + code[5:]
    first = await client.post("/api/devices/enroll", json={"code": typed, "name": "HH-01"})
    assert first.status_code == 201
    credential = first.json()["credential"]
    again = await client.post("/api/devices/enroll", json={"code": code, "name": "HH-02"})
    assert again.status_code == 401
    assert "already used or expired" in again.json()["detail"]
    assert await _count(database_url, Device) == 1
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(Device.credential_hash))).scalar_one()
        code_hashes = (await conn.execute(select(EnrollmentCode.code_hash))).scalars().all()
    await engine.dispose()
    assert credential not in stored and len(stored) == 64
    assert code not in code_hashes
    me = await client.get("/api/devices/me", headers={"Authorization": f"Bearer {credential}"})
    assert me.status_code == 200
    assert me.json()["location"] == "MAIN" and me.json()["last_seen_at"] is not None


async def test_expired_code_is_refused(client: Client, users: None, database_url: str) -> None:
    admin = await token(client, "admin")
    code = await enrollment_code(client, admin)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            EnrollmentCode.__table__.update().values(expires_at=EnrollmentCode.created_at)
        )
    await engine.dispose()
    r = await client.post("/api/devices/enroll", json={"code": code, "name": "HH"})
    assert r.status_code == 401
    assert await _count(database_url, Device) == 0


async def test_racing_enrollments_with_one_code_make_one_device(
    client: Client, users: None, database_url: str
) -> None:
    admin = await token(client, "admin")
    code = await enrollment_code(client, admin)
    results = await asyncio.gather(
        *[
            client.post("/api/devices/enroll", json={"code": code, "name": f"HH-{i}"})
            for i in range(5)
        ]
    )
    assert sorted(r.status_code for r in results) == [201, 401, 401, 401, 401]
    assert await _count(database_url, Device) == 1


async def test_revoked_device_is_refused_everywhere(client: Client, users: None) -> None:
    admin = await token(client, "admin")
    enrolled = await enroll(client, admin)
    device = enrolled.headers
    assert (await client.get("/api/devices/me", headers=device)).status_code == 200
    # A device may not call user endpoints, nor a user the device's.
    assert (await client.get("/api/users", headers=device)).status_code == 403
    assert (await client.get("/api/devices/me", headers=admin)).status_code == 403
    counter = await token(client, "counter")
    revoke_path = f"/api/devices/{enrolled.id}/revoke"
    assert (await client.post(revoke_path, headers=counter)).status_code == 403
    revoked = await client.post(revoke_path, headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    for path in ("/api/devices/me", "/api/me"):
        r = await client.get(path, headers=device)
        assert r.status_code == 401
        assert "revoked" in r.json()["detail"]
    listed = await client.get("/api/devices", headers=await token(client, "super"))
    assert [d["status"] for d in listed.json()["items"]] == ["revoked"]


async def test_device_revoked_by_another_process_is_refused_at_its_next_request(
    client: Client, users: None, database_url: str
) -> None:
    """The credential is looked up on every request, never cached in the process: a
    revocation written by another process (here: its own engine and connection) is seen
    at the device's very next request, even after many requests on pooled connections."""
    admin = await token(client, "admin")
    enrolled = await enroll(client, admin)
    device = enrolled.headers
    answers = await asyncio.gather(
        *[client.get("/api/devices/me", headers=device) for _ in range(25)]
    )
    assert {r.status_code for r in answers} == {200}
    other = make_engine(database_url)
    async with other.begin() as conn:
        await conn.execute(update(Device).where(Device.id == enrolled.id).values(status="revoked"))
    await other.dispose()
    r = await client.get("/api/devices/me", headers=device)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    pulled = await client.post("/api/sync/pull", json={"protocol_version": 1}, headers=device)
    assert pulled.status_code == 401


async def test_enrollment_code_for_unknown_location_is_404(client: Client, users: None) -> None:
    admin = await token(client, "admin")
    r = await client.post("/api/enrollment-codes", json={"location": "NOPE"}, headers=admin)
    assert r.status_code == 404
    assert r.json()["detail"] == "location 'NOPE' does not exist"


async def test_old_protocol_device_gets_upgrade_message(client: Client, users: None) -> None:
    r = await client.post(
        "/api/devices/enroll", json={"code": "X", "name": "HH", "protocol_version": 99}
    )
    assert r.status_code == 409
    assert "update the handheld app" in r.json()["detail"]


async def test_expired_token_and_deactivated_user_are_401(
    client: Client, users: None, database_url: str
) -> None:
    headers = await token(client, "super")
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(ApiToken.__table__.update().values(expires_at=ApiToken.created_at))
    r = await client.get("/api/me", headers=headers)
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]
    fresh = await token(client, "counter")
    async with engine.begin() as conn:
        await conn.execute(
            User.__table__.update().where(User.username == "counter").values(active=False)
        )
    await engine.dispose()
    assert (await client.get("/api/me", headers=fresh)).status_code == 401
    login = await client.post(
        "/api/auth/token", json={"username": "counter", "password": "correct horse battery"}
    )
    assert login.status_code == 401
