"""Three real device stores and a real server process (`stockcount serve` on 127.0.0.1):
enroll, pull, count bins offline through handheld_sync.counting, dock and sync, with
faults injected on the way; the count's reconciliation equals what this test computes.

Faults: the answer to a committed push lost (the device "killed" before it stored the
acknowledgement), the server SIGKILLed after a commit and before its answer and restarted,
a push sent twice, batches sent in reverse order, a gzip body cut off, two pushes of one
device at once, a re-imaged device (new install id, seq 1 again), and the server restored
from an older copy of its database (the device detects it and sends again). On SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from handheld_sync.counting import CountingSession
from handheld_sync.errors import ServerRefused, TransportError
from handheld_sync.scan.text import parse_scanner_text
from handheld_sync.store import Store
from handheld_sync.sync import (
    ACKED_SEQ,
    CREDENTIAL,
    DEVICE_ID,
    SERVER_URL,
    SyncEngine,
    auth_headers,
    enroll,
)
from schemas.sync import BinOpened, PushRequest
from tests.conftest import BACKENDS, PG_ADMIN_URL, fresh_database, pg_admin
from tests.e2e.conftest import BIN, ServerProcess, free_port
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

pytestmark = pytest.mark.e2e
BIN_PATTERN = r"^[A-Z]+-\d+$"


class Database:
    """The server's database, with a backup taken while the server is down and a restore
    of it: a copy of the SQLite file, or a PostgreSQL database made from it as a template."""

    def __init__(self, url: str, backup: Path) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.file = Path(url.split("///", 1)[1]) if self.sqlite else None
        self.name = url.rsplit("/", 1)[1]
        self.backup_file = backup

    def take_backup(self) -> None:
        if self.file is not None:
            shutil.copyfile(self.file, self.backup_file)
        else:
            pg_admin(f'CREATE DATABASE "{self.name}_bak" TEMPLATE "{self.name}"')

    def restore_backup(self) -> None:
        if self.file is not None:
            for suffix in ("-wal", "-shm"):
                Path(f"{self.file}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.backup_file, self.file)
        else:
            pg_admin(
                f'DROP DATABASE "{self.name}" WITH (FORCE)',
                f'CREATE DATABASE "{self.name}" TEMPLATE "{self.name}_bak"',
            )

    def drop_backup(self) -> None:
        if self.file is None:
            pg_admin(f'DROP DATABASE IF EXISTS "{self.name}_bak" WITH (FORCE)')

    # The operator's backup and restore (deploy/README.md), while the server runs:
    # `stockcount backup FILE` on SQLite, pg_dump -Fc on PostgreSQL; restored with the
    # server stopped (the file copied back, its -wal and -shm removed; or the database
    # dropped, made anew and pg_restore'd).

    def pg_conninfo(self, name: str | None = None) -> str:
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name or self.name}"

    def dump(self, env: dict[str, str], target: Path) -> str:
        if self.file is not None:
            argv = [str(BIN / "stockcount"), "backup", str(target)]
        else:
            argv = ["pg_dump", "-Fc", "-f", str(target), "-d", self.pg_conninfo()]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
        return done.stdout

    def load(self, source: Path) -> None:
        if self.file is not None:
            for suffix in ("-wal", "-shm"):
                Path(f"{self.file}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(source, self.file)
            return
        pg_admin(
            f'DROP DATABASE "{self.name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.name}" TEMPLATE template0',
        )
        argv = [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "-d",
            self.pg_conninfo(),
            str(source),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"


class Server:
    """`stockcount serve` on a fixed port, so it can be killed and started again."""

    def __init__(self, database: Database, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "STOCKCOUNT_DATABASE_URL": database.url,
            "STOCKCOUNT_PORT": str(self.port),
            "STOCKCOUNT_LOG_LEVEL": "WARNING",
        }
        self.cwd = cwd
        self.process: ServerProcess | None = None

    def start(self) -> None:
        self.process = ServerProcess(
            [str(BIN / "stockcount"), "serve"], self.port, self.cwd, self.env
        )
        self.process.wait_healthy()

    def kill(self) -> None:
        assert self.process is not None
        self.process.process.kill()
        self.process.process.wait()
        self.process.stop()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Database]]:
    """A migrated, seeded database (SQLite, then PostgreSQL) and a server process on it."""
    for url in fresh_database(request, request.param, tmp_path):
        asyncio.run(seed(url))
        database = Database(url, tmp_path / "backup.sqlite3")
        running = Server(database, tmp_path)
        running.start()
        try:
            yield running, database
        finally:
            running.stop()
            database.drop_backup()


class Faulty(httpx.BaseTransport):
    """A real transport with a fault applied to the next push requests."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.fault: str | None = None
        self.after: Any = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault, self.fault = (
            (self.fault, None) if request.url.path == "/api/sync/push" else (None, self.fault)
        )
        if fault == "cut":
            body = request.read()
            request = httpx.Request(
                request.method, request.url, headers=request.headers, content=body[: len(body) // 2]
            )
            request.headers["content-length"] = str(len(body) // 2)
        response = self.inner.handle_request(request)
        if fault == "twice":
            response.read()
            response.close()
            response = self.inner.handle_request(request)
        if fault == "lose":
            response.read()
            response.close()
            if self.after is not None:
                self.after()
            raise httpx.ReadError("the answer was lost", request=request)
        return response


def device(
    tmp_path: Path, name: str, url: str, code: str, transport: Faulty | None = None
) -> tuple[Store, httpx.Client]:
    store = Store.create(tmp_path / f"{name}.sqlite3")
    with httpx.Client(base_url=url, timeout=30) as plain:
        enroll(plain, store, code, name, "e2e")
    client = httpx.Client(
        base_url=url,
        headers=auth_headers(store),
        timeout=30,
        transport=transport or httpx.HTTPTransport(),
    )
    return store, client


def engine(store: Store, client: httpx.Client, **kw: Any) -> SyncEngine:
    return SyncEngine(store, client, sleep=lambda _: None, **kw)


def test_three_devices_count_offline_and_sync_through_faults(
    server: tuple[Server, Database], tmp_path: Path
) -> None:
    srv, database = server
    api = httpx.Client(base_url=srv.url, timeout=30)
    login = api.post("/api/auth/token", json={"username": "super", "password": PASSWORD})
    sup = {"Authorization": f"Bearer {login.json()['token']}"}
    admin_login = api.post("/api/auth/token", json={"username": "admin", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {admin_login.json()['token']}"}
    created = api.post(
        "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}, headers=sup
    )
    number = created.json()["number"]
    assert api.post(f"/api/counts/{number}/start", headers=sup).status_code == 200

    def code() -> str:
        issued = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=admin)
        return str(issued.json()["code"])

    faults = [Faulty(), Faulty(), Faulty()]
    devices = [device(tmp_path, f"hh-{i}", srv.url, code(), faults[i]) for i in range(3)]
    for store, client in devices:
        report = engine(store, client).sync()
        assert report.reset and store.count(number) is not None

    # Offline: the server is down while the counters work.
    srv.stop()
    plans = {
        0: ("A-01", ["S1"], [("BOLT", "8")]),
        1: ("A-02", ["S3", "S2"], [("LOTI", "6", "L1")]),
        2: ("A-03", [], []),
    }
    for i, (label, serials, quantities) in plans.items():
        session = CountingSession(devices[i][0], bin_pattern=BIN_PATTERN)
        session.open(number)
        assert session.scan(parse_scanner_text(label)).recorded
        for s in serials:
            assert session.scan(parse_scanner_text(s)).recorded
        for q in quantities:
            session.key_quantity(q[0], q[1], lot=q[2] if len(q) > 2 else "")
        session.close_bin(empty=not serials and not quantities)
    with pytest.raises(TransportError):
        engine(*devices[0], retries=1).push()
    srv.start()

    # Device 0: the answer to a committed push is lost; the re-push gets duplicates.
    store0, client0 = devices[0]
    faults[0].fault = "lose"
    with pytest.raises(TransportError):
        engine(store0, client0, retries=0).push()
    assert store0.outbox_summary()["pending"] == 4
    again = engine(store0, client0).sync()
    assert again.duplicate == 4 and again.applied == 0

    # Device 1: the server is SIGKILLed after it committed and before it answered.
    store1, client1 = devices[1]
    faults[1].fault = "lose"
    faults[1].after = srv.kill
    with pytest.raises(TransportError):
        engine(store1, client1, retries=0).push()
    srv.start()
    # A push sent twice, then a cut-off body (refused, nothing stored).
    faults[1].fault = "cut"
    with pytest.raises(ServerRefused):
        engine(store1, client1).push()
    faults[1].fault = "twice"
    report = engine(store1, client1).sync()
    assert report.duplicate == 5 and store1.outbox_summary()["pending"] == 0

    # Device 2: batches in reverse order (gap, then in order), and two pushes at once.
    store2, client2 = devices[2]
    entries = store2.outbox(state="pending")
    for entry in reversed(entries):
        request = PushRequest(
            protocol_version=1,
            device_id=int(store2.setting(DEVICE_ID) or 0),
            install_id=store2.install_id,
            device_time=entry.device_time,
            events=[entry.event()],
        )
        client2.post(
            "/api/sync/push",
            content=msgspec.json.encode(request),
            headers={"Content-Type": "application/json"},
        )
    results: list[Any] = []

    def push_from_own_store() -> None:
        with Store.open(store2.path) as own:
            results.append(engine(own, client2, max_events=1).push())

    workers = [threading.Thread(target=push_from_own_store) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(results) == 2
    assert store2.outbox_summary()["pending"] == 0

    # A re-imaged device 2: a new store (new install id) with the same credential.
    reimaged = Store.create(tmp_path / "hh-2-new.sqlite3")
    for key in (DEVICE_ID, CREDENTIAL, SERVER_URL):
        reimaged.set_setting(key, store2.setting(key))
    fresh = engine(reimaged, client2).sync()
    assert fresh.reset and reimaged.count(number) is not None
    session = CountingSession(reimaged, bin_pattern=BIN_PATTERN)
    session.open(number)
    session.scan(parse_scanner_text("A-03"))
    session.close_bin(empty=True)
    assert engine(reimaged, client2).push().applied == 2  # seq 1 and 2 again: not a replay

    # Restored from an older backup: device 0 counts more after the backup was taken.
    srv.stop()
    database.take_backup()
    srv.start()
    session0 = CountingSession(store0, bin_pattern=BIN_PATTERN)
    session0.open(number)
    session0.scan(parse_scanner_text("A-01"))
    session0.scan(parse_scanner_text("S1"))
    session0.key_quantity("BOLT", "8")
    session0.close_bin()
    assert engine(store0, client0).sync().applied == 4
    srv.stop()
    database.restore_backup()
    srv.start()
    restored = engine(store0, client0).sync()
    assert restored.requeued == 4 and restored.applied == 4 and restored.reset
    assert store0.outbox_summary()["pending"] == 0

    # Every scan reached the server once: the events stored equal each install's seqs.
    for store in (store0, store1, store2, reimaged):
        status = api.get("/api/devices/status", headers=sup).json()["items"]
        by_install = {d["install_id"]: d for d in status}
        if store.install_id in by_install:
            assert by_install[store.install_id]["last_seq"] == store.last_seq()

    # The reconciliation equals what this test computes from the plan.
    system_serials = {"S1": "A-01", "S2": "A-01", "S3": "A-02"}
    counted_serials = {"S1": "A-01", "S3": "A-02", "S2": "A-02"}
    system_qty = {("BOLT", "A-01", ""): Decimal(10), ("LOTI", "A-02", "L1"): Decimal(5)}
    counted_qty = {("BOLT", "A-01", ""): Decimal(8), ("LOTI", "A-02", "L1"): Decimal(6)}
    expected = set()
    for serial, home in system_serials.items():
        found = counted_serials.get(serial)
        if found is None:
            expected.add(("SER", home, None, serial, "", Decimal(-1), Decimal(0)))
        elif found != home:
            expected.add(("SER", found, home, serial, "", Decimal(0), Decimal(1)))
    for key in system_qty.keys() | counted_qty.keys():
        delta = counted_qty.get(key, Decimal(0)) - system_qty.get(key, Decimal(0))
        if delta:
            expected.add((key[0], key[1], None, "", key[2], delta, Decimal(0)))
    recon = api.get(f"/api/counts/{number}/reconciliation", params={"limit": 1000}, headers=sup)
    assert recon.status_code == 200, recon.text
    body = recon.json()
    assert body["conflicts"] == [] and body["not_counted_bins"] == []
    got = {
        (
            line["item"],
            line["bin"],
            line.get("from_bin"),
            line.get("serial", ""),
            line.get("lot", ""),
            Decimal(line["adjustment_quantity"]),
            Decimal(line["stock_transfer_quantity"]),
        )
        for line in body["lines"]
    }
    assert got == expected
    api.close()
    for store, client in devices:
        client.close()
        store.close()
    reimaged.close()
    for fault in faults:
        fault.inner.close()


def handheld(*args: str, store: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`stockcount-handheld ARGS --store STORE` as a process."""
    done = subprocess.run(
        [str(BIN / "stockcount-handheld"), *args, "--store", str(store)],
        env={**os.environ, "STOCKCOUNT_HANDHELD_BIN_PATTERN": BIN_PATTERN},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


def started_count(api: httpx.Client) -> tuple[str, dict[str, str], dict[str, str]]:
    sup = api.post("/api/auth/token", json={"username": "super", "password": PASSWORD}).json()
    adm = api.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json()
    sh = {"Authorization": f"Bearer {sup['token']}"}
    ah = {"Authorization": f"Bearer {adm['token']}"}
    made = api.post(
        "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}, headers=sh
    )
    number = str(made.json()["number"])
    assert api.post(f"/api/counts/{number}/start", headers=sh).status_code == 200
    return number, sh, ah


def test_handheld_commands_enroll_sync_and_docked_against_a_real_server(
    server: tuple[Server, Database], tmp_path: Path
) -> None:
    srv, _ = server
    api = httpx.Client(base_url=srv.url, timeout=30)
    number, sh, ah = started_count(api)
    code = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=ah).json()["code"]
    store = tmp_path / "cli.sqlite3"
    enrolled = handheld("enroll", srv.url, code, "--name", "cli-1", store=store)
    assert "enrolled as device" in enrolled.stdout
    again = handheld("enroll", srv.url, code, "--name", "cli-1", store=store, check=False)
    assert again.returncode == 1 and again.stderr.startswith("stockcount-handheld: ")

    first = handheld("sync", "--progress", store=store)
    assert "synced: 0 applied" in first.stdout and "reference data replaced" in first.stdout
    assert first.stderr.startswith("push ") and "0/0 events" in first.stderr
    assert number in handheld("counts", store=store).stdout
    handheld("open", number, store=store)
    for text in ("A-01", "S1", "S2"):
        handheld("scan", text, store=store)
    handheld("qty", "BOLT", "8", store=store)
    handheld("close-bin", store=store)
    synced = handheld("sync", "--progress", store=store)
    assert "synced: 5 applied, 0 duplicate, 0 rejected" in synced.stdout
    assert "5/5 events" in synced.stderr

    # Docked: syncs what is counted while it runs; SIGTERM stops it cleanly.
    docked = subprocess.Popen(
        [str(BIN / "stockcount-handheld"), "docked", "--interval", "0.2", "--store", str(store)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        handheld("scan", "A-02", store=store)
        handheld("scan", "S3", store=store)
        handheld("close-bin", store=store)
        deadline = time.monotonic() + 60
        with Store.open(store) as own:
            while own.outbox_summary()["pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert own.outbox_summary()["pending"] == 0
        docked.send_signal(signal.SIGTERM)
        out, err = docked.communicate(timeout=30)
    finally:
        if docked.poll() is None:
            docked.kill()
            docked.wait()
    assert docked.returncode == 0, err
    assert out.splitlines()[0].startswith("docked: syncing every 0.2 s")
    assert out.splitlines()[-1] == "docked: stopped"
    applied = [int(m) for m in re.findall(r"^synced: (\d+) applied", out, re.MULTILINE)]
    assert sum(applied) == 3  # the three events counted while docked, each sent once
    # Nothing lost: the server holds every seq the store made, once.
    with Store.open(store) as own:
        last, install = own.last_seq(), own.install_id
        assert own.outbox_summary() == {"pending": 0, "applied": 8, "duplicate": 0, "rejected": 0}
    status = api.get("/api/devices/status", headers=sh).json()["items"]
    assert [d["last_seq"] for d in status if d["install_id"] == install] == [last]
    api.close()


def test_engine_retries_a_server_that_is_down_with_growing_bounded_delays(
    server: tuple[Server, Database], tmp_path: Path
) -> None:
    srv, _ = server
    api = httpx.Client(base_url=srv.url, timeout=30)
    number, _, ah = started_count(api)
    code = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=ah).json()["code"]
    api.close()
    store, client = device(tmp_path, "retry", srv.url, code)
    store.append(BinOpened(count=number, bin="A-01"))
    srv.stop()
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    down = SyncEngine(
        store, client, retries=4, backoff=0.01, max_backoff=0.04, sleep=wait, jitter=lambda: 1.0
    )
    with pytest.raises(TransportError, match="gave up after 4 retries"):
        down.push()
    assert waits == [0.01, 0.02, 0.04, 0.04]  # doubling, capped, bounded in number
    assert store.outbox_summary()["pending"] == 1

    waits.clear()

    def wait_then_start(seconds: float) -> None:
        wait(seconds)
        if len(waits) == 2:
            srv.start()  # up again before the third attempt

    back = SyncEngine(
        store,
        client,
        retries=5,
        backoff=0.01,
        max_backoff=0.04,
        sleep=wait_then_start,
        jitter=lambda: 1.0,
    )
    assert back.push().applied == 1
    assert waits == [0.01, 0.02]
    assert store.outbox_summary()["pending"] == 0
    client.close()
    store.close()


def count_bin(
    store: Store, number: str, label: str, serials: list[str], qty: list[tuple[str, ...]]
) -> None:
    session = CountingSession(store, bin_pattern=BIN_PATTERN)
    session.open(number)
    assert session.scan(parse_scanner_text(label)).recorded
    for serial in serials:
        assert session.scan(parse_scanner_text(serial)).recorded
    for q in qty:
        session.key_quantity(q[0], q[1], lot=q[2] if len(q) > 2 else "")
    session.close_bin(empty=not serials and not qty)


def test_back_up_go_on_counting_restore_and_every_device_re_sends_what_the_backup_lacks(
    server: tuple[Server, Database], tmp_path: Path
) -> None:
    """The operator's procedure (deploy/README.md): a backup taken while serving
    (`stockcount backup` / pg_dump), counting goes on, the server is restored from it and
    `stockcount sync new-epoch` run. Three devices; device 0 lies about its acks (acked_seq
    far above its high-water mark) before and after: it changes nothing another device is
    told, and it makes nothing be counted twice."""
    srv, database = server
    api = httpx.Client(base_url=srv.url, timeout=30)
    number, sup, admin = started_count(api)

    def code() -> str:
        issued = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=admin)
        return str(issued.json()["code"])

    devices = [device(tmp_path, f"hh-{i}", srv.url, code()) for i in range(3)]
    (store0, client0), (store1, client1), (store2, client2) = devices
    for store, client in devices:
        assert engine(store, client).sync().reset

    # Before the backup: devices 0 and 1 count a bin each.
    count_bin(store0, number, "A-01", ["S1"], [("BOLT", "8")])
    count_bin(store1, number, "A-02", ["S3"], [("LOTI", "6", "L1")])
    assert engine(store0, client0).sync().applied == 4
    assert engine(store1, client1).sync().applied == 4
    epoch = engine(store2, client2).sync().server_epoch

    backup = tmp_path / ("backup.sqlite3" if database.sqlite else "backup.dump")
    said = database.dump(srv.env, backup)
    assert backup.stat().st_size > 0
    if database.sqlite:
        assert said.startswith("backed up ") and str(backup) in said

    # Counting goes on: device 1 counts A-02 again (S2 found there too), device 2 A-03.
    count_bin(store1, number, "A-02", ["S3", "S2"], [("LOTI", "6", "L1")])
    count_bin(store2, number, "A-03", [], [])
    assert engine(store1, client1).sync().applied == 5
    assert engine(store2, client2).sync().applied == 2

    # Device 0 lies: it claims acknowledgements far above what it ever sent.
    store0.set_setting(ACKED_SEQ, str(store0.last_seq() + 1000))
    lied = engine(store0, client0).sync()
    assert lied.requeued == 0 and lied.applied == 0 and not lied.reset
    # ... and nobody else is told anything new: same epoch, no reset, nothing to re-send.
    for store, client in ((store1, client1), (store2, client2)):
        after = engine(store, client).sync()
        assert after.server_epoch == epoch and not after.reset and after.requeued == 0

    # The restore, as the README says: stop, restore, new epoch, start.
    srv.stop()
    database.load(backup)
    renewed = subprocess.run(
        [str(BIN / "stockcount"), "sync", "new-epoch"],
        env=srv.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert renewed.returncode == 0 and "sync epoch is now" in renewed.stdout, renewed.stderr
    srv.start()

    # The liar syncs first, lying again: it re-sends nothing it has not lost (it lost
    # nothing), and it does not make the others' answers differ.
    store0.set_setting(ACKED_SEQ, str(store0.last_seq() + 1000))
    first = engine(store0, client0).sync()
    assert first.reset and first.requeued == 0 and first.applied == 0
    new_epoch = first.server_epoch
    assert new_epoch != epoch
    resent1 = engine(store1, client1).sync()
    assert resent1.reset and resent1.server_epoch == new_epoch
    assert resent1.requeued == 5 and resent1.applied == 5 and resent1.duplicate == 0
    resent2 = engine(store2, client2).sync()
    assert resent2.reset and resent2.server_epoch == new_epoch
    assert resent2.requeued == 2 and resent2.applied == 2 and resent2.duplicate == 0
    # A second round: nothing more to send, nobody reset again.
    for store, client in devices:
        again = engine(store, client).sync()
        assert (again.sent, again.requeued, again.reset) == (0, 0, False)
        assert store.outbox_summary()["pending"] == 0

    # Every event is on the server once: each install's last seq, and the count's result
    # is what was counted (not doubled, none lost).
    status = api.get("/api/devices/status", headers=sup).json()["items"]
    by_install = {d["install_id"]: d["last_seq"] for d in status}
    assert [by_install[s.install_id] for s, _ in devices] == [s.last_seq() for s, _ in devices]
    recon = api.get(f"/api/counts/{number}/reconciliation", params={"limit": 1000}, headers=sup)
    assert recon.status_code == 200, recon.text
    body = recon.json()
    assert body["conflicts"] == [] and body["not_counted_bins"] == []
    got = {
        (line["item"], line["bin"], line.get("serial", ""), Decimal(line["adjustment_quantity"]),
         Decimal(line["stock_transfer_quantity"]))
        for line in body["lines"]
    }  # fmt: skip
    assert got == {
        ("SER", "A-02", "S2", Decimal(0), Decimal(1)),  # S2 found in A-02, at home in A-01
        ("BOLT", "A-01", "", Decimal(-2), Decimal(0)),  # 8 counted of 10
        ("LOTI", "A-02", "", Decimal(1), Decimal(0)),  # 6 counted of 5
    }
    api.close()
    for store, client in devices:
        client.close()
        store.close()
