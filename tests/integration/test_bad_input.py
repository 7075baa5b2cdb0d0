"""Bad input of every shape, on both databases: each is a 4xx problem+json that names the
problem, never a 500, and nothing in the database changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from server.app import create_app
from server.db.engine import make_engine
from server.db.tables import ApiToken, Device, EnrollmentCode, User
from server.settings import Settings
from tests.helpers import add_users, token
from tests.integration.test_auth_devices import _add_location

Client = AsyncTestClient[Litestar]
MAX_BODY = 4096
WATCHED = (User, ApiToken, EnrollmentCode, Device)
VALID_USER = {"username": "ann", "password": "long enough pw", "role": "counter"}
DEEP = b"[" * 1000 + b"]" * 1000
PAGED = ("/api/users", "/api/devices")
TOLERANCES = "/api/locations/MAIN/tolerances"


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    detail: str  # a fragment the problem's detail must contain
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    as_admin: bool = True


CASES = [
    # Broken JSON, wrong content
    Case("users-broken-json", "POST", "/api/users", 400, "not valid JSON", content=b"{not json"),
    Case("users-truncated", "POST", "/api/users", 400, "truncated", content=b'{"username": "a'),
    Case("users-empty-body", "POST", "/api/users", 400, "no body", content=b""),
    Case("users-array", "POST", "/api/users", 400, "Expected `object`, got `array`", json=[]),
    Case("users-null", "POST", "/api/users", 400, "got `null`", content=b"null"),
    Case(
        "users-not-utf8",
        "POST",
        "/api/users",
        400,
        "not valid JSON",
        content=b'{"username": "\xff\xfe"}',
    ),
    Case(
        "users-form-encoded",
        "POST",
        "/api/users",
        415,
        "the body is application/x-www-form-urlencoded: send Content-Type: application/json",
        content=b"username=ann&password=long+enough+pw&role=counter",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "users-xml",
        "POST",
        "/api/users",
        415,
        "the body is application/xml: send Content-Type: application/json",
        content=b"<user><username>ann</username></user>",
        headers={"content-type": "application/xml"},
    ),
    # Wrong types, missing fields, values out of their range
    Case(
        "users-wrong-type",
        "POST",
        "/api/users",
        400,
        "username: Expected `str`, got `int`",
        json={**VALID_USER, "username": 5},
    ),
    Case(
        "users-missing-field",
        "POST",
        "/api/users",
        400,
        "missing required field `password`",
        json={"username": "ann", "role": "counter"},
    ),
    Case(
        "users-bad-role",
        "POST",
        "/api/users",
        400,
        "role: Invalid enum value 'king'",
        json={**VALID_USER, "role": "king"},
    ),
    Case(
        "users-bad-username",
        "POST",
        "/api/users",
        400,
        "username",
        json={**VALID_USER, "username": "has spaces"},
    ),
    Case(
        "token-missing-field",
        "POST",
        "/api/auth/token",
        400,
        "missing required field `password`",
        json={"username": "admin"},
        as_admin=False,
    ),
    Case(
        "token-wrong-type",
        "POST",
        "/api/auth/token",
        400,
        "password: Expected `str`, got `array`",
        json={"username": "admin", "password": ["x"]},
        as_admin=False,
    ),
    Case(
        "token-broken-json",
        "POST",
        "/api/auth/token",
        400,
        "not valid JSON",
        content=b"{",
        as_admin=False,
    ),
    Case(
        "token-nul-in-username",
        "POST",
        "/api/auth/token",
        400,
        "username: text may not hold the NUL character",
        json={"username": "ad\u0000min", "password": "correct horse battery"},
        as_admin=False,
    ),
    Case(
        "users-nul-in-password",
        "POST",
        "/api/users",
        400,
        "password: text may not hold the NUL character",
        json={**VALID_USER, "password": "long enough\u0000pw"},
    ),
    # Nesting deeper than any decoder goes (a RecursionError once), before any login too
    Case("token-deep-array", "POST", "/api/auth/token", 400, "", content=DEEP, as_admin=False),
    Case(
        "token-deep-unknown-field",
        "POST",
        "/api/auth/token",
        400,
        "nested too deeply",
        content=b'{"username": "a", "password": "b", "x": ' + DEEP + b"}",
        as_admin=False,
    ),
    Case(
        "enroll-deep-unknown-field",
        "POST",
        "/api/devices/enroll",
        400,
        "nested too deeply",
        content=b'{"code": "ABCDE", "name": "HH", "x": ' + DEEP + b"}",
        as_admin=False,
    ),
    Case("counts-deep-anonymous", "POST", "/api/counts", 401, "", content=DEEP, as_admin=False),
    Case(
        "counts-deep",
        "POST",
        "/api/counts",
        400,
        "nested too deeply",
        content=b'{"x": ' + DEEP + b"}",
    ),
    Case("imports-deep", "POST", "/api/imports", 422, "nothing was imported", content=DEEP),
    # Booleans are true or false, not 0 or 1
    Case(
        "counts-blind-one",
        "POST",
        "/api/counts",
        400,
        "blind: Expected `bool`, got `int`",
        json={"location": "MAIN", "scope": "all", "blind": 1},
    ),
    # Decimals past what the columns hold, or past exact arithmetic
    *(
        Case(
            f"tolerance-{name}",
            "PUT",
            "/api/locations/MAIN/tolerances",
            400,
            f"{field}: {value.upper().replace('E', 'E+')} is too large",
            json={field: value},
        )
        for name, field, value in (
            ("1e30", "quantity", "1e30"),
            ("1e400", "percent", "1e400"),
            ("25-digits", "value", "1" * 25),
        )
    ),
    Case(
        "tolerance-25-places",
        "PUT",
        "/api/locations/MAIN/tolerances",
        400,
        "quantity: 0.1234567890123456789012345678901 is too large",
        json={"quantity": "0.1234567890123456789012345678901"},
    ),
    Case(
        "tolerance-nan",
        "PUT",
        "/api/locations/MAIN/tolerances",
        400,
        "quantity: must be a finite number, not NaN",
        json={"quantity": "NaN"},
    ),
    # A decimal is a string ("2.5"), as the schema says: a JSON number is refused, even 0 or 1
    *(
        Case(
            f"decimal-as-number-{name}",
            method,
            path,
            400,
            f'{where}: a decimal is sent as a string ("14", "2.5"), not as a number',
            json=body,
        )
        for name, method, path, where, body in (
            ("tolerance-int", "PUT", TOLERANCES, "quantity", {"quantity": 5}),
            ("tolerance-float", "PUT", TOLERANCES, "percent", {"percent": 2.5}),
            ("tolerance-zero", "PUT", TOLERANCES, "value", {"value": 0}),
            ("tolerance-one", "PUT", TOLERANCES, "value", {"value": 1}),
            (
                "opening-stock",
                "POST",
                "/api/opening-stock",
                "quantity",
                {"item": "I", "location": "MAIN", "bin": "A", "quantity": 14, "unit_cost": "1"},
            ),
            (
                "journal-line",
                "POST",
                "/api/journal/transactions",
                "lines[0].quantity",
                {
                    "effective_date": "2025-03-14",
                    "transaction_type": "adjustment",
                    "lines": [
                        {
                            "line_no": 1,
                            "item": "I",
                            "quantity": 1e3,
                            "unit_cost": "1",
                            "from_side": {},
                            "to_side": {},
                        }
                    ],
                },
            ),
        )
    ),
    Case(
        "decimal-as-number-escaped-key",
        "PUT",
        TOLERANCES,
        400,
        'quantity: a decimal is sent as a string ("14", "2.5"), not as a number',
        content=b'{"quantit\\u0079" : 5}',
    ),
    # A JSON body under a MessagePack Content-Type: only the sync routes speak MessagePack
    Case(
        "users-json-as-msgpack",
        "POST",
        "/api/users",
        415,
        "the body is application/x-msgpack: send Content-Type: application/json",
        content=json.dumps(VALID_USER).encode(),
        headers={"content-type": "application/x-msgpack"},
    ),
    Case(
        "codes-ttl-zero",
        "POST",
        "/api/enrollment-codes",
        400,
        "ttl_minutes: Expected `int` >= 1",
        json={"location": "MAIN", "ttl_minutes": 0},
    ),
    Case(
        "codes-ttl-text",
        "POST",
        "/api/enrollment-codes",
        400,
        "ttl_minutes: Expected `int | null`, got `str`",
        json={"location": "MAIN", "ttl_minutes": "ten"},
    ),
    Case(
        "codes-empty-location",
        "POST",
        "/api/enrollment-codes",
        400,
        "location: Expected `str` of length >= 1",
        json={"location": ""},
    ),
    Case(
        "codes-unknown-location",
        "POST",
        "/api/enrollment-codes",
        404,
        "location 'NOPE' does not exist",
        json={"location": "NOPE"},
    ),
    Case(
        "enroll-missing-name",
        "POST",
        "/api/devices/enroll",
        400,
        "missing required field `name`",
        json={"code": "ABCDE"},
        as_admin=False,
    ),
    Case(
        "enroll-wrong-type",
        "POST",
        "/api/devices/enroll",
        400,
        "protocol_version: Expected `int`, got `str`",
        json={"code": "ABCDE", "name": "HH", "protocol_version": "one"},
        as_admin=False,
    ),
    Case(
        "enroll-unknown-code",
        "POST",
        "/api/devices/enroll",
        401,
        "already used or expired",
        json={"code": "ABCDEFGH", "name": "HH"},
        as_admin=False,
    ),
    # Bodies over the limit (Settings.max_body_bytes)
    Case(
        "users-huge-body",
        "POST",
        "/api/users",
        413,
        f"larger than this server accepts ({MAX_BODY} bytes",
        json={**VALID_USER, "password": "x" * (MAX_BODY * 2)},
    ),
    Case(
        "token-huge-body",
        "POST",
        "/api/auth/token",
        413,
        "larger than this server accepts",
        content=b'{"username": "admin", "password": "x"}' + b" " * (MAX_BODY * 4),
        as_admin=False,
    ),
    # Unknown paths, wrong methods
    Case("unknown-path", "GET", "/api/nope", 404, "no such resource: GET /api/nope"),
    Case("unknown-path-anonymous", "GET", "/api/nope", 404, "no such resource", as_admin=False),
    Case("wrong-method-users", "DELETE", "/api/users", 405, "DELETE is not allowed on /api/users"),
    Case("wrong-method-token", "GET", "/api/auth/token", 405, "GET is not allowed", as_admin=False),
    Case("wrong-method-enroll", "PUT", "/api/devices/enroll", 405, "PUT is not allowed"),
    Case("device-id-not-a-number", "GET", "/api/devices/abc", 404, "no such resource"),
    Case(
        "device-id-past-64-bits",
        "GET",
        "/api/devices/99999999999999999999999",
        400,
        "too large (at most 64 bits)",
    ),
    Case(
        "revoke-id-past-64-bits",
        "POST",
        "/api/devices/99999999999999999999999/revoke",
        400,
        "too large",
    ),
    # Absurd query parameters
    Case("limit-zero", "GET", "/api/users?limit=0", 422, "limit must be between 1 and 1000"),
    Case("limit-negative", "GET", "/api/devices?limit=-5", 422, "limit must be between 1"),
    Case("limit-huge", "GET", "/api/users?limit=10000000000000000000000", 422, "limit must"),
    Case("limit-text", "GET", "/api/users?limit=abc", 400, "limit: Expected `int`, got `str`"),
    Case("cursor-text", "GET", "/api/users?cursor=xyz", 422, "cursor 'xyz' is not one"),
    Case("cursor-huge", "GET", "/api/devices?cursor=" + "9" * 30, 422, "is not one this server"),
    Case("location-unknown", "GET", "/api/devices?location=NOPE", 404, "location 'NOPE'"),
    Case("format-unknown", "GET", "/api/inventory-history?format=xml", 422, "csv or json"),
    Case("format-upper", "GET", "/api/inventory-history?format=CSV", 422, "not 'CSV'"),
    Case("location-nul", "GET", "/api/devices?location=%00", 400, "NUL character"),
    # A cursor is opaque: a superscript or Arabic-Indic digit is not one
    *(
        Case(f"cursor-{digit}-{path}", "GET", f"{path}?cursor={digit}", 422, "is not one")
        for path in PAGED
        for digit in ("%C2%B2", "%D9%A1")
    ),
]


async def _counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                model.__tablename__: int(
                    await conn.scalar(select(func.count()).select_from(model)) or 0
                )
                for model in WATCHED
            }
    finally:
        await engine.dispose()


@pytest.fixture
async def small_client(database_url: str) -> AsyncIterator[Client]:
    await add_users(database_url)
    await _add_location(database_url)
    settings = Settings(database_url=database_url, log_level="CRITICAL", max_body_bytes=MAX_BODY)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def assert_problem(response: Any, status: int, detail: str) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status != -1:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = json.loads(response.content)
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["status"] == response.status_code
    assert problem["type"].startswith("/problems/") and problem["title"]
    assert problem["detail"] and detail in problem["detail"], problem
    return problem


async def test_bad_input_is_a_named_4xx_problem_and_changes_nothing(
    small_client: Client, database_url: str
) -> None:
    # One database for all cases (each needs users, a login, a count): checked one by one,
    # every failing case reported by its id.
    admin = await token(small_client, "admin")
    failures: list[str] = []
    for case in CASES:
        headers = dict(case.headers)
        if case.as_admin:
            headers.update(admin)
        if case.content is not None:
            headers.setdefault("content-type", "application/json")
        before = await _counts(database_url)

        response = await small_client.request(
            case.method, case.path, json=case.json, content=case.content, headers=headers
        )

        try:
            assert_problem(response, case.status, case.detail)
            assert await _counts(database_url) == before, "rows changed"
        except AssertionError as exc:
            failures.append(f"{case.id}: {exc}")
    assert failures == [], "\n".join(failures)


async def test_first_error_is_named_and_all_are_listed(small_client: Client) -> None:
    admin = await token(small_client, "admin")
    r = await small_client.post(
        "/api/users", json={"username": 1, "password": 2, "role": "counter"}, headers=admin
    )
    problem = assert_problem(r, 400, "Expected `str`, got `int`")
    assert problem["code"] == "bad-request"
    assert problem["errors"][0]["location"] in {"username", "password"}


async def test_the_same_valid_request_still_works(small_client: Client, database_url: str) -> None:
    """The cases above fail because of what is wrong with them, not for another reason."""
    admin = await token(small_client, "admin")
    before = await _counts(database_url)
    created = await small_client.post("/api/users", json=VALID_USER, headers=admin)
    assert created.status_code == 201, created.text
    code = await small_client.post(
        "/api/enrollment-codes", json={"location": "MAIN"}, headers=admin
    )
    assert code.status_code == 201
    listed = await small_client.get("/api/users?limit=1", headers=admin)
    assert listed.status_code == 200 and listed.json()["next_cursor"] is not None
    after = await _counts(database_url)
    assert after["app_user"] == before["app_user"] + 1
    assert after["enrollment_code"] == before["enrollment_code"] + 1


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_body_in_an_unspoken_media_type_is_415_and_changes_nothing(
    client: AsyncTestClient[Litestar], database_url: str, content_type: str | None
) -> None:
    await add_users(database_url)
    headers = await token(client, "admin")
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = json.dumps({"username": "zed", "password": "long enough pw", "role": "counter"})
    r = await client.post("/api/users", content=body.encode(), headers=headers)
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "send Content-Type: application/json" in r.json()["detail"]
    listed = await client.get("/api/users", headers=await token(client, "admin"))
    assert "zed" not in {u["username"] for u in listed.json()["items"]}
