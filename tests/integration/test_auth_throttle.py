"""Throttled logins, enrollment codes and device credentials; token expiry and revocation.
On both databases; the throttle's state is in the database, so two apps (two engines, as
two server processes) on one database refuse alike."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.domain.errors import NotAuthenticated, TooManyAttempts
from server.domain.throttle import USER_POLICY
from server.settings import Settings
from tests.helpers import PASSWORD, add_users, enroll, enrollment_code, token
from tests.integration.test_auth_devices import _add_location

Client = AsyncTestClient[Litestar]
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _wrong(client: Client, username: str = "super") -> int:
    r = await client.post("/api/auth/token", json={"username": username, "password": "wrong!"})
    return r.status_code


async def test_failed_logins_of_a_user_are_refused_with_429_and_retry_after_in_every_process(
    database_url: str, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await add_users(database_url)
    caplog.set_level(logging.INFO, logger="stockcount.auth")
    # a second process on the same database (its own engine), started before the failures:
    # the wait they start is 2 s, which a loaded machine's app start-up could outlast
    other = create_app(Settings(database_url=database_url, log_level="WARNING"))
    async with AsyncTestClient(app=other) as second:
        # the free failures, then the one that starts the wait: all 401
        assert [await _wrong(client) for _ in range(USER_POLICY.free + 1)] == [401] * 6
        refused = await client.post(
            "/api/auth/token", json={"username": "super", "password": PASSWORD}
        )
        # the second process refuses too
        again = await second.post(
            "/api/auth/token", json={"username": "super", "password": PASSWORD}
        )
        assert again.status_code == 429, again.text
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "too-many-attempts"
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert "too many failed logins" in refused.json()["detail"]
    assert any("throttled login" in r.getMessage() for r in caplog.records)
    assert not any(PASSWORD in r.getMessage() or "wrong!" in r.getMessage() for r in caplog.records)
    # another user from the same address is not held up by super's failures
    assert (await token(client, "admin"))["Authorization"].startswith("Bearer ")


async def test_the_waits_grow_and_a_success_after_the_wait_clears_them(database_url: str) -> None:
    await add_users(database_url)
    async with open_runtime(database_url) as runtime:
        now = T0
        waits = []
        for _ in range(USER_POLICY.free + 3):
            with pytest.raises(NotAuthenticated):
                await auth.login(runtime.uow(), "counter", "wrong!", now, HOUR, "10.0.0.7")
            async with runtime.uow() as uow:
                (state,) = await uow.throttle.states(["user:counter"])
            waits.append((state.locked_until - now).total_seconds() if state.locked_until else 0)
            now = state.locked_until or now
        assert waits == [0, 0, 0, 0, 0, 2, 4, 8]
        with pytest.raises(TooManyAttempts) as early:
            await auth.login(
                runtime.uow(), "counter", PASSWORD, now - timedelta(seconds=3), HOUR, "10.0.0.7"
            )
        assert early.value.retry_after == 3
        issued = await auth.login(runtime.uow(), "counter", PASSWORD, now, HOUR, "10.0.0.7")
        assert issued.user.username == "counter"
        async with runtime.uow() as uow:
            assert await uow.throttle.states(["user:counter"]) == []
            # the address keeps its count (it is below its own free failures)
            (address,) = await uow.throttle.states(["address:10.0.0.7"])
            assert (address.failures, address.locked_until) == (8, None)


async def test_many_users_failing_from_one_address_are_throttled_by_address(
    database_url: str,
) -> None:
    await add_users(database_url)
    async with open_runtime(database_url) as runtime:
        for n in range(21):
            with pytest.raises(NotAuthenticated):
                await auth.login(runtime.uow(), f"guess{n}", "x", T0, HOUR, "192.0.2.9")
        with pytest.raises(TooManyAttempts):
            await auth.login(runtime.uow(), "admin", PASSWORD, T0, HOUR, "192.0.2.9")
        # from another address the same user signs in
        await auth.login(runtime.uow(), "admin", PASSWORD, T0, HOUR, "192.0.2.10")


async def test_a_token_expires_by_the_injected_clock(database_url: str) -> None:
    await add_users(database_url)
    async with open_runtime(database_url) as runtime:
        issued = await auth.login(runtime.uow(), "super", PASSWORD, T0, HOUR)
        assert issued.expires_at == T0 + HOUR
        caller = await auth.authenticate(runtime.uow(), issued.token, T0 + HOUR - timedelta(1e-3))
        assert caller.name == "super"
        with pytest.raises(NotAuthenticated, match="the token has expired"):
            await auth.authenticate(runtime.uow(), issued.token, T0 + HOUR)


async def test_signing_out_and_an_admin_revoking_stop_tokens_at_once(
    database_url: str, client: Client
) -> None:
    await add_users(database_url)
    admin = await token(client, "admin")
    first, second = await token(client, "counter"), await token(client, "counter")
    assert (await client.get("/api/me", headers=first)).status_code == 200
    forbidden = await client.post("/api/users/admin/revoke-tokens", headers=first)
    assert forbidden.status_code == 403
    revoked = await client.post("/api/users/counter/revoke-tokens", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"username": "counter", "revoked": 2}
    for headers in (first, second):
        gone = await client.get("/api/me", headers=headers)
        assert gone.status_code == 401 and gone.json()["detail"] == "unknown token: log in again"
    assert (await client.get("/api/me", headers=admin)).status_code == 200
    unknown = await client.post("/api/users/nobody/revoke-tokens", headers=admin)
    assert unknown.status_code == 404
    # sign-out (the use case the web pages call) deletes that one token only
    bearer = admin["Authorization"].removeprefix("Bearer ")
    other_admin = await token(client, "admin")
    async with open_runtime(database_url) as runtime:
        await auth.logout(runtime.uow(), bearer)
    assert (await client.get("/api/me", headers=admin)).status_code == 401
    assert (await client.get("/api/me", headers=other_admin)).status_code == 200


async def test_wrong_enrollment_codes_and_unknown_credentials_are_throttled_by_address(
    database_url: str, client: Client
) -> None:
    await add_users(database_url)
    await _add_location(database_url)
    admin = await token(client, "admin")
    device = await enroll(client, admin, "HH-01")
    good = await enrollment_code(client, admin)
    answers = []
    for _ in range(12):
        r = await client.post("/api/devices/enroll", json={"code": "WRONG-CODE", "name": "HH"})
        answers.append(r.status_code)
    assert answers == [401] * 11 + [429]
    refused = await client.post("/api/devices/enroll", json={"code": good, "name": "HH"})
    assert refused.status_code == 429 and refused.headers["retry-after"]

    statuses = []
    for n in range(12):
        r = await client.get("/api/me", headers={"Authorization": f"Bearer sct_d_forged{n}"})
        statuses.append(r.status_code)
    assert statuses == [401] * 11 + [429]
    # known credentials are not held up by the forged ones from their address
    assert (await client.get("/api/me", headers=device.headers)).status_code == 200
    assert (await client.get("/api/me", headers=admin)).status_code == 200


async def test_the_sign_in_page_says_the_wait_at_its_form(
    database_url: str, client: Client
) -> None:
    await add_users(database_url)

    async def post(password: str) -> tuple[int, str, str]:
        page = await client.get("/signin")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf
        r = await client.post(
            "/signin",
            data={"username": "super", "password": password, "_csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        return r.status_code, r.text, r.headers.get("retry-after", "")

    assert [(await post("nope"))[0] for _ in range(USER_POLICY.free + 1)] == [401] * 6
    status, text, retry_after = await post(PASSWORD)
    assert status == 429 and retry_after
    assert "too many failed logins: try again in" in text
    assert "stockcount_session" not in client.cookies
