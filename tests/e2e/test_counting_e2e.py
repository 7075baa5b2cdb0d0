"""A counter counts like with a scanner app, against a real server process (SQLite, then
PostgreSQL): the supervisor sets the counter's PIN and the site's device settings, a new
device enrolls and pulls them, the server goes away, the counter signs in offline and
scans (an EAN three times, a GS1 label with AI 30 of 5, an unknown barcode, an
auto-serialized item without a serial); the device docks, and the count shows 8 with the
counter's name, the unknown barcode on the supervisor's list, and at finalize a
generated serial for the auto-serialized unit at the item's average cost."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from handheld_sync.counting import CountingWorkflow, ScannerSettings
from handheld_sync.store import Store
from handheld_sync.sync import SyncEngine, auth_headers, enroll
from tests.conftest import BACKENDS, fresh_database
from tests.e2e.conftest import BIN, ServerProcess, free_port
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

pytestmark = pytest.mark.e2e
BOLT_EAN = "4006381333931"
AUTO_EAN = "4012345000023"


class Server:
    """`stockcount serve` on one port, stopped while the counter works and started again."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "STOCKCOUNT_DATABASE_URL": url,
            "STOCKCOUNT_PORT": str(self.port),
            "STOCKCOUNT_LOG_LEVEL": "WARNING",
        }
        self.process: ServerProcess | None = None

    def start(self) -> None:
        self.process = ServerProcess(
            [str(BIN / "stockcount"), "serve"], self.port, self.cwd, self.env
        )
        self.process.wait_healthy()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    for url in fresh_database(request, request.param, tmp_path):
        asyncio.run(seed(url))
        running = Server(url, tmp_path)
        running.start()
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    """The test's HTTP clients, closed after it."""
    opened: list[httpx.Client] = []
    yield opened
    for client in opened:
        client.close()


def login(api: httpx.Client, name: str) -> dict[str, str]:
    answer = api.post("/api/auth/token", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_a_counter_signs_in_offline_and_every_scan_counts(
    server: Server, tmp_path: Path, clients: list[httpx.Client]
) -> None:
    api = httpx.Client(base_url=server.url, timeout=30)
    clients.append(api)
    admin, sup = login(api, "admin"), login(api, "super")
    # Master data: barcodes for the items (an update import), the counter's PIN, and the
    # site's bin label pattern (the seed's bins are A-01, not the default pattern).
    items = {
        "items": [
            {"code": "BOLT", "name": "Bolt", "tracking": "none", "barcodes": [BOLT_EAN]},
            {"code": "AUTO", "name": "Auto serial", "tracking": "serial", "barcodes": [AUTO_EAN]},
        ]
    }
    ok(api.post("/api/imports?mode=update", json=items, headers=admin))
    ok(api.put("/api/users/counter/pin", json={"pin": "4711", "locations": ["MAIN"]}, headers=sup))
    settings = {"bin_pattern": r"^[A-Z]+-\d+$", "idle_sign_out_minutes": 20}
    ok(api.put("/api/locations/MAIN/device-settings", json=settings, headers=sup))
    number = ok(
        api.post(
            "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}, headers=sup
        )
    )["number"]
    ok(api.post(f"/api/counts/{number}/start", headers=sup))

    # A new device: enrollment, then one sync gives it everything.
    code = ok(api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=admin))["code"]
    store = Store.create(tmp_path / "hh.sqlite3")
    with httpx.Client(base_url=server.url, timeout=30) as plain:
        enroll(plain, store, code, "hh-1", "e2e")
    device = httpx.Client(base_url=server.url, headers=auth_headers(store), timeout=30)
    clients.append(device)
    SyncEngine(store, device, sleep=lambda _: None).sync()
    assert store.counter_verifier("counter") is not None

    # Offline: the server is gone while the counter works.
    server.stop()
    flow = CountingWorkflow(store, settings=ScannerSettings.resolve(store, env={}))
    assert flow.settings.bin_pattern == r"^[A-Z]+-\d+$"  # from the pull
    assert flow.sign_in("counter", "0000").code == "sign_in_refused"
    assert flow.sign_in("counter", "4711").outcome == "signed_in"
    assert flow.open_count(number).outcome == "count_opened"
    assert flow.scan_text("A-01").outcome == "bin_opened"
    assert [flow.scan_text("]E0" + BOLT_EAN).total for _ in range(3)] == [1, 2, 3]
    gs1 = flow.scan_text("]C1" + "010" + BOLT_EAN + "305")
    assert (gs1.item, gs1.total) == ("BOLT", Decimal(8))
    assert flow.scan_text("5901234123457").outcome == "unknown"
    assert flow.close_bin().outcome == "bin_closed"
    flow.scan_text("A-02")
    assert flow.scan_text(AUTO_EAN).total == Decimal(1)  # no serial: a unit
    flow.close_bin()
    flow.scan_text("A-03")
    assert flow.empty_bin().outcome == "bin_closed"

    # Docked again.
    server.start()
    report = SyncEngine(store, device, sleep=lambda _: None).sync()
    assert store.outbox_summary()["rejected"] == 0, store.outbox(state="rejected")
    assert report.applied == len(store.outbox())

    recon = ok(api.get(f"/api/counts/{number}/reconciliation?limit=500", headers=sup))
    [bolt] = [ln for ln in recon["lines"] if ln["item"] == "BOLT" and ln["bin"] == "A-01"]
    assert Decimal(bolt["counted_quantity"]) == 8
    [behind] = bolt["bin_counts"]
    assert (behind["counter"], behind["device"]) == ("counter", "hh-1")

    unknown = ok(api.get(f"/api/counts/{number}/unknown-barcodes", headers=sup))
    [kept] = unknown["items"]
    assert (kept["raw"], kept["bin"], kept["counter"], kept["device"]) == (
        "5901234123457",
        "A-01",
        "counter",
        "hh-1",
    )

    bulk = {"action": "approve", "filter": {}, "reason_code": "MISCOUNT"}
    ok(api.post(f"/api/counts/{number}/lines/bulk", json=bulk, headers=sup))
    ok(api.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup))
    history = ok(api.get("/api/inventory-history?item=AUTO", headers=sup))
    [posted] = history["items"]
    assert (posted["source"], posted["bin"], Decimal(posted["quantity"])) == (
        "quantity_adjustment",
        "A-02",
        1,
    )
    # A serial made for the unit at finalize, at AUTO's average cost: no serial of AUTO is
    # on hand anywhere, so its last cost, 7.
    [made] = ok(api.get("/api/serials?item=AUTO", headers=sup))["items"]
    assert made["serial_number"] and made["bin"] == "A-02"
    assert Decimal(made["actual_cost"]) == Decimal(posted["unit_cost"]) == 7
