"""`stockcount demo` as a real process: loads the sample warehouse, serves it on loopback,
answers a logged-in supervisor with the sample data, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.demo.data import DEFAULT_SEED, sample_warehouse
from tests.e2e.conftest import ServerProcess, StartServer

pytestmark = pytest.mark.e2e


def test_demo_serves_the_sample_warehouse_and_stops_on_sigterm(
    start_server: StartServer, tmp_path: Path
) -> None:
    database = tmp_path / "demo" / "demo.sqlite3"
    server = start_server("stockcount", "demo", "--database", str(database), "--port", "{port}")

    health = server.wait_healthy()
    assert health["status"] == "ok" and health["database"] == "sqlite"
    password = server.find(r"^\s+supervisor\s+supervisor\s+password: (\S+)$").group(1)
    server.find(rf"^server:\s+{server.url}$")
    server.find(r"^total\s+294\s+6\s+\d+\s+[\d,.]+$")

    # The JSON the demo imported is the deterministic sample, next to the database.
    written = json.loads((database.parent / "demo-data.json").read_text())
    assert written == sample_warehouse(DEFAULT_SEED)

    with httpx.Client(base_url=server.url, timeout=10) as client:
        login = client.post(
            "/api/auth/token", json={"username": "supervisor", "password": password}
        )
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['token']}"}

        me = client.get("/api/me", headers=auth)
        assert me.json() == {"kind": "user", "name": "supervisor", "role": "supervisor"}

        locations = client.get("/api/locations", headers=auth)
        assert locations.status_code == 200, locations.text
        assert [loc["code"] for loc in locations.json()["items"]] == ["MAIN", "NORTH"]

        out = client.get("/api/bins", params={"location": "MAIN", "kind": "out"}, headers=auth)
        assert out.status_code == 200, out.text
        labels = [b["label"] for b in out.json()["items"]]
        assert labels == ["MAIN-OUT-01", "MAIN-OUT-02", "MAIN-OUT-03", "MAIN-OUT-04"]
        assert {b["kind"] for b in out.json()["items"]} == {"out"}

        item = client.get("/api/items/123106", headers=auth)
        assert item.status_code == 200, item.text
        assert item.json()["last_cost"] == "55.232" and item.json()["tracking"] == "none"

        stock = client.get(
            "/api/stock", params={"item": "123106", "location": "MAIN"}, headers=auth
        )
        assert stock.status_code == 200, stock.text
        rows = stock.json()["items"]
        assert sum(Decimal(r["quantity"]) for r in rows) == 14
        assert {r["average_cost"] for r in rows} == {"55.232"}

        # The demo's stock count: Completed, with both documents as printed.
        done = server.find(
            r"^count (SC\d+): completed; QA-SC\d+ ([\d,]+) lines? total (\S+); "
            r"ST-SC\d+ ([\d,]+) lines? total (\S+)$"
        )
        number = done.group(1)
        count = client.get(f"/api/counts/{number}", headers=auth)
        assert count.status_code == 200, count.text
        assert count.json()["status"] == "completed"
        docs = client.get(f"/api/counts/{number}/documents", headers=auth)
        assert docs.status_code == 200, docs.text
        got = {d["kind"]: d for d in docs.json()["items"]}
        qa, st = got["quantity_adjustment"], got["stock_transfer"]
        qa_lines, st_lines = (int(done.group(n).replace(",", "")) for n in (2, 4))
        assert (len(qa["lines"]), qa["total_value"]) == (qa_lines, done.group(3))
        assert (len(st["lines"]), st["total_value"]) == (st_lines, done.group(5))
        # The first count is the same as before the demo had a second one.
        assert (qa["number"], qa_lines, qa["total_value"]) == ("QA-SC000001", 4, "15.30")
        assert (st["number"], st_lines, st["total_value"]) == ("ST-SC000001", 1, "6.06")
        assert {x["kind"] for x in _reconciliation(client, auth, number)} >= {
            "missing", "unknown", "serial_transfer_proposal", "released", "quantity_variance",
            "generated",
        }  # fmt: skip
        server.find(rf"^Quantity Adjustment QA-{number} .* total value {qa['total_value']}$")
        server.find(rf"^Stock Transfer ST-{number} .* total value {st['total_value']}$")

        _second_count_waits_for_the_supervisor(server, client, auth, database)

        # Finance signs in with its own printed password, reads the documents, changes nothing.
        finance_password = server.find(r"^\s+finance\s+finance\s+password: (\S+)$").group(1)
        login = client.post(
            "/api/auth/token", json={"username": "finance", "password": finance_password}
        )
        assert login.status_code == 200, login.text
        reader = {"Authorization": f"Bearer {login.json()['token']}"}
        read = client.get(f"/api/counts/{number}/documents", headers=reader)
        assert read.status_code == 200 and len(read.json()["items"]) == 2, read.text
        refused = client.post(
            "/api/counts", json={"location": "MAIN", "scope": "all"}, headers=reader
        )
        assert refused.status_code == 403, refused.text

        # The printed password is the supervisor's only: it does not open the admin.
        wrong = client.post("/api/auth/token", json={"username": "admin", "password": password})
        assert wrong.status_code == 401

    # A clean stop: uvicorn finishes the shutdown, then re-raises SIGTERM so a process
    # manager sees the signal (systemd and Docker count that as a clean exit).
    assert server.stop() in {0, -signal.SIGTERM}, server.output
    server.find(r"Application shutdown complete\.$")
    server.find(r"Finished server process")
    assert "Traceback" not in server.output and "ERROR" not in server.output


def _second_count_waits_for_the_supervisor(
    server: ServerProcess, client: httpx.Client, auth: dict[str, str], database: Path
) -> None:
    """Counted by two device stores through the sync, left in Counting in Process with a
    conflict, a misplaced serial, a released serial and a variance, and bins to count."""
    server.find(rf"^sign in:\s+{server.url}/ as supervisor, password \S+$")
    number = server.find(r"^waiting:\s+count (SC\d+) at NORTH").group(1)
    assert number == "SC000002"
    count = client.get(f"/api/counts/{number}", headers=auth)
    assert count.status_code == 200, count.text
    assert (count.json()["status"], count.json()["location"]) == ("counting_in_process", "NORTH")
    kinds = sorted(x["kind"] for x in _reconciliation(client, auth, number))
    assert kinds == [
        "bin_count_conflict", "quantity_variance", "released", "serial_transfer_proposal"
    ]  # fmt: skip
    # Every scan came through the devices: both enrolled at NORTH, nothing rejected.
    devices = client.get("/api/devices", headers=auth)
    assert devices.status_code == 200, devices.text
    names = {d["name"]: d for d in devices.json()["items"]}
    assert set(names) == {"hh-north-1", "hh-north-2"}
    rejected = client.get("/api/sync/rejected", headers=auth)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["items"] == []
    stores = sorted(p.name for p in (database.parent / "demo-devices").iterdir())
    assert stores == ["hh-north-1.sqlite3", "hh-north-2.sqlite3"]


def _reconciliation(
    client: httpx.Client, auth: dict[str, str], number: str
) -> list[dict[str, Any]]:
    found = client.get(f"/api/counts/{number}/reconciliation", params={"limit": 1000}, headers=auth)
    assert found.status_code == 200, found.text
    lines: list[dict[str, Any]] = found.json()["lines"]
    return lines


def test_demo_no_serve_loads_and_exits(start_server: StartServer, tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    database.write_bytes(b"an old demo file the demo must replace")
    run = start_server("stockcount", "demo", "--database", str(database), "--no-serve")
    assert run.process.wait(timeout=120) == 0, run.output
    run.stop()
    run.find(r"^MAIN\s+196\s+4\s+")
    run.find(r"^NORTH\s+98\s+2\s+")
    run.find(r"^items by tracking: lot 10, none 24, serial 11, serial, auto-serialized 1$")
    assert "serving on" not in run.output
    assert database.read_bytes()[:16] == b"SQLite format 3\x00"
