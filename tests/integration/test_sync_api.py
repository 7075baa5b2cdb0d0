"""The sync protocol through the API, on SQLite and PostgreSQL: exactly once, duplicates,
reordering, gaps, rejected events kept, idempotent bin counts, blind pulls, paging,
MessagePack, gzip, the version check, batch bounds, device status and staleness."""

from __future__ import annotations

import asyncio
import gzip
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import update

from schemas import PROTOCOL_VERSION
from schemas.sync import (
    MAX_PUSH_EVENTS,
    MEDIA_TYPE_MSGPACK,
    BinClosed,
    BinOpened,
    Event,
    EventBody,
    PullCursor,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    QuantityKeyed,
    ScanUndone,
    SerialScanned,
)
from server.db.engine import make_engine
from server.sync.tables import SyncInstall
from tests.helpers import enroll, scalar
from tests.integration.counts_setup import (
    Client,
    create_count,
    headers,
    lines,
    rows,
    seed,
    start,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Device:
    """An enrolled device as the API sees it: its id, headers and an install id."""

    def __init__(self, device_id: int, auth: dict[str, str]) -> None:
        self.id = device_id
        self.auth = auth
        self.install = uuid.uuid4().hex

    def request(self, events: list[Event], **extra: Any) -> PushRequest:
        return PushRequest(
            protocol_version=PROTOCOL_VERSION,
            device_id=self.id,
            install_id=self.install,
            device_time=extra.pop("device_time", T0),
            events=events,
            **extra,
        )


async def enroll_device(
    client: Client, admin: dict[str, str], name: str, location: str = "MAIN"
) -> Device:
    enrolled = await enroll(client, admin, name, location)
    return Device(enrolled.id, enrolled.headers)


D45 = Decimal("4.5")


def serial(number: str, label: str, bin_seq: int, serial: str, item: str = "SER") -> SerialScanned:
    return SerialScanned(
        count=number, bin=label, bin_seq=bin_seq, item=item, serial=serial, raw=serial
    )


def ev(seq: int, body: EventBody, minutes: int = 0) -> Event:
    return Event(seq=seq, device_time=T0 + timedelta(minutes=minutes, seconds=seq), body=body)


def bin_events(
    number: str, label: str, first: int, scans: list[EventBody | tuple[str, str]]
) -> list[Event]:
    """BinOpened at `first`, the scans after it, BinClosed last. A tuple is a serial."""
    events = [ev(first, BinOpened(count=number, bin=label))]
    seq = first
    for scan in scans:
        seq += 1
        if isinstance(scan, tuple):
            scan = SerialScanned(
                count=number, bin=label, bin_seq=first, item=scan[0], serial=scan[1], raw=scan[1]
            )
        events.append(ev(seq, scan))
    events.append(ev(seq + 1, BinClosed(count=number, bin=label, bin_seq=first)))
    return events


async def push(client: Client, device: Device, request: PushRequest, **kw: Any) -> PushResponse:
    response = await client.post(
        "/api/sync/push",
        content=msgspec.json.encode(request),
        headers={**device.auth, "Content-Type": "application/json", **kw.pop("headers", {})},
    )
    assert response.status_code == 200, response.text
    return msgspec.json.decode(response.content, type=PushResponse)


async def pull(
    client: Client, device: Device, cursor: PullCursor | None, limit: int = 1000
) -> PullResponse:
    request = PullRequest(
        protocol_version=PROTOCOL_VERSION,
        device_id=device.id,
        install_id=device.install,
        cursor=cursor,
        limit=limit,
    )
    response = await client.post(
        "/api/sync/pull",
        content=msgspec.json.encode(request),
        headers={**device.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return msgspec.json.decode(response.content, type=PullResponse)


async def setup(client: Client, database_url: str, **count: Any) -> tuple[dict[str, Any], str]:
    await seed(database_url)
    hs = await headers(client)
    number = await create_count(client, hs["super"], **count)
    await start(client, hs["super"], number)
    return hs, number


def outcomes(response: PushResponse) -> dict[int, str]:
    return {a.seq: a.outcome for a in response.acks}


async def test_a_batch_is_stored_once_and_acknowledged_per_event(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    events = bin_events(number, "A-01", 1, [("SER", "S1"), ("SER", "S2")])
    first = await push(client, dev, dev.request(events, queue_depth=0))
    assert outcomes(first) == {1: "applied", 2: "applied", 3: "applied", 4: "applied"}
    assert first.high_water == 4 and first.expected_seq is None and first.server_epoch
    # The same batch again (the acknowledgement was lost): all duplicates, nothing doubled.
    again = await push(client, dev, dev.request(events))
    assert outcomes(again) == {1: "duplicate", 2: "duplicate", 3: "duplicate", 4: "duplicate"}
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 4
    assert await scalar(database_url, "SELECT count(*) FROM bin_count") == 1
    assert await scalar(database_url, "SELECT count(*) FROM bin_count_serial") == 2
    counted = await rows(database_url, "SELECT serial_number FROM bin_count_serial ORDER BY 1")
    assert counted == [("S1",), ("S2",)]
    assert await lines(client, hs["super"], number)  # the reconciliation reads the bin count


async def test_reordered_batch_is_sorted_and_a_gap_answers_the_expected_seq(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    scans: list[EventBody | tuple[str, str]] = [("SER", "S1"), ("SER", "S2"), ("SER", "S3")]
    events = bin_events(number, "A-01", 1, [*scans, ("SER", "S9")])
    # Reordered inside the batch: the server orders by seq.
    first = await push(client, dev, dev.request([events[2], events[0], events[1]]))
    assert outcomes(first) == {1: "applied", 2: "applied", 3: "applied"}
    # A batch that starts past the next seq: nothing stored, send from 4.
    gap = await push(client, dev, dev.request([events[4], events[5]]))
    assert gap.acks == [] and gap.expected_seq == 4 and gap.high_water == 3
    # A hole inside a batch: applied up to it, nothing after it.
    hole = await push(client, dev, dev.request([events[3], events[5]]))
    assert outcomes(hole) == {4: "applied"} and hole.expected_seq == 5
    assert await scalar(database_url, "SELECT max(seq) FROM sync_event") == 4
    rest = await push(client, dev, dev.request(events[4:]))
    assert outcomes(rest) == {5: "applied", 6: "applied"} and rest.high_water == 6
    assert await scalar(database_url, "SELECT count(*) FROM bin_count") == 1


async def test_undone_scans_quantities_and_an_empty_bin_make_the_bin_counts(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    events = [
        ev(1, BinOpened(count=number, bin="A-01")),
        ev(2, serial(number, "A-01", 1, "S1")),
        ev(3, serial(number, "A-01", 1, "S9")),
        ev(4, ScanUndone(count=number, bin="A-01", bin_seq=1, target_seq=3)),
        ev(5, QuantityKeyed(count=number, bin="A-01", bin_seq=1, item="BOLT", quantity=Decimal(3))),
        ev(6, QuantityKeyed(count=number, bin="A-01", bin_seq=1, item="BOLT", quantity=D45)),
        ev(7, BinClosed(count=number, bin="A-01", bin_seq=1)),
        ev(8, BinOpened(count=number, bin="A-03")),
        ev(9, BinClosed(count=number, bin="A-03", bin_seq=8, confirmed_empty=True)),
    ]  # fmt: skip
    # Sent in two batches: the bin's earlier events come from the database.
    assert set(outcomes(await push(client, dev, dev.request(events[:4]))).values()) == {"applied"}
    assert set(outcomes(await push(client, dev, dev.request(events[4:]))).values()) == {"applied"}
    serials = await rows(database_url, "SELECT serial_number FROM bin_count_serial")
    assert serials == [("S1",)]
    quantity = await scalar(database_url, "SELECT quantity FROM bin_count_quantity")
    assert quantity == 75_000  # 7.5 in 1/10,000
    assert await scalar(database_url, "SELECT count(*) FROM bin_count") == 2
    counter = await scalar(database_url, "SELECT DISTINCT counter FROM bin_count")
    assert counter == f"device:{dev.id}"


async def test_rejected_events_are_kept_and_listed_for_supervisors(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    other = await create_count(client, hs["super"])  # still Open
    events = [
        ev(1, BinOpened(count=number, bin="B-01")),  # outside the count
        ev(2, BinOpened(count=other, bin="A-01")),  # not started
        ev(3, BinOpened(count="SC-NOPE", bin="A-01")),
        ev(4, BinOpened(count=number, bin="A-02")),
        ev(5, SerialScanned(count=number, bin="A-02", bin_seq=4, item="NOPE", serial="X", raw="X")),
        ev(6, BinClosed(count=number, bin="A-02", bin_seq=4)),  # unknown item: the rules refuse
    ]
    response = await push(client, dev, dev.request(events))
    reasons = {a.seq: (a.outcome, a.reason) for a in response.acks}
    assert reasons[1] == ("rejected", "bin_outside_scope")
    assert reasons[2] == ("rejected", "count_not_started")
    assert reasons[3] == ("rejected", "count_unknown")
    assert reasons[4] == ("applied", "") and reasons[5] == ("applied", "")
    assert reasons[6][0] == "rejected" and reasons[6][1] == "validation"
    assert response.high_water == 6  # rejected events are stored: no gap
    assert await scalar(database_url, "SELECT count(*) FROM bin_count") == 0
    # Cancel the count: later scans are rejected as such, and kept.
    cancel = await client.post(f"/api/counts/{number}/cancel", headers=hs["super"])
    assert cancel.status_code == 200, cancel.text
    late = await push(client, dev, dev.request([ev(7, BinOpened(count=number, bin="A-01"))]))
    assert late.acks[0].reason == "count_cancelled"
    listed = await client.get("/api/sync/rejected", params={"limit": 3}, headers=hs["super"])
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [e["seq"] for e in page["items"]] == [1, 2, 3] and page["next_cursor"]
    rest = await client.get(
        "/api/sync/rejected", params={"cursor": page["next_cursor"]}, headers=hs["super"]
    )
    assert [e["reason"] for e in rest.json()["items"]] == ["validation", "count_cancelled"]
    assert rest.json()["items"][1]["body"]["kind"] == "bin_opened"
    by_count = await client.get("/api/sync/rejected", params={"count": other}, headers=hs["super"])
    assert [e["seq"] for e in by_count.json()["items"]] == [2]
    # Counters and devices may not list them.
    assert (await client.get("/api/sync/rejected", headers=hs["counter"])).status_code == 403
    assert (await client.get("/api/sync/rejected", headers=dev.auth)).status_code == 403
    # A duplicate of a rejected event says why it was rejected.
    again = await push(client, dev, dev.request(events[:1]))
    assert again.acks[0].outcome == "duplicate" and again.acks[0].reason == "bin_outside_scope"


async def test_a_device_writes_only_for_its_own_site_and_its_own_id(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    other = await enroll_device(client, hs["admin"], "hh-2")
    response = await client.post(
        "/api/sync/push",
        content=msgspec.json.encode(other.request([ev(1, BinOpened(count=number, bin="A-01"))])),
        headers={**dev.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 403, response.text
    as_user = await client.post(
        "/api/sync/push",
        content=msgspec.json.encode(dev.request([])),
        headers={**hs["super"], "Content-Type": "application/json"},
    )
    assert as_user.status_code == 403


async def test_replayed_bin_close_never_makes_a_second_bin_count(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    events = bin_events(number, "A-01", 1, [("SER", "S1")])
    await push(client, dev, dev.request(events))
    # A buggy device closes the same bin count again under a new seq: refused, kept.
    again = await push(
        client, dev, dev.request([ev(4, BinClosed(count=number, bin="A-01", bin_seq=1))])
    )
    assert again.acks[0].outcome == "rejected" and again.acks[0].reason == "bin_already_closed"
    # A re-imaged device (new install) starts at seq 1 again: not a replay.
    dev.install = uuid.uuid4().hex
    fresh = await push(client, dev, dev.request(bin_events(number, "A-02", 1, [("SER", "S3")])))
    assert set(outcomes(fresh).values()) == {"applied"}
    assert await scalar(database_url, "SELECT count(*) FROM bin_count") == 2
    assert await scalar(database_url, "SELECT count(*) FROM sync_install") == 2


async def test_pull_pages_by_change_seq_and_blind_counts_reveal_nothing(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url, blind=True)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    pages: list[PullResponse] = []
    cursor = None
    while True:
        page = await pull(client, dev, cursor, limit=3)
        pages.append(page)
        assert cursor is None or page.cursor.change_seq > cursor.change_seq
        cursor = page.cursor
        if not page.has_more:
            break
    assert pages[0].reset and not any(p.reset for p in pages[1:])
    items = {i.code for p in pages for i in p.items}
    bins = {b.label for p in pages for b in p.bins}
    counts = [c for p in pages for c in p.counts]
    assert items == {"SER", "AUTO", "BOLT", "LOTI"}
    assert bins == {"A-01", "A-02", "A-03", "B-01", "OUT-1"}
    assert [c.count for c in counts] == [number] and counts[0].blind
    assert counts[0].bins == ["A-01", "A-02", "A-03"]
    assert counts[0].expected_serials == [] and counts[0].expected_quantities == []
    # The raw answer carries no expected serial or quantity either.
    raw = await client.post(
        "/api/sync/pull",
        content=msgspec.json.encode(
            PullRequest(protocol_version=1, device_id=dev.id, install_id=dev.install)
        ),
        headers={**dev.auth, "Content-Type": "application/json"},
    )
    assert b'"S1"' not in raw.content and b'"quantity"' not in raw.content
    assert b'"expected_serials":[],"expected_quantities":[]' in raw.content
    # Nothing changed: an empty page with the same cursor.
    same = await pull(client, dev, cursor)
    assert same.counts == same.items == [] and same.cursor == cursor and not same.reset
    # A new (not blind) count is granted: the next pull has it, with what it expects.
    seen = await create_count(client, hs["super"])
    await start(client, hs["super"], seen)
    granted = await pull(client, dev, cursor)
    assert [c.count for c in granted.counts] == [
        seen
    ] and granted.cursor.change_seq > cursor.change_seq
    expected = {(s.item, s.serial, s.bin) for s in granted.counts[0].expected_serials}
    assert expected == {("SER", "S1", "A-01"), ("SER", "S2", "A-01"), ("SER", "S3", "A-02")}
    assert {(q.item, q.bin, str(q.quantity)) for q in granted.counts[0].expected_quantities} == {
        ("BOLT", "A-01", "10"),
        ("LOTI", "A-02", "5"),
    }
    # Cancelled: the count is withdrawn (active=False), once.
    await client.post(f"/api/counts/{seen}/cancel", headers=hs["super"])
    withdrawn = await pull(client, dev, granted.cursor)
    assert [(c.count, c.active) for c in withdrawn.counts] == [(seen, False)]
    # A recount order reaches the device as a recount record.
    recount = await client.post(
        f"/api/counts/{number}/recounts",
        json={"bins": ["A-02"], "reason": "again"},
        headers=hs["super"],
    )
    assert recount.status_code in (200, 201), recount.text
    orders = await pull(client, dev, withdrawn.cursor)
    assert [(r.count, r.bin, r.reason, r.active) for r in orders.recounts] == [
        (number, "A-02", "again", True)
    ]


async def pull_all(client: Client, device: Device, cursor: PullCursor | None) -> PullResponse:
    """Every page after `cursor`, merged into one."""
    merged: PullResponse | None = None
    while True:
        page = await pull(client, device, cursor)
        if merged is None:
            merged = page
        else:
            merged.counts += page.counts
            merged.recounts += page.recounts
            merged.cursor, merged.has_more = page.cursor, page.has_more
        cursor = page.cursor
        if not page.has_more:
            return merged


async def test_a_count_assigned_to_devices_goes_only_to_them(
    database_url: str, client: Client
) -> None:
    hs, everyone = await setup(client, database_url)  # no device assignment: every device
    one = await enroll_device(client, hs["admin"], "hh-1")
    two = await enroll_device(client, hs["admin"], "hh-2")
    first = {d.id: await pull_all(client, d, None) for d in (one, two)}
    for page in first.values():
        assert [(c.count, c.active) for c in page.counts] == [(everyone, True)]
    # A count with a bin assigned to device one: granted to one, whole; withheld from two.
    mine = await create_count(
        client, hs["super"], assignments=[{"bin": "A-01", "device_id": one.id}]
    )
    await start(client, hs["super"], mine)
    granted = await pull_all(client, one, first[one.id].cursor)
    assert [(c.count, c.active) for c in granted.counts] == [(mine, True)]
    count = granted.counts[0]
    assert count.bins == ["A-01", "A-02", "A-03"]
    assert {(s.serial, s.bin) for s in count.expected_serials} == {
        ("S1", "A-01"),
        ("S2", "A-01"),
        ("S3", "A-02"),
    }
    assert {(q.item, str(q.quantity)) for q in count.expected_quantities} == {
        ("BOLT", "10"),
        ("LOTI", "5"),
    }
    withheld = await pull_all(client, two, first[two.id].cursor)
    assert [(c.count, c.active, c.bins) for c in withheld.counts] == [(mine, False, [])]
    assert withheld.counts[0].expected_serials == []
    # From scratch, too: two gets the shared count, and the assigned one only withdrawn.
    fresh = await pull_all(client, two, None)
    assert {(c.count, c.active) for c in fresh.counts} == {(everyone, True), (mine, False)}
    raw = await client.post(
        "/api/sync/pull",
        content=msgspec.json.encode(
            PullRequest(protocol_version=PROTOCOL_VERSION, device_id=two.id, install_id=two.install)
        ),
        headers={**two.auth, "Content-Type": "application/json"},
    )
    assert raw.status_code == 200 and b'"S1"' in raw.content  # the shared count's serials
    assert raw.content.count(b'"S1"') == 1  # ... and not the assigned count's
    # Its recount orders follow the count.
    ordered = await client.post(
        f"/api/counts/{mine}/recounts",
        json={"bins": ["A-02"], "reason": "again"},
        headers=hs["super"],
    )
    assert ordered.status_code in (200, 201), ordered.text
    to_one = await pull_all(client, one, granted.cursor)
    to_two = await pull_all(client, two, withheld.cursor)
    assert [(r.count, r.active) for r in to_one.recounts] == [(mine, True)]
    assert [(r.count, r.active) for r in to_two.recounts] == [(mine, False)]


async def test_an_unknown_epoch_or_a_cursor_from_the_future_resets(
    database_url: str, client: Client
) -> None:
    hs, _ = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    first = await pull(client, dev, None)
    other = await pull(client, dev, PullCursor(epoch="f" * 32, change_seq=3))
    assert other.reset and other.cursor.epoch == first.cursor.epoch
    future = await pull(client, dev, PullCursor(epoch=first.cursor.epoch, change_seq=10_000))
    assert future.reset and future.cursor == first.cursor  # the same epoch: a reset for it
    assert len(future.items) == 4


async def test_no_device_upsets_another_by_what_it_claims(
    database_url: str, client: Client
) -> None:
    """Three devices; one lies about its acks and its cursor (a new install that never
    pushed, claiming seq 40 acknowledged and changes never made). It is told only what
    concerns it; the two others push and pull on as if it did not exist."""
    hs, number = await setup(client, database_url)
    one, two, liar = [await enroll_device(client, hs["admin"], f"hh-{i}") for i in (1, 2, 3)]
    cursors = {d.id: (await pull(client, d, None)).cursor for d in (one, two)}
    first = await push(client, one, one.request(bin_events(number, "A-01", 1, [("SER", "S1")])))
    assert set(outcomes(first).values()) <= {"applied"} and first.high_water == 3

    claimed = await push(client, liar, liar.request([], acked_seq=40))
    assert claimed.high_water == 0 and claimed.server_epoch == first.server_epoch
    ahead = PullCursor(epoch=first.server_epoch, change_seq=10_000)
    told = await pull(client, liar, ahead)
    assert told.reset and told.cursor.epoch == first.server_epoch

    for dev in (one, two):
        page = await pull(client, dev, cursors[dev.id])
        assert not page.reset and page.cursor.epoch == cursors[dev.id].epoch
    again = await push(client, one, one.request([], acked_seq=3))
    assert again.server_epoch == first.server_epoch and again.high_water == 3
    second = await push(client, two, two.request(bin_events(number, "A-02", 1, [("SER", "S3")])))
    assert second.server_epoch == first.server_epoch and second.high_water == 3


async def test_new_epoch_command_makes_every_device_reset(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    first = await pull(client, dev, None)
    assert (await pull(client, dev, first.cursor)).reset is False
    done = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "stockcount"),
        "sync",
        "new-epoch",
        env={**os.environ, "STOCKCOUNT_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await done.communicate()
    assert done.returncode == 0, err.decode()
    epoch = out.decode().split()[4].rstrip(":")
    assert epoch != first.cursor.epoch and f"sync epoch is now {epoch}" in out.decode()
    again = await pull(client, dev, first.cursor)
    assert again.reset and again.cursor.epoch == epoch
    assert [c.count for c in again.counts] == [number]  # everything again
    answer = await push(client, dev, dev.request([ev(1, BinOpened(count=number, bin="A-01"))]))
    assert answer.server_epoch == epoch


async def test_msgpack_and_gzip_both_ways(database_url: str, client: Client) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    request = dev.request(bin_events(number, "A-01", 1, [("SER", "S1")]))
    response = await client.post(
        "/api/sync/push",
        content=gzip.compress(msgspec.msgpack.encode(request)),
        headers={
            **dev.auth,
            "Content-Type": MEDIA_TYPE_MSGPACK,
            "Content-Encoding": "gzip",
            "Accept": MEDIA_TYPE_MSGPACK,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE_MSGPACK)
    decoded = msgspec.msgpack.decode(response.content, type=PushResponse)
    assert outcomes(decoded) == {1: "applied", 2: "applied", 3: "applied"}
    page = await client.post(
        "/api/sync/pull",
        content=msgspec.msgpack.encode(
            PullRequest(protocol_version=1, device_id=dev.id, install_id=dev.install)
        ),
        headers={
            **dev.auth,
            "Content-Type": MEDIA_TYPE_MSGPACK,
            "Accept": MEDIA_TYPE_MSGPACK,
            "Accept-Encoding": "gzip",
        },
    )
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    assert len(msgspec.msgpack.decode(page.content, type=PullResponse).items) == 4
    # A body that says gzip but is not: a 400 problem.
    broken = await client.post(
        "/api/sync/push",
        content=b"not gzip",
        headers={**dev.auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert (
        broken.status_code == 400 and broken.headers["content-type"] == "application/problem+json"
    )
    # A second gzip member is refused, not silently dropped: nothing of either is stored.
    scan = msgspec.json.encode(dev.request([ev(4, BinOpened(count=number, bin="A-01"))]))
    json_gzip = {**dev.auth, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    two = await client.post(
        "/api/sync/push", content=gzip.compress(scan) + gzip.compress(scan), headers=json_gzip
    )
    assert two.status_code == 400, two.text
    assert "more than one member" in two.json()["detail"]
    one = await client.post("/api/sync/push", content=gzip.compress(scan), headers=json_gzip)
    assert one.status_code == 200 and one.json()["acks"][0]["outcome"] == "applied", one.text


async def test_version_check_and_batch_bounds(database_url: str, client: Client) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    future = msgspec.json.encode({"protocol_version": 99, "something": "new"})
    response = await client.post(
        "/api/sync/push", content=future, headers={**dev.auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 426, response.text
    problem = response.json()
    assert problem["code"] == "protocol_version_unsupported"
    assert "update the handheld app" in problem["detail"]
    too_many = dev.request(
        [ev(i, BinOpened(count=number, bin="A-01")) for i in range(1, MAX_PUSH_EVENTS + 2)]
    )
    response = await client.post(
        "/api/sync/push",
        content=msgspec.json.encode(too_many),
        headers={**dev.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "at most" in response.json()["detail"]
    huge = gzip.compress(b"{" + b" " * 2_000_000 + b"}")
    response = await client.post(
        "/api/sync/push",
        content=huge,
        headers={**dev.auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413 and response.json()["code"] == "too-large"
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 0


@pytest.mark.parametrize("msgpack", [False, True])
async def test_a_malformed_code_in_any_event_refuses_the_whole_batch(
    database_url: str, client: Client, msgpack: bool
) -> None:
    """The codes of event bodies are checked once per distinct value of a push, not by the
    decoder per field (schemas.sync.event_code_problem): the answer names the first bad
    one as the decoder would, and nothing of the batch is stored."""
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    good = [
        ev(1, BinOpened(count=number, bin="A-01")),
        ev(2, serial(number, "A-01", 1, "S1")),
    ]
    cases = [
        ([*good, ev(3, serial(number, "A-01", 1, "S2", item="SER 2"))], "$.events[2].body.item"),
        ([ev(1, BinOpened(count="SC/../", bin="A-01")), *good[1:]], None),
        ([ev(1, BinOpened(count=" SC1", bin="A-01")), *good[1:]], "$.events[0].body.count"),
        ([*good, ev(3, ScanUndone(count="-x", bin="A-01", bin_seq=1, target_seq=2))],
         "$.events[2].body.count"),
    ]  # fmt: skip
    kind = "application/x-msgpack" if msgpack else "application/json"
    encode = msgspec.msgpack.encode if msgpack else msgspec.json.encode
    for events, where in cases:
        response = await client.post(
            "/api/sync/push",
            content=encode(dev.request(events)),
            headers={**dev.auth, "Content-Type": kind},
        )
        if where is None:  # "SC/../" is a Code (letters, digits, . _ / -): no such count
            assert response.status_code == 200, response.text
            continue
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "validation"
        assert f"at `{where}`" in problem["detail"] and "matching regex" in problem["detail"]
    stored = await scalar(database_url, "SELECT count(*) FROM sync_event")
    assert stored == 2  # only the batch with valid codes (its count unknown: rejected, kept)


@pytest.mark.parametrize("stale_minutes", [30])
async def test_device_status_and_staleness(
    database_url: str, client: Client, stale_minutes: int
) -> None:
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    idle = await enroll_device(client, hs["admin"], "hh-idle")
    now = datetime.now(UTC)
    await push(
        client,
        dev,
        dev.request(
            [ev(1, BinOpened(count=number, bin="A-01"))],
            device_time=now - timedelta(minutes=2),
            app_version="1.2.3",
            queue_depth=7,
        ),
    )
    response = await client.get("/api/devices/status", headers=hs["super"])
    assert response.status_code == 200, response.text
    status = {d["name"]: d for d in response.json()["items"]}
    assert response.json()["stale_after_minutes"] == stale_minutes
    mine = status["hh-1"]
    assert mine["last_seq"] == 1 and mine["queue_depth"] == 7 and mine["app_version"] == "1.2.3"
    assert 100_000 <= mine["clock_skew_ms"] <= 200_000  # the device clock is 2 minutes behind
    assert mine["install_id"] == dev.install and not mine["stale"]
    assert status["hh-idle"]["stale"] and status["hh-idle"]["last_seen_at"] is None
    assert idle.id == status["hh-idle"]["device_id"]
    # Last seen longer ago than the limit: stale.
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(SyncInstall).values(last_seen_at=now - timedelta(minutes=stale_minutes + 1))
            )
    finally:
        await engine.dispose()
    again = await client.get("/api/devices/status", headers=hs["super"])
    assert {d["name"]: d["stale"] for d in again.json()["items"]} == {"hh-1": True, "hh-idle": True}
    assert (await client.get("/api/devices/status", headers=dev.auth)).status_code == 403


@pytest.mark.parametrize("msgpack", [False, True])
async def test_a_quantity_sent_as_a_number_or_past_exact_arithmetic_refuses_the_batch(
    database_url: str, client: Client, msgpack: bool
) -> None:
    """Quantities are decimal strings in every protocol version (docs/PROTOCOL.md): a number
    (JSON, or a MessagePack float, which is binary) is refused with 422 naming the field, as
    are decimals past exact arithmetic and NUL in text; nothing of the batch is stored."""
    hs, number = await setup(client, database_url)
    dev = await enroll_device(client, hs["admin"], "hh-1")
    keyed = QuantityKeyed(count=number, bin="A-01", bin_seq=1, item="BOLT", quantity=D45)
    events = [ev(1, BinOpened(count=number, bin="A-01")), ev(2, keyed)]
    as_sent = msgspec.to_builtins(dev.request(events))
    kind = "application/x-msgpack" if msgpack else "application/json"
    encode = msgspec.msgpack.encode if msgpack else msgspec.json.encode
    at = "$.events[1].body.quantity"
    cases: list[tuple[Any, str, str]] = [
        (4.5, at, "a decimal is sent as a string"),
        (4, at, "a decimal is sent as a string"),
        (0, at, "a decimal is sent as a string"),
        ("1e400", "events[1].body.quantity", "is too large"),
        ("1" * 25, "events[1].body.quantity", "is too large"),
        ("NaN", "events[1].body.quantity", "finite"),
    ]
    for quantity, where, message in cases:
        as_sent["events"][1]["body"]["quantity"] = quantity
        response = await client.post(
            "/api/sync/push", content=encode(as_sent), headers={**dev.auth, "Content-Type": kind}
        )
        assert response.status_code == 422, (quantity, response.text)
        problem = response.json()
        assert problem["code"] == "validation", problem
        assert where in problem["detail"] and message in problem["detail"], problem
    as_sent["events"][1]["body"]["quantity"] = "4.5"
    as_sent["events"][1]["body"]["raw"] = "]C1\x00"
    response = await client.post(
        "/api/sync/push", content=encode(as_sent), headers={**dev.auth, "Content-Type": kind}
    )
    assert response.status_code == 422 and "NUL" in response.json()["detail"], response.text
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 0
    # The same batch with the quantity as a string is stored, exactly.
    as_sent["events"][1]["body"]["raw"] = ""
    response = await client.post(
        "/api/sync/push", content=encode(as_sent), headers={**dev.auth, "Content-Type": kind}
    )
    assert response.status_code == 200, response.text
    assert await scalar(database_url, "SELECT count(*) FROM sync_event") == 2
