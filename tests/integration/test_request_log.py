"""One log line per request, with its id (also answered as X-Request-ID), the caller, the
route, the status and the duration; as JSON when asked; never a password, token or PIN."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
import uvicorn

from server.api.request_log import log_formatter
from server.app import create_app, uvicorn_options
from server.settings import Settings
from tests.helpers import PASSWORD, add_users, scalar
from tests.integration.test_auth_devices import Client


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "stockcount.request"]


async def test_each_request_logs_one_line_with_its_id_caller_route_status_and_duration(
    database_url: str, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await add_users(database_url)
    caplog.set_level(logging.INFO)
    login = await client.post("/api/auth/token", json={"username": "super", "password": PASSWORD})
    token = login.json()["token"]
    me = await client.get(
        "/api/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "proxy-42.a"}
    )
    missing = await client.get("/api/counts/SC404", headers={"Authorization": f"Bearer {token}"})
    refused = await client.get("/api/users", headers={"X-Request-ID": "bad id\nforged line"})
    unknown = await client.get("/api/no-such-route")
    lines = _lines(caplog)
    assert len(lines) == 5
    first, second, third, fourth, fifth = lines
    assert (fifth.route, fifth.status) == ("/api/no-such-route", unknown.status_code)  # type: ignore[attr-defined]
    assert (first.route, first.status, first.caller) == ("/api/auth/token", 200, None)  # type: ignore[attr-defined]
    assert first.request_id == login.headers["x-request-id"]  # type: ignore[attr-defined]
    assert len(first.request_id) == 32  # type: ignore[attr-defined]
    # an id from a proxy in front is kept and answered; one that is not an id is replaced
    assert second.request_id == me.headers["x-request-id"] == "proxy-42.a"  # type: ignore[attr-defined]
    assert (second.caller_kind, second.caller, second.status) == ("user", "super", 200)  # type: ignore[attr-defined]
    # the client's address (no trusted proxy here: the peer's, the test client's)
    assert second.client == "testclient"  # type: ignore[attr-defined]
    assert third.route == "/api/counts/{number}" and third.status == 404  # type: ignore[attr-defined]
    assert missing.status_code == 404
    assert fourth.status == 401 and refused.headers["x-request-id"] == fourth.request_id  # type: ignore[attr-defined]
    assert "\n" not in fourth.request_id  # type: ignore[attr-defined]
    assert all(r.duration_ms >= 0 for r in lines[:4])  # type: ignore[attr-defined]
    assert fifth.duration_ms is None  # type: ignore[attr-defined]  # no route: not timed

    # as JSON: one object a line, with every field, and no secret anywhere in any line
    formatter = log_formatter("json")
    objects = [json.loads(formatter.format(r)) for r in lines]
    assert objects[1]["request_id"] == "proxy-42.a" and objects[1]["caller"] == "super"
    assert {"time", "level", "logger", "route", "status", "duration_ms"} <= objects[1].keys()
    everything = "\n".join(formatter.format(r) for r in caplog.records)
    assert PASSWORD not in everything and token not in everything


PROXY, CLIENT, STRANGER = "127.0.0.2", "198.51.100.1", "203.0.113.9"
FORWARDED = {"X-Forwarded-For": f"6.6.6.6, {CLIENT}", "X-Forwarded-Proto": "https"}


async def _sign_in(web: httpx.AsyncClient) -> str:
    """The session cookie a sign-in through the pages sets (forwarded headers sent)."""
    form = await web.get("/signin", headers=FORWARDED)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert form.status_code == 200 and token, form.text[:500]
    data = {"username": "super", "password": PASSWORD, "_csrf_token": token.group(1)}
    signed = await web.post("/signin", data=data, headers=FORWARDED)
    assert signed.status_code == 303, signed.text[:500]
    return signed.headers["set-cookie"]


async def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_logged_and_throttled(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The app as `serve` runs it (uvicorn's proxy middleware around it, trusting PROXY):
    every line names the forwarded client, unknown routes' too (Litestar answers those
    without its middleware), failed sign-ins count against it, and the session cookie is
    Secure as the proxy saw https; the same headers from another peer change nothing."""
    await add_users(database_url)
    settings = Settings(
        database_url=database_url, log_level="WARNING", trusted_proxies=(f"{PROXY}/32",)
    )
    app = create_app(settings)
    config = uvicorn.Config(app, **uvicorn_options(settings))
    config.load()

    def peer(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=config.loaded_app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://stockcount")

    caplog.set_level(logging.INFO)
    wrong = {"username": "super", "password": "wrong!"}
    async with app.lifespan(), peer(PROXY) as proxied, peer(STRANGER) as direct:
        for client in (proxied, direct):
            unknown = await client.get("/api/no-such-route", headers=FORWARDED)
            failed = await client.post("/api/auth/token", json=wrong, headers=FORWARDED)
            assert (unknown.status_code, failed.status_code) == (404, 401)
        assert "Secure" in await _sign_in(proxied)
        # a forwarded "address" is whatever the header held: the log keeps 64 characters
        odd = await proxied.get("/api/no-such-route", headers={"X-Forwarded-For": "z" * 100})
        assert odd.status_code == 404
        assert "Secure" not in await _sign_in(direct)
    seen = [(r.method, r.route, r.status, r.client) for r in _lines(caplog)]  # type: ignore[attr-defined]
    assert seen == [
        ("GET", "/api/no-such-route", 404, CLIENT),
        ("POST", "/api/auth/token", 401, CLIENT),
        ("GET", "/api/no-such-route", 404, STRANGER),
        ("POST", "/api/auth/token", 401, STRANGER),
        ("GET", "/signin", 200, CLIENT),
        ("POST", "/signin", 303, CLIENT),
        ("GET", "/api/no-such-route", 404, "z" * 64),
        ("GET", "/signin", 200, STRANGER),
        ("POST", "/signin", 303, STRANGER),
    ]
    for address in (CLIENT, STRANGER):
        failures = "SELECT failures FROM auth_throttle WHERE key = :key"
        assert await scalar(database_url, failures, key=f"address:{address}") == 1
    proxy = "SELECT count(*) FROM auth_throttle WHERE key LIKE :key"
    assert await scalar(database_url, proxy, key=f"%{PROXY}%") == 0


def test_the_log_format_setting_is_text_or_json() -> None:
    assert Settings.from_env({"STOCKCOUNT_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(ValueError, match="STOCKCOUNT_LOG_FORMAT must be text or json"):
        Settings.from_env({"STOCKCOUNT_LOG_FORMAT": "xml"})
