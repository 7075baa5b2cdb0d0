"""The counting app against a real server process (`stockcount serve`): a counter signs
in on it (the PIN checked against the verifier the device pulled), it syncs in the
background while the counter keeps scanning, and the bin count reaches the server with
the counter's name.

The app's sync is made slow on purpose (each request waits 2.5 s in the worker thread)
so the scans provably land while a sync is in flight. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from handheld_sync.app.counting_app import CountingApp
from handheld_sync.counting import CountingSession, ScannerSettings
from handheld_sync.store import Store
from handheld_sync.sync import SERVER_URL, SyncEngine, auth_headers
from tests.e2e.test_sync_e2e import (  # the server fixture, a device, a started count
    BIN_PATTERN,
    Database,
    Server,
    device,
    engine,
    server,
    started_count,
)

__all__ = ["server"]
DELAY = 2.5


class SlowTransport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(DELAY)  # in the app's worker thread, never the screen's
        return super().handle_request(request)


@contextmanager
def slow_engine(store: Store) -> Iterator[SyncEngine]:
    url = store.setting(SERVER_URL) or ""
    with httpx.Client(
        base_url=url, headers=auth_headers(store), timeout=30, transport=SlowTransport()
    ) as client:
        yield SyncEngine(store, client, retries=1)


def values_of(key: str, node: object) -> set[object]:
    """Every value of `key` anywhere in a JSON document."""
    if isinstance(node, dict):
        found = {node[key]} if key in node else set()
        return found.union(*(values_of(key, v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(values_of(key, v) for v in node))
    return set()


async def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def scan_while_syncing(app: CountingApp) -> None:
    async with app.run_test() as pilot:
        assert app.syncing  # the first sync starts with the app
        await pilot.press("f7", *"counter", "enter", *"4711", "enter")  # offline, the PIN
        assert "counter counter" in str(app.query_one("#count").render())
        await until(lambda: app.syncs == 1)
        await pilot.press("f9")  # a sync, and scanning while it is on its way
        assert app.syncing
        for text in ("A-01", "S1", "S2"):
            await pilot.press(*text, "enter")
        with Store.open(app.store_path) as own:
            assert own.outbox_summary()["pending"] == 3  # durable, not yet sent
        assert app.syncing and app.syncs == 1  # all three scanned during the sync
        await until(lambda: app.syncs == 2)
        await pilot.press("f4")  # close the bin
        await pilot.press("f9")  # and sync now
        await until(lambda: app.syncs == 3)
        status = str(app.query_one("#sync").render())
        assert "waiting 0" in status and "docked" in status
        await pilot.press("f9")  # the bin count's answer and the pull: all acknowledged
        await until(lambda: app.syncs == 4)


def test_the_app_syncs_in_the_background_while_scanning_goes_on(
    server: tuple[Server, Database], tmp_path: Path
) -> None:
    srv, _ = server
    api = httpx.Client(base_url=srv.url, timeout=30)
    number, sup, admin = started_count(api)
    pin = {"pin": "4711", "locations": ["MAIN"]}
    assert api.put("/api/users/counter/pin", json=pin, headers=sup).status_code == 200
    code = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=admin)
    store, client = device(tmp_path, "app-1", srv.url, code.json()["code"])
    engine(store, client).sync()
    CountingSession(store, bin_pattern=BIN_PATTERN).open(number)
    client.close()
    store.close()

    app = CountingApp(
        tmp_path / "app-1.sqlite3",
        settings=ScannerSettings(bin_pattern=BIN_PATTERN),
        open_engine=slow_engine,
        sync_interval=3600,
    )
    asyncio.run(scan_while_syncing(app))
    with Store.open(app.store_path) as own:
        assert own.outbox_summary()["pending"] == 0
        install, last = own.install_id, own.last_seq()
    assert last == 4
    devices = api.get("/api/devices/status", headers=sup).json()["items"]
    assert [d["last_seq"] for d in devices if d["install_id"] == install] == [4]
    count = api.get(f"/api/counts/{number}", headers=sup).json()
    assert [b["label"] for b in count["bins"] if b["counted"]] == ["A-01"]
    review = api.get(f"/api/counts/{number}/review", headers=sup).json()
    assert values_of("counter", review) == {"counter"}  # who signed in on the app
    api.close()
