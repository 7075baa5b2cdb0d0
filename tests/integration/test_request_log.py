"""One log line per request, with its id (also answered as X-Request-ID), the caller, the
route, the status and the duration; as JSON when asked; never a password, token or PIN."""

from __future__ import annotations

import json
import logging

import pytest

from server.api.request_log import log_formatter
from server.settings import Settings
from tests.helpers import PASSWORD, add_users
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


def test_the_log_format_setting_is_text_or_json() -> None:
    assert Settings.from_env({"STOCKCOUNT_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(ValueError, match="STOCKCOUNT_LOG_FORMAT must be text or json"):
        Settings.from_env({"STOCKCOUNT_LOG_FORMAT": "xml"})
