"""A hypothesis state machine over the sync protocol, on SQLite and PostgreSQL.

Real device stores (handheld_sync.store.Store in a temporary folder) and the real server
app (Litestar's TestClient, handed to SyncEngine through a transport that can lose an
answer or send a request twice). Rules: scan, push, push with the answer lost after the
server committed, push sent twice, batches sent newest first, pull, re-image a device
(a new store with the same credential, what was not synced is gone with the old one).

Invariants, after every step:
- the server stores each (device, install, seq) at most once, exactly seqs 1..high-water,
  and only seqs the store appended;
- everything the device holds an acknowledgement for is on the server;
- the device never deletes an outbox entry (no entry is missing below its last seq);
- a pull cursor never moves back within an epoch.
At the end, after a full sync of every live store: the server holds exactly the seqs each
store appended, once.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handheld_sync.errors import TransportError
from handheld_sync.store import Store
from handheld_sync.sync import CREDENTIAL, DEVICE_ID, SERVER_URL, SyncEngine, auth_headers, enroll
from schemas import PROTOCOL_VERSION
from schemas.sync import BinOpened, PullCursor, PushRequest, SerialScanned
from server.app import create_app
from server.db.engine import make_engine
from server.settings import Settings
from server.sync.tables import SyncEvent
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

DEVICES = 2
BASE = "http://testserver.local"


class AppTransport(httpx.BaseTransport):
    """Hands each request to the app's TestClient; can lose the answer of the next push
    (the server committed, the device never hears it) or send it twice."""

    def __init__(self, app: TestClient[Litestar]) -> None:
        self.app = app
        self.fault: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.fault if request.url.path == "/api/sync/push" else None
        self.fault = None if fault else self.fault
        content = request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}

        def send() -> httpx.Response:
            return self.app.request(
                request.method, request.url.path, content=content, headers=headers
            )

        answer = send()
        if fault == "twice":
            answer = send()
        if fault == "lose":
            raise httpx.ReadError("the answer was lost", request=request)
        keep = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        }
        return httpx.Response(answer.status_code, headers=keep, content=answer.content)


class Device:
    def __init__(self, store: Store, transport: AppTransport) -> None:
        self.store = store
        self.transport = transport
        self.client = httpx.Client(base_url=BASE, headers=auth_headers(store), transport=transport)
        self.cursor: PullCursor | None = store.pull_cursor()
        self.bin_seq = 0

    def engine(self, retries: int = 5) -> SyncEngine:
        # Small batches, so a push takes several rounds and faults land between them.
        return SyncEngine(
            self.store, self.client, sleep=lambda _: None, max_events=4, retries=retries
        )

    def close(self) -> None:
        self.client.close()
        self.store.close()


class World:
    """What lives for one test (one backend): the app, an admin, a started count."""

    def __init__(self, app: TestClient[Litestar], portal: BlockingPortal, db: AsyncEngine) -> None:
        self.app = app
        self.portal = portal
        self.db = db
        self.admin = self._login("admin")
        sup = self._login("super")
        made = app.post(
            "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}, headers=sup
        )
        assert made.status_code == 201, made.text
        self.count = str(made.json()["number"])
        assert app.post(f"/api/counts/{self.count}/start", headers=sup).status_code == 200

    def _login(self, name: str) -> dict[str, str]:
        got = self.app.post("/api/auth/token", json={"username": name, "password": PASSWORD})
        return {"Authorization": f"Bearer {got.json()['token']}"}

    def enrollment_code(self) -> str:
        issued = self.app.post(
            "/api/enrollment-codes", json={"location": "MAIN"}, headers=self.admin
        )
        assert issued.status_code == 201, issued.text
        return str(issued.json()["code"])

    def server_seqs(self, device_id: int, install: str) -> tuple[list[int], int]:
        """The seqs the server stores for (device, install), and how many rows."""

        async def read() -> tuple[list[int], int]:
            async with self.db.connect() as conn:
                where = (SyncEvent.device_id == device_id, SyncEvent.install_id == install)
                seqs = (await conn.execute(select(SyncEvent.seq).where(*where))).scalars().all()
                rows = (await conn.execute(select(func.count()).where(*where))).scalar_one()
            return sorted(int(s) for s in seqs), int(rows)

        return self.portal.call(read)


class SyncMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self.devices: list[Device] = []
        self.retired: list[
            tuple[int, Store, set[int]]
        ] = []  # re-imaged away: (device, store, acked)
        self.made = 0

    def _new_store(self) -> Store:
        self.made += 1
        return Store.create(self.folder / f"store-{self.made}.sqlite3")

    def _open_bin(self, device: Device) -> None:
        device.bin_seq = device.store.append(BinOpened(count=self.world.count, bin="A-01"))

    @initialize()
    def enroll_devices(self) -> None:
        for i in range(DEVICES):
            store = self._new_store()
            with httpx.Client(base_url=BASE, transport=AppTransport(self.world.app)) as plain:
                enroll(plain, store, self.world.enrollment_code(), f"m{i}", "test")
            device = Device(store, AppTransport(self.world.app))
            self._open_bin(device)
            self.devices.append(device)

    def _device_id(self, device: Device) -> int:
        return int(device.store.setting(DEVICE_ID) or 0)

    # -- rules --------------------------------------------------------------------------

    @rule(which=st.integers(0, DEVICES - 1), scans=st.integers(1, 6), unknown=st.booleans())
    def scan(self, which: int, scans: int, unknown: bool) -> None:
        """Scans of the open bin; with `unknown`, the last names a count the server lacks
        (stored there as rejected: kept, and still exactly once)."""
        device = self.devices[which]
        for n in range(scans):
            last = n == scans - 1
            count = "NO-SUCH-COUNT" if unknown and last else self.world.count
            serial = f"{device.store.install_id[:6]}-{device.store.last_seq() + 1}"
            device.store.append(
                SerialScanned(
                    count=count,
                    bin="A-01",
                    bin_seq=device.bin_seq,
                    item="SER",
                    serial=serial,
                    raw=serial,
                )
            )

    @rule(which=st.integers(0, DEVICES - 1))
    def push(self, which: int) -> None:
        self.devices[which].engine().push()

    @rule(which=st.integers(0, DEVICES - 1))
    def push_answer_lost(self, which: int) -> None:
        device = self.devices[which]
        device.transport.fault = "lose"
        with pytest.raises(TransportError):
            device.engine(retries=0).push()

    @rule(which=st.integers(0, DEVICES - 1))
    def push_twice(self, which: int) -> None:
        device = self.devices[which]
        device.transport.fault = "twice"
        device.engine().push()

    @rule(which=st.integers(0, DEVICES - 1), size=st.integers(1, 3))
    def push_newest_first(self, which: int, size: int) -> None:
        """Batches of pending events sent newest first, answers ignored (as if lost)."""
        device = self.devices[which]
        pending = device.store.outbox(state="pending", limit=9)
        batches = [pending[i : i + size] for i in range(0, len(pending), size)]
        for batch in reversed(batches):
            request = PushRequest(
                protocol_version=PROTOCOL_VERSION,
                device_id=self._device_id(device),
                install_id=device.store.install_id,
                device_time=batch[0].device_time,
                events=[entry.event() for entry in reversed(batch)],
            )
            answer = device.client.post(
                "/api/sync/push",
                content=msgspec.json.encode(request),
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 200, answer.text

    @rule(which=st.integers(0, DEVICES - 1))
    def pull(self, which: int) -> None:
        self.devices[which].engine().pull(limit=2)

    @precondition(lambda self: self.made < 6)
    @rule(which=st.integers(0, DEVICES - 1))
    def reimage(self, which: int) -> None:
        """A new store for the device (new install id, seq from 1), same credential; what
        the old store had not synced is gone with it."""
        old = self.devices[which]
        acked = {e.seq for e in old.store.outbox(limit=10**6) if e.state != "pending"}
        self.retired.append((self._device_id(old), old.store, acked))
        old.client.close()
        store = self._new_store()
        for key in (DEVICE_ID, CREDENTIAL, SERVER_URL):
            store.set_setting(key, old.store.setting(key))
        device = Device(store, AppTransport(self.world.app))
        self._open_bin(device)
        self.devices[which] = device

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def server_holds_each_seq_once_and_nothing_invented(self) -> None:
        for device in self.devices:
            store = device.store
            seqs, rows = self.world.server_seqs(self._device_id(device), store.install_id)
            assert rows == len(set(seqs)), "a seq stored twice"
            assert seqs == list(range(1, len(seqs) + 1)), "the stored seqs have a hole"
            assert len(seqs) <= store.last_seq(), "the server holds a seq the store never made"
            acked = {e.seq for e in store.outbox(limit=10**6) if e.state != "pending"}
            assert acked <= set(seqs), "acknowledged but not on the server"

    @invariant()
    def device_deletes_nothing(self) -> None:
        for device in self.devices:
            held = [e.seq for e in device.store.outbox(limit=10**6)]
            assert held == list(range(1, device.store.last_seq() + 1))

    @invariant()
    def cursor_moves_forward(self) -> None:
        for device in self.devices:
            now = device.store.pull_cursor()
            before = device.cursor
            if before is not None:
                assert now is not None
                if now.epoch == before.epoch:
                    assert now.change_seq >= before.change_seq
            device.cursor = now

    def teardown(self) -> None:
        try:
            if not hasattr(self, "world") or not self.devices:
                return
            for device in self.devices:
                report = device.engine().sync()
                assert device.store.outbox_summary()["pending"] == 0, report
                seqs, rows = self.world.server_seqs(
                    self._device_id(device), device.store.install_id
                )
                assert rows == len(seqs)
                assert seqs == list(range(1, device.store.last_seq() + 1))
                assert device.store.count(self.world.count) is not None
            for device_id, store, acked in self.retired:
                seqs, rows = self.world.server_seqs(device_id, store.install_id)
                assert rows == len(seqs) and acked <= set(seqs)
                assert set(seqs) <= set(range(1, store.last_seq() + 1))
        finally:
            for device in self.devices:
                device.close()
            for _, store, _ in self.retired:
                store.close()
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def world(database_url: str) -> Iterator[World]:
    asyncio.run(seed(database_url))
    app = create_app(Settings(database_url=database_url, log_level="WARNING"))
    with TestClient(app=app, base_url=BASE) as client, start_blocking_portal() as portal:
        db = portal.call(lambda: _engine(database_url))
        try:
            yield World(client, portal, db)
        finally:
            portal.call(db.dispose)


async def _engine(url: str) -> AsyncEngine:
    return make_engine(url)


def test_every_scan_reaches_the_server_exactly_once(database_url: str) -> None:
    with world(database_url) as shared:

        class OnThisDatabase(SyncMachine):
            world = shared

        run_state_machine_as_test(
            OnThisDatabase,
            settings=settings(
                max_examples=12,
                stateful_step_count=14,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
            ),
        )
