"""The API's push endpoint under many devices at once, on SQLite and PostgreSQL: on SQLite
the app writes groups of pushes on its blocking writer thread (server/db/blocking.py); on
PostgreSQL each push is its own transaction on the loop. Every event stored once."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from schemas.sync import PushResponse
from tests.helpers import scalar
from tests.integration.counts_setup import Client
from tests.integration.test_sync_api import Device, outcomes
from tests.integration.test_sync_group_commit import GroupSizes, devices, request, scans


async def test_many_devices_pushing_at_once_through_the_api(
    database_url: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, devs, _ = await devices(client, database_url, 10)
    recorded = GroupSizes(monkeypatch)

    async def push_all(device: Device) -> list[PushResponse]:
        answers = []
        for first in (1, 31, 61):
            response = await client.post(
                "/api/sync/push",
                content=msgspec.json.encode(request(device, scans(number, device, first, 30))),
                headers={**device.auth, "Content-Type": "application/json"},
            )
            assert response.status_code == 200, response.text
            answers.append(msgspec.json.decode(response.content, type=PushResponse))
        return answers

    every = await asyncio.gather(*(push_all(d) for d in devs))
    # The app writes SQLite's groups on the blocking writer thread; PostgreSQL's pushes
    # are each their own transaction on the loop.
    sqlite = database_url.startswith("sqlite")
    assert {t.startswith("sqlite-writer") for t in recorded.threads} == {sqlite}
    for answers in every:
        assert [a.high_water for a in answers] == [30, 60, 90]
        assert all(set(outcomes(a).values()) == {"applied"} for a in answers)
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 10 * 90
    assert (
        await scalar(
            database_url,
            "SELECT count(*) FROM (SELECT DISTINCT device_id, install_id, seq FROM sync_event) x",
        )
        == 10 * 90
    )
