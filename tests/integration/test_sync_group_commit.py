"""Group commit of pushes (server/sync/group.py), on SQLite and PostgreSQL: many
devices pushing at once are written in shared transactions, every event stored exactly
once and answered only after its COMMIT; a failing push or a failing COMMIT takes no other
push down and leaves nothing half stored. The API uses the group writer on SQLite."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.sync import Event, PushRequest, PushResponse
from server.db.blocking import BlockingWriter
from server.db.engine import make_engine, make_sessionmaker
from server.domain.auth import Caller, CallerKind
from server.domain.sync import PushResult
from server.sync import usecases as sync
from server.sync.group import PushGroups
from server.sync.http import wire
from server.sync.ports import SyncUnitOfWork
from server.uow import SqlUnitOfWork
from tests.conftest import fresh_database
from tests.helpers import scalar
from tests.integration.counts_setup import Client
from tests.integration.test_sync_api import (
    Device,
    enroll_device,
    outcomes,
    serial,
    setup,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def scans(number: str, device: Device, first: int, count: int) -> list[Event]:
    return [
        Event(
            seq=s,
            device_time=T0,
            body=serial(number, "A-01", 1, f"D{device.id}-{device.install[:6]}-{s}"),
        )
        for s in range(first, first + count)
    ]


async def push(groups: PushGroups, caller: Caller, request: PushRequest) -> PushResponse:
    """A push through the group writer, mapped to and from the wire as the API does."""
    return wire.push_response(await groups.push(caller, wire.push_batch(request), T0))


def caller(device: Device, location_id: int) -> Caller:
    return Caller(
        CallerKind.DEVICE,
        f"device {device.id}",
        device_id=device.id,
        location_id=location_id,
        location_code="MAIN",
    )


# Where the group writer runs its transactions: on the caller's loop on both databases,
# and on SQLite also on the blocking writer thread, as the app runs it.
WHERE = [("sqlite", "loop"), ("sqlite", "writer thread"), ("postgres", "loop")]


@pytest.fixture(params=WHERE, ids=[f"{backend}-{where}" for backend, where in WHERE])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """conftest's fresh database, once per line of WHERE."""
    yield from fresh_database(request, request.param[0], tmp_path)


@pytest.fixture
def where(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["database_url"][1])


MakeGroups = Callable[..., PushGroups]


@pytest.fixture
async def make_groups(database_url: str, where: str) -> AsyncIterator[MakeGroups]:
    """PushGroups on this database, where the app runs them, with the bounds given."""
    if where == "writer thread":
        writer = BlockingWriter(database_url)
        try:
            yield lambda **bounds: PushGroups(
                lambda: SqlUnitOfWork.blocking(writer), runner=writer, **bounds
            )
        finally:
            await writer.close()
        return
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        yield lambda **bounds: PushGroups(lambda: SqlUnitOfWork(sessions), **bounds)
    finally:
        await engine.dispose()


@pytest.fixture
def groups(make_groups: MakeGroups) -> PushGroups:
    return make_groups()


class GroupSizes:
    """Records the size and the devices of every transaction `push_together` is asked to
    write, and the thread it ran on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        self.devices: list[list[int]] = []  # each transaction's devices, in its order
        self.threads: set[str] = set()
        real = sync.push_together

        async def recorded(uow: SyncUnitOfWork, pushes: Sequence[sync.Push]) -> list[PushResult]:
            self.sizes.append(len(pushes))
            self.devices.append([p.batch.device_id for p in pushes])
            self.threads.add(threading.current_thread().name)
            return await real(uow, pushes)

        monkeypatch.setattr(sync, "push_together", recorded)


async def devices(client: Client, database_url: str, n: int) -> tuple[str, list[Device], int]:
    hs, number = await setup(client, database_url)
    found = [await enroll_device(client, hs["admin"], f"hh-{i}") for i in range(n)]
    location = await scalar(database_url, "SELECT id FROM location WHERE code = 'MAIN'")
    return number, found, int(location)


def request(device: Device, events: list[Event]) -> PushRequest:
    return device.request(events, device_time=T0)


async def test_concurrent_pushes_share_transactions_and_are_stored_exactly_once(
    database_url: str,
    client: Client,
    groups: PushGroups,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    number, devs, location = await devices(client, database_url, 8)
    recorded = GroupSizes(monkeypatch)
    first = [(d, request(d, scans(number, d, 1, 50))) for d in devs]
    # Device 0 sends its batch twice at once (a retry while the first is queued), and its
    # next batch in the same wave: each in a later transaction, which sees the mark.
    again = [(devs[0], first[0][1]), (devs[0], request(devs[0], scans(number, devs[0], 51, 50)))]
    answers = await asyncio.gather(
        *(push(groups, caller(d, location), r) for d, r in [*first, *again])
    )
    assert max(recorded.sizes) > 1, recorded.sizes  # written in shared transactions
    on_writer = {t.startswith("sqlite-writer") for t in recorded.threads}
    assert on_writer == {where == "writer thread"}
    for answer in answers[: len(devs)]:
        assert set(outcomes(answer).values()) == {"applied"} and answer.high_water == 50
    assert set(outcomes(answers[-2]).values()) == {"duplicate"}
    assert set(outcomes(answers[-1]).values()) == {"applied"} and answers[-1].high_water == 100
    total = await scalar(database_url, "SELECT count(*) FROM sync_event")
    distinct = await scalar(
        database_url,
        "SELECT count(*) FROM (SELECT DISTINCT device_id, install_id, seq FROM sync_event) x",
    )
    assert total == distinct == 8 * 50 + 50
    marks = await scalar(database_url, "SELECT sum(high_water) FROM sync_install")
    assert marks == 7 * 50 + 100


async def test_a_failing_push_takes_no_other_push_of_its_group_down(
    database_url: str, client: Client, groups: PushGroups, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, devs, location = await devices(client, database_url, 6)
    bad = devs[3]
    real_store = sync._store

    async def store(*args: Any) -> PushResult:
        response = await real_store(*args)  # its events are taken, then it fails
        push = next(a for a in args if isinstance(a, sync.Push))
        if push.caller.device_id == bad.id:
            raise RuntimeError("this push breaks")
        return response

    monkeypatch.setattr(sync, "_store", store)
    recorded = GroupSizes(monkeypatch)
    answers = await asyncio.gather(
        *(push(groups, caller(d, location), request(d, scans(number, d, 1, 20))) for d in devs),
        return_exceptions=True,
    )
    assert recorded.sizes[0] == len(devs)  # tried together first
    for device, answer in zip(devs, answers, strict=True):
        if device is bad:
            assert isinstance(answer, RuntimeError)
        else:
            assert isinstance(answer, PushResponse) and answer.high_water == 20
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 5 * 20
    assert (
        await scalar(database_url, f"SELECT count(*) FROM sync_event WHERE device_id = {bad.id}")
        == 0
    )
    # The device sends again once the fault is gone: stored once.
    monkeypatch.setattr(sync, "_store", real_store)
    retried = await push(groups, caller(bad, location), request(bad, scans(number, bad, 1, 20)))
    assert set(outcomes(retried).values()) == {"applied"}
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 6 * 20


async def test_no_push_is_answered_before_its_commit(
    database_url: str, client: Client, groups: PushGroups, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, devs, location = await devices(client, database_url, 4)
    real_commit = SqlUnitOfWork.commit

    async def failing_commit(self: SqlUnitOfWork) -> None:
        raise OSError("disk I/O error at COMMIT")

    monkeypatch.setattr(SqlUnitOfWork, "commit", failing_commit)
    pushes = [(d, request(d, scans(number, d, 1, 10))) for d in devs]
    answers = await asyncio.gather(
        *(push(groups, caller(d, location), r) for d, r in pushes), return_exceptions=True
    )
    assert all(isinstance(a, OSError) for a in answers), answers
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 0
    assert await scalar(database_url, "SELECT coalesce(sum(high_water), 0) FROM sync_install") == 0
    monkeypatch.setattr(SqlUnitOfWork, "commit", real_commit)
    again = await asyncio.gather(*(push(groups, caller(d, location), r) for d, r in pushes))
    assert all(set(outcomes(a).values()) == {"applied"} for a in again)
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 4 * 10


async def test_a_group_takes_one_push_per_device_first_in_first_out(
    database_url: str, client: Client, groups: PushGroups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fairness: a device that sends again while its push waits (a retry, its next batch)
    takes one place in a group, not three; its later pushes wait for the next groups, in
    the order they came, and the other devices' pushes go in the order they came."""
    number, devs, location = await devices(client, database_url, 4)
    d0, d1, d2, d3 = devs
    recorded = GroupSizes(monkeypatch)
    batch1 = request(d0, scans(number, d0, 1, 50))
    wave = [
        (d0, batch1),
        (d1, request(d1, scans(number, d1, 1, 50))),
        (d0, batch1),  # the retry
        (d2, request(d2, scans(number, d2, 1, 50))),
        (d0, request(d0, scans(number, d0, 51, 50))),
        (d3, request(d3, scans(number, d3, 1, 50))),
    ]
    answers = await asyncio.gather(*(push(groups, caller(d, location), r) for d, r in wave))
    assert recorded.devices == [[d0.id, d1.id, d2.id, d3.id], [d0.id], [d0.id]]
    assert set(outcomes(answers[0]).values()) == {"applied"} and answers[0].high_water == 50
    assert set(outcomes(answers[2]).values()) == {"duplicate"} and answers[2].high_water == 50
    assert set(outcomes(answers[4]).values()) == {"applied"} and answers[4].high_water == 100
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 5 * 50


async def test_a_group_is_bounded_by_its_events_and_none_overtakes(
    database_url: str, client: Client, make_groups: MakeGroups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most `max_events` events a group: the push that does not fit waits at the head
    of the queue, and a smaller push behind it does not overtake it; a push larger than
    the bound still goes, alone."""
    groups = make_groups(max_events=100)
    number, devs, location = await devices(client, database_url, 5)
    recorded = GroupSizes(monkeypatch)
    sizes = [40, 40, 30, 20, 150]  # 40+40 fit; 30 would make 110; 30+20 fit; 150 alone
    answers = await asyncio.gather(
        *(
            push(groups, caller(d, location), request(d, scans(number, d, 1, n)))
            for d, n in zip(devs, sizes, strict=True)
        )
    )
    ids = [d.id for d in devs]
    assert recorded.devices == [ids[:2], ids[2:4], ids[4:]]
    assert [a.high_water for a in answers] == sizes
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == sum(sizes)


async def test_the_next_group_starts_after_the_commit_not_when_the_loop_is_free(
    database_url: str,
    client: Client,
    groups: PushGroups,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """On the writer thread the writer takes group after group itself: while the server's
    loop is held (decoding other pushes), the next group is written all the same, and its
    answer is waiting when the loop is free again. On the loop, it waits for the loop."""
    number, devs, location = await devices(client, database_url, 1)
    (d0,) = devs
    started: list[float] = []
    writing = threading.Event()
    real = sync.push_together

    async def recorded(uow: SyncUnitOfWork, pushes: Sequence[sync.Push]) -> list[PushResult]:
        started.append(time.monotonic())
        writing.set()
        return await real(uow, pushes)

    monkeypatch.setattr(sync, "push_together", recorded)
    # Two pushes of one device: two groups, one after the other.
    first = asyncio.ensure_future(
        push(groups, caller(d0, location), request(d0, scans(number, d0, 1, 20)))
    )
    second = asyncio.ensure_future(
        push(groups, caller(d0, location), request(d0, scans(number, d0, 21, 20)))
    )
    await asyncio.wait_for(asyncio.to_thread(writing.wait), 30)  # the first group is written
    time.sleep(1.0)  # noqa: ASYNC251 - the loop held (as by CPU work): no callback runs
    held_until = time.monotonic()
    answers = await asyncio.gather(first, second)
    assert [a.high_water for a in answers] == [20, 40]
    assert len(started) == 2
    if where == "writer thread":
        assert started[1] < held_until, started[1] - held_until
    else:
        assert started[1] >= held_until
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 40
