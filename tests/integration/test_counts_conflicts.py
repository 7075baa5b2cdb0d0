"""Seed 000 to the letter, on SQLite and PostgreSQL: a conflict never vanishes into a
finalize, counts of different counters are compared whenever they were made, agreeing
counts confirm each other, the count moves to Counted by itself, and the review shows the
Stock Count profile per item and bin with names of who counted."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from tests.helpers import enroll
from tests.integration.counts_setup import (
    Client,
    bin_count,
    create_count,
    headers,
    seed,
    start,
)

ALL_A01 = [("SER", "S1"), ("SER", "S2")]
BOLTS = [("BOLT", "", "10")]


async def _count(client: Client, h: dict[str, str], number: str) -> dict[str, Any]:
    r = await client.get(f"/api/counts/{number}", headers=h)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _recon(client: Client, h: dict[str, str], number: str) -> dict[str, Any]:
    r = await client.get(f"/api/counts/{number}/reconciliation", headers=h)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _events(client: Client, h: dict[str, str], number: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/counts/{number}/events", headers=h)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_conflict_stops_finalize_in_every_status_until_picked(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    dev1 = (await enroll(client, hs["admin"], "HH-01")).headers
    dev2 = (await enroll(client, hs["admin"], "HH-02")).headers
    number = await create_count(client, sup)
    await start(client, sup, number)
    # Two devices count A-02 an hour apart and disagree (6 and 4): a conflict, whatever
    # the times; the later count does not replace the earlier one.
    six = await bin_count(client, dev1, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "6")])
    await bin_count(client, dev2, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "4")], at=60)
    body = await _recon(client, sup, number)
    (conflict,) = body["conflicts"]
    assert conflict["bin"] == "A-02"
    details = {d["device"]: d for d in conflict["bin_counts"]}
    assert set(details) == {"HH-01", "HH-02"}  # device names, not device:1
    assert conflict["counters"] == ["HH-01", "HH-02"]
    assert details["HH-01"]["id"] == six["id"]
    assert details["HH-01"]["quantities"] == [{"item": "LOTI", "quantity": "6", "lot": "L1"}]
    assert details["HH-02"]["quantities"][0]["quantity"] == "4"
    assert details["HH-01"]["serials"] == [{"item": "SER", "serial": "S3"}]
    assert details["HH-02"]["started_at"].startswith("2026-11-20T09:00")
    # Counting in Process, confirmed: refused, naming the bin; nothing changes.
    r = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert r.status_code == 409 and r.json()["code"] == "unresolved-conflicts", r.text
    assert "A-02" in r.json()["detail"]
    assert [e["location"] for e in r.json()["errors"]] == ["bins/A-02"]
    assert (await _count(client, sup, number))["status"] == "counting_in_process"
    # Counted (the supervisor says so): refused all the same.
    r = await client.post(f"/api/counts/{number}/counted", json={"override": True}, headers=sup)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/counts/{number}/finalize", headers=sup)
    assert r.status_code == 409 and r.json()["code"] == "unresolved-conflicts"
    docs = await client.get(f"/api/counts/{number}/documents", headers=sup)
    assert docs.json()["items"] == []
    # The supervisor picks the count of 6 (the pick takes the id the conflict shows).
    r = await client.post(
        f"/api/counts/{number}/pick",
        json={"bin": "A-02", "bin_count_id": details["HH-01"]["id"]},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    body = await _recon(client, sup, number)
    assert body["conflicts"] == []
    (line,) = [x for x in body["lines"] if x["item"] == "LOTI"]
    assert line["adjustment_quantity"] == "1"  # 6 counted, 5 on hand
    r = await client.put("/api/locations/MAIN/tolerances", json={"quantity": "1"}, headers=sup)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/counts/{number}/finalize", headers=sup)
    assert r.status_code == 200, r.text
    kinds = [e["kind"] for e in await _events(client, sup, number)]
    assert kinds == ["started", "counted", "conflict_resolved", "completed"]


async def test_a_serial_scanned_in_two_bins_stops_finalize(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, hs["counter"], number, "A-01", ALL_A01, BOLTS)
    await bin_count(client, hs["counter"], number, "A-03", [("SER", "S1")])
    r = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert r.status_code == 409 and r.json()["code"] == "unresolved-conflicts", r.text
    assert "A-01, A-03" in r.json()["detail"]


async def test_agreeing_counts_confirm_each_other(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, hs["counter"], number, "A-01", [("SER", "S1")], BOLTS)
    second = await bin_count(client, hs["super2"], number, "A-01", [("SER", "S1")], BOLTS, at=90)
    body = await _recon(client, sup, number)
    assert body["conflicts"] == [] and body["confirmed_bins"] == ["A-01"]
    (missing,) = body["lines"]
    assert missing["serial"] == "S2"
    refs = {(b["counter"], b["standing"]) for b in missing["bin_counts"]}
    assert refs == {("super2", "effective"), ("counter", "confirming")}
    assert any(b["id"] == second["id"] for b in missing["bin_counts"])


async def test_the_same_counter_counting_again_replaces_their_count(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, hs["counter"], number, "A-01", [], BOLTS)
    await bin_count(client, hs["counter"], number, "A-01", ALL_A01, BOLTS, at=30)
    body = await _recon(client, sup, number)
    assert body["conflicts"] == [] and body["lines"] == []


async def test_the_count_moves_to_counted_by_itself(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup, counter = hs["super"], hs["counter"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, counter, number, "A-01", ALL_A01, BOLTS)
    # A conflict in A-02 keeps it Counting in Process even when every bin has a count.
    await bin_count(client, counter, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "5")])
    await bin_count(client, hs["super2"], number, "A-02", [], [("LOTI", "L1", "5")], at=20)
    await bin_count(client, counter, number, "A-03")
    assert (await _count(client, sup, number))["status"] == "counting_in_process"
    # A recount ordered for A-02 waits for its count; then the last bin makes it Counted.
    r = await client.post(f"/api/counts/{number}/recounts", json={"bins": ["A-02"]}, headers=sup)
    assert r.status_code == 200, r.text
    assert (await _count(client, sup, number))["status"] == "counting_in_process"
    await bin_count(
        client, counter, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "5")],
        started=datetime.now(UTC),
    )  # fmt: skip
    count = await _count(client, sup, number)
    assert count["status"] == "counted" and count["counted_at"] is not None
    events = await _events(client, sup, number)
    assert [e["kind"] for e in events] == ["started", "recount_ordered", "counted"]
    assert events[-1]["user"] is None and "A-02" in events[-1]["detail"]
    # Finalize runs from Counted without confirmation (nothing differs: no approval).
    r = await client.post(f"/api/counts/{number}/finalize", headers=sup)
    assert r.status_code == 200, r.text


async def test_the_review_per_item_and_bin(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    dev = (await enroll(client, hs["admin"], "HH-07")).headers
    number = await create_count(client, sup)
    await start(client, sup, number)
    # A-01 lost S1 (100) and S2 (110); S3 (120) of A-02 turns up in A-01.
    await bin_count(client, dev, number, "A-01", [("SER", "S3")], BOLTS)
    r = await client.get(f"/api/counts/{number}/review", headers=sup)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tolerances_configured"] is False and "every discrepancy" in body["notice"]
    row = next(x for x in body["rows"] if (x["item"], x["bin"]) == ("SER", "A-01"))
    assert row["item_name"] == "Serial item" and row["unit_of_measure"] == "EA"
    assert row["adjustment_quantity"] == "-2"
    assert row["stock_transfer_quantity"] == "1"
    assert row["adjustment_cost"] == "110"  # (100 + 110 + 120) / 3: the serials concerned
    assert row["adjustment_value"] == "-210.00"
    assert row["stock_transfer_value"] == "120.00"
    assert {x["serial"] for x in row["lines"]} == {"S1", "S2", "S3"}
    assert all(x["item_name"] == "Serial item" for x in row["lines"])
    assert [(b["device"], b["standing"]) for b in row["bin_counts"]] == [("HH-07", "effective")]
    # Clearing S1 takes it out of the row's columns, not out of the row.
    s1 = next(x for x in row["lines"] if x["serial"] == "S1")
    r = await client.put(f"/api/counts/{number}/lines/{s1['id']}/clear", headers=sup)
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/counts/{number}/review", params={"item": "SER"}, headers=sup)
    row = next(x for x in r.json()["rows"] if x["bin"] == "A-01")
    assert row["adjustment_quantity"] == "-1" and row["adjustment_cost"] == "115"
    assert len(row["lines"]) == 3
    # CSV: the row, then its lines beneath it.
    r = await client.get(f"/api/counts/{number}/review", params={"format": "csv"}, headers=sup)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    ser = [x for x in table if x["item"] == "SER" and x["row"] == table[0]["row"]]
    assert ser[0]["kind"] == "item_bin" and ser[0]["adjustment_cost"] == "115"
    assert {x["serial"] for x in ser[1:]} == {"S1", "S2", "S3"}
    assert "HH-07" in ser[0]["bin_counts"]
    # The line list carries the same names.
    body = await _recon(client, sup, number)
    assert {x["item_name"] for x in body["lines"]} == {"Serial item"}
    r = await client.get(f"/api/counts/{number}/review", params={"kind": "nope"}, headers=sup)
    assert r.status_code == 422


async def test_a_pick_of_a_replaced_count_is_refused_and_the_last_pick_makes_it_counted(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup, counter = hs["super"], hs["counter"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, counter, number, "A-01", ALL_A01, BOLTS)
    await bin_count(client, counter, number, "A-03")
    # The counter counts A-02 twice (the second replaces the first); super2 disagrees.
    first = await bin_count(client, counter, number, "A-02", [], [("LOTI", "L1", "5")])
    mine = await bin_count(
        client, counter, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "5")], at=10
    )
    await bin_count(client, hs["super2"], number, "A-02", [], [("LOTI", "L1", "5")], at=20)
    assert (await _count(client, sup, number))["status"] == "counting_in_process"
    pick = f"/api/counts/{number}/pick"
    r = await client.post(pick, json={"bin": "A-02", "bin_count_id": first["id"]}, headers=sup)
    assert r.status_code == 409 and r.json()["code"] == "bin-count-replaced", r.text
    assert str(mine["id"]) in r.json()["detail"]
    assert (await _recon(client, sup, number))["conflicts"][0]["bin"] == "A-02"
    # Picking the counter's standing count resolves the last conflict: Counted by itself.
    r = await client.post(pick, json={"bin": "A-02", "bin_count_id": mine["id"]}, headers=sup)
    assert r.status_code == 200, r.text
    count = await _count(client, sup, number)
    assert count["status"] == "counted"
    events = await _events(client, sup, number)
    assert [e["kind"] for e in events][-2:] == ["conflict_resolved", "counted"]
    assert "conflict in bin A-02 is resolved" in events[-1]["detail"]
