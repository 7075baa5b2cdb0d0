"""Reconciliation and supervisor review through the API, on SQLite and PostgreSQL: the
seed's columns on every kind of line, recounts, conflicts, clear/approve, tolerances,
segregation of duties, the cache across server processes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.helpers import enroll
from tests.integration.counts_setup import (
    Client,
    bin_count,
    count_the_scenario,
    create_count,
    headers,
    lines,
    seed,
    start,
)


def _by_key(found: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    return {(x["kind"], x["item"], x["serial"] or x["lot"], x["bin"]): x for x in found}


async def test_reconciliation_lines_carry_the_seed_columns(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await count_the_scenario(client, hs["super"], hs["counter"])
    found = _by_key(await lines(client, hs["super"], number))
    columns = (
        "adjustment_quantity", "stock_transfer_quantity", "adjustment_cost",
        "adjustment_value", "stock_transfer_value",
    )  # fmt: skip

    def cols(key: tuple[str, str, str, str]) -> tuple[str, ...]:
        return tuple(found[key][c] for c in columns)

    assert cols(("missing", "SER", "S2", "A-01")) == ("-1", "0", "110", "-110.00", "0.00")
    # An unknown serial at SER's average cost at MAIN (its five serials: 550 / 5).
    assert cols(("unknown", "SER", "S9", "A-01")) == ("1", "0", "110", "110.00", "0.00")
    transfer = found[("serial_transfer_proposal", "SER", "S3", "A-01")]
    assert transfer["from_bin"] == "A-02"
    assert cols(("serial_transfer_proposal", "SER", "S3", "A-01")) == (
        "0",
        "1",
        "120",
        "0.00",
        "120.00",
    )
    outside = found[("serial_transfer_proposal", "SER", "S5", "A-02")]  # system bin B-01
    assert outside["from_bin"] == "B-01" and outside["stock_transfer_value"] == "130.00"
    released = found[("released", "SER", "S4", "A-01")]
    assert released["adjustable"] is False and "credit memo" in released["note"]
    assert cols(("quantity_variance", "BOLT", "", "A-01")) == ("-2", "0", "2.5", "-5.00", "0.00")
    assert cols(("quantity_variance", "LOTI", "L1", "A-02")) == ("1", "0", "4", "4.00", "0.00")
    assert cols(("generated", "AUTO", "", "A-02")) == ("2", "0", "7", "14.00", "0.00")
    # A-01 held S1 and S2: 2 in the system; 4 found there (S1, S3, S9 and the released S4).
    assert (found[("missing", "SER", "S2", "A-01")]["system_quantity"],
            found[("missing", "SER", "S2", "A-01")]["counted_quantity"]) == ("2", "4")  # fmt: skip
    assert len(found) == 8

    # Filters and paging.
    assert {x["kind"] for x in await lines(client, hs["super"], number, kind="missing")} == {
        "missing"
    }
    assert {x["item"] for x in await lines(client, hs["super"], number, item="BOLT")} == {"BOLT"}
    assert len(await lines(client, hs["super"], number, bin="B-01")) == 1
    first = await client.get(
        f"/api/counts/{number}/reconciliation", params={"limit": 5}, headers=hs["super"]
    )
    body = first.json()
    assert body["matching_lines"] == 8 and len(body["lines"]) == 5 and body["next_cursor"] == "5"
    assert body["not_counted_bins"] == ["A-03"]
    rest = await client.get(
        f"/api/counts/{number}/reconciliation",
        params={"limit": 5, "cursor": body["next_cursor"]},
        headers=hs["super"],
    )
    assert len(rest.json()["lines"]) == 3 and rest.json()["next_cursor"] is None

    # The variance report as CSV, by query or Accept header.
    csv = await client.get(
        f"/api/counts/{number}/reconciliation", params={"format": "csv"}, headers=hs["super"]
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.strip().split("\n")
    assert rows[0].startswith("id,kind,item,bin") and len(rows) == 9
    assert any(
        r.startswith("missing|SER|S2|A-01,missing,SER,A-01,,S2,,2,4,-1,0,110,-110.00") for r in rows
    )
    accept = await client.get(
        f"/api/counts/{number}/reconciliation", headers={**hs["super"], "Accept": "text/csv"}
    )
    assert accept.text == csv.text


async def test_recount_replaces_the_earlier_bin_count(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await create_count(client, hs["super"])
    await start(client, hs["super"], number)
    first = await bin_count(
        client, hs["counter"], number, "A-01", [("SER", "S1")], [("BOLT", "", "10")]
    )
    assert {x["serial"] for x in await lines(client, hs["super"], number)} == {"S2"}
    await client.post(
        f"/api/counts/{number}/recounts", json={"bins": ["A-01"]}, headers=hs["super"]
    )
    # Until the recount arrives the bin waits for it: its earlier count no longer stands.
    count = await client.get(f"/api/counts/{number}", headers=hs["super"])
    assert [(b["counted"], b["recount_ordered"]) for b in count.json()["bins"]] == [
        (False, True), (False, False), (False, False),
    ]  # fmt: skip
    # A count that started before the order (a device docking late) is no recount.
    await bin_count(client, hs["super2"], number, "A-01", [("SER", "S1")], at=10)
    count = await client.get(f"/api/counts/{number}", headers=hs["super"])
    assert count.json()["bins"][0]["counted"] is False
    await bin_count(
        client, hs["counter"], number, "A-01",
        [("SER", "S1"), ("SER", "S2")], [("BOLT", "", "10")], started=datetime.now(UTC),
    )  # fmt: skip
    assert await lines(client, hs["super"], number) == []
    count = await client.get(f"/api/counts/{number}", headers=hs["super"])
    assert [b["counted"] for b in count.json()["bins"]] == [True, False, False]
    assert first["superseded"] is False
    events = await client.get(f"/api/counts/{number}/events", headers=hs["super"])
    assert [e["kind"] for e in events.json()["items"]] == ["started", "recount_ordered"]
    assert events.json()["items"][1]["user"] == "super"


async def test_concurrent_bin_counts_conflict_only_when_they_disagree(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    dev1 = (await enroll(client, hs["admin"], "HH-1")).headers
    dev2 = (await enroll(client, hs["admin"], "HH-2")).headers
    number = await create_count(client, hs["super"])
    await start(client, hs["super"], number)
    # Agreeing overlapping counts of A-02: nothing raised.
    await bin_count(client, dev1, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "5")])
    await bin_count(client, dev2, number, "A-02", [("SER", "S3")], [("LOTI", "L1", "5")], at=1)
    # Disagreeing overlapping counts of A-01: a conflict, and the bin is not counted.
    first = await bin_count(
        client, dev1, number, "A-01", [("SER", "S1"), ("SER", "S2")], [("BOLT", "", "10")]
    )
    await bin_count(client, dev2, number, "A-01", [("SER", "S1")], [("BOLT", "", "10")], at=2)
    r = await client.get(f"/api/counts/{number}/reconciliation", headers=hs["super"])
    body = r.json()
    assert [c["bin"] for c in body["conflicts"]] == ["A-01"]
    assert [x["kind"] for x in body["lines"]] == ["bin_count_conflict"]
    assert "A-01" not in body["not_counted_bins"] and body["counted_bins"] == 1
    # The supervisor picks one: it counts, and it agrees with the system.
    picked = await client.post(
        f"/api/counts/{number}/pick",
        json={"bin": "A-01", "bin_count_id": first["id"]},
        headers=hs["super"],
    )
    assert picked.status_code == 200, picked.text
    assert await lines(client, hs["super"], number) == []


async def test_overlapping_api_counts_of_two_users_conflict_and_of_one_user_replace(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await create_count(client, hs["super"])
    await start(client, hs["super"], number)
    # One user, two overlapping counts of A-02 that disagree: the later replaces.
    await bin_count(client, hs["counter"], number, "A-02", [], [("LOTI", "L1", "4")])
    await bin_count(
        client, hs["counter"], number, "A-02", [("SER", "S3")], [("LOTI", "L1", "5")], at=1
    )
    # Two users without devices, overlapping and disagreeing on A-01: a conflict.
    await bin_count(
        client, hs["counter"], number, "A-01", [("SER", "S1"), ("SER", "S2")], [("BOLT", "", "10")]
    )
    await bin_count(
        client, hs["super2"], number, "A-01", [("SER", "S1")], [("BOLT", "", "10")], at=2
    )
    r = await client.get(f"/api/counts/{number}/reconciliation", headers=hs["super"])
    body = r.json()
    assert [c["bin"] for c in body["conflicts"]] == ["A-01"]
    assert [x["kind"] for x in body["lines"]] == ["bin_count_conflict"]
    assert set(body["conflicts"][0]["counters"]) == {"counter", "super2"}


async def test_clear_approve_tolerances_and_segregation(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup, sup2 = hs["super"], hs["super2"]
    # Tolerances per location: read back as set.
    r = await client.put(
        "/api/locations/MAIN/tolerances",
        json={"quantity": "1", "percent": "50", "value": "20"},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    got = await client.get("/api/locations/MAIN/tolerances", headers=sup)
    assert got.json() == {"quantity": "1", "percent": "50", "value": "20"}
    # The supervisor counts A-01 themself; the counter counts A-02.
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, sup, number, "A-01", [("SER", "S1")], [("BOLT", "", "10")])
    await bin_count(client, hs["counter"], number, "A-02", [("SER", "S3")], [("LOTI", "L1", "6")])
    found = _by_key(await lines(client, sup, number))
    missing = found[("missing", "SER", "S2", "A-01")]  # 110.00 > 20: needs approval
    lot = found[("quantity_variance", "LOTI", "L1", "A-02")]  # 1 of 5 at 4.00: within
    assert missing["needs_approval"] is True and lot["needs_approval"] is False
    # Finalize refuses a line above tolerance that nobody approved or cleared.
    r = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert r.status_code == 409 and r.json()["code"] == "approval-required"
    url = f"/api/counts/{number}/lines/{missing['id']}"
    # Segregation: the supervisor counted A-01, so another supervisor must approve.
    r = await client.post(f"{url}/approve", json={"reason_code": "DAMAGED"}, headers=sup)
    assert r.status_code == 403
    r = await client.post(f"{url}/approve", json={"reason_code": " "}, headers=sup2)
    assert r.status_code == 422
    r = await client.post(f"{url}/approve", json={"reason_code": "DAMAGED"}, headers=sup2)
    assert r.status_code == 200 and r.json()["approved_by"] == "super2"
    assert r.json()["reason_code"] == "DAMAGED"
    # Counters cannot review at all.
    assert (await client.put(f"{url}/clear", headers=hs["counter"])).status_code == 403
    # Clear, then select again: the selected flag follows.
    r = await client.put(f"{url}/clear", headers=sup2)
    assert r.status_code == 200 and r.json()["selected"] is False
    r = await client.put(f"{url}/select", headers=sup2)
    assert (
        r.status_code == 200
        and r.json()["selected"] is True
        and r.json()["approved_by"] == "super2"
    )
    r = await client.put(f"/api/counts/{number}/lines/nope/clear", headers=sup2)
    assert r.status_code == 404
    # Cleared lines are not adjusted: preview without S2's write-off once it is cleared.
    await client.put(f"{url}/clear", headers=sup2)
    preview = await client.get(f"/api/counts/{number}/preview", headers=sup2)
    assert preview.status_code == 200, preview.text
    qa = preview.json()["documents"][0]
    assert [(x["item"], x["serial"], x["lot"]) for x in qa["lines"]] == [("LOTI", "", "L1")]


async def test_reconciliation_cache_follows_changes_from_another_process(
    database_url: str, client: Client
) -> None:
    """A second app on the same database stands for a second server process: its bin
    count bumps the version, and the first process recomputes instead of serving its cache."""
    from litestar.testing import AsyncTestClient

    from server.app import create_app
    from server.settings import Settings

    await seed(database_url)
    hs = await headers(client)
    number = await create_count(client, hs["super"])
    await start(client, hs["super"], number)
    await bin_count(client, hs["counter"], number, "A-01", [("SER", "S1")], [("BOLT", "", "10")])
    assert len(await lines(client, hs["super"], number)) == 1
    other = create_app(Settings(database_url=database_url, log_level="WARNING"))
    async with AsyncTestClient(app=other) as second:
        await bin_count(second, hs["counter"], number, "A-02", [], [("LOTI", "L1", "5")])
    assert {x["serial"] for x in await lines(client, hs["super"], number)} == {"S2", "S3"}
