"""The sync engine honours Retry-After on 429 and 503: it waits what the server asks (in
seconds or as an HTTP date, read against the engine's clock), within a bound; past the
bound it stops instead of hammering. A real store; the server is an httpx MockTransport
whose answers the test lists, and sleep and clock are injected, so nothing waits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import msgspec
import pytest

from handheld_sync.errors import TransportError
from handheld_sync.store import Store
from handheld_sync.sync import DEVICE_ID, SyncEngine, retry_after
from schemas.sync import BinOpened, EventAck, PushRequest, PushResponse

NOW = datetime(2026, 12, 6, 23, 0, 0, tzinfo=UTC)


class Server:
    """Answers each push with the next status in `script`; 200 acknowledges the batch."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script: Iterator[tuple[int, dict[str, str]]] = iter(script)
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        status, headers = next(self.script)
        if status != 200:
            return httpx.Response(status, headers=headers, text="busy")
        sent = msgspec.json.decode(request.content, type=PushRequest)
        answer = PushResponse(
            protocol_version=1,
            server_epoch="e1",
            acks=[EventAck(seq=e.seq, outcome="applied") for e in sent.events],
            high_water=max((e.seq for e in sent.events), default=0),
        )
        return httpx.Response(200, content=msgspec.json.encode(answer), headers=headers)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.create(tmp_path / "store.sqlite3") as created:
        created.set_setting(DEVICE_ID, "7")
        created.append(BinOpened(count="SC-1", bin="MAIN-A01-01"))
        yield created


def engine(
    store: Store, server: Server, waits: list[float], max_retry_after: float = 30.0
) -> SyncEngine:
    client = httpx.Client(base_url="http://device.test", transport=httpx.MockTransport(server))
    return SyncEngine(
        store,
        client,
        compress=False,
        retries=3,
        backoff=0.5,
        sleep=waits.append,
        jitter=lambda: 1.0,
        clock=lambda: NOW,
        max_retry_after=max_retry_after,
    )


def test_a_429_with_retry_after_seconds_waits_that_long_then_sends(store: Store) -> None:
    server = Server([(429, {"Retry-After": "3"}), (200, {})])
    waits: list[float] = []
    report = engine(store, server, waits).push()
    assert waits == [3.0]  # not the 0.5 s backoff
    assert report.applied == 1 and server.requests == 2
    assert store.outbox_summary()["pending"] == 0


def test_a_503_with_an_http_date_waits_until_then_by_the_engine_clock(store: Store) -> None:
    later = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
    server = Server([(503, {"Retry-After": later}), (200, {})])
    waits: list[float] = []
    assert engine(store, server, waits).push().applied == 1
    assert waits == [7.0]


def test_a_wait_longer_than_the_bound_stops_the_sync_with_nothing_lost(store: Store) -> None:
    server = Server([(429, {"Retry-After": "120"}), (200, {})])
    waits: list[float] = []
    with pytest.raises(TransportError, match="asks to wait 120 s"):
        engine(store, server, waits, max_retry_after=30.0).push()
    assert waits == [] and server.requests == 1
    assert store.outbox_summary()["pending"] == 1


def test_without_a_readable_retry_after_the_backoff_applies(store: Store) -> None:
    server = Server(
        [(429, {}), (503, {"Retry-After": "soon"}), (502, {"Retry-After": "4"}), (200, {})]
    )
    waits: list[float] = []
    assert engine(store, server, waits).push().applied == 1
    # A 502's Retry-After is not one the engine honours: doubling backoff throughout.
    assert waits == [0.5, 1.0, 2.0]


def test_retry_after_reads_seconds_dates_and_nothing_else() -> None:
    def answer(status: int, value: str) -> httpx.Response:
        return httpx.Response(status, headers={"Retry-After": value})

    assert retry_after(answer(429, "0"), NOW) == 0.0
    assert retry_after(answer(503, "Sun, 06 Dec 2026 23:00:10 GMT"), NOW) == 10.0
    assert retry_after(answer(503, "Sun, 06 Dec 2026 22:59:00 GMT"), NOW) == 0.0  # past
    assert retry_after(answer(429, "-5"), NOW) is None
    assert retry_after(answer(429, ""), NOW) is None
    assert retry_after(answer(500, "3"), NOW) is None
