"""Stock count lifecycle through the API, on SQLite and PostgreSQL: every status rule, the
snapshot frozen at start, frozen bins for postings and imports, blind counts, devices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from server.db.engine import make_engine, make_sessionmaker
from server.domain.errors import Conflict
from server.domain.posting import (
    DocumentKind,
    LineAction,
    LocationSide,
    PostingDocument,
    PostingLine,
    post,
)
from server.ports import PostingContext
from server.uow import SqlUnitOfWork
from tests.helpers import enroll, scalar
from tests.integration.counts_setup import (
    Client,
    bin_count,
    create_count,
    headers,
    lines,
    seed,
    start,
)


async def _status(client: Client, h: dict[str, str], number: str) -> str:
    response = await client.get(f"/api/counts/{number}", headers=h)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def test_every_status_rule(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup)
    assert await _status(client, sup, number) == "open"

    async def act(path: str, body: object = None) -> tuple[int, str]:
        r = await client.post(f"/api/counts/{number}/{path}", json=body, headers=sup)
        return r.status_code, r.json().get("code", "") if r.status_code >= 400 else ""

    # Open: no bin counts, no counted, no recount, no finalize.
    await bin_count(client, hs["counter"], number, "A-01", expect=409)
    assert await act("counted") == (409, "count-status")
    assert await act("recounts", {"bins": ["A-01"]}) == (409, "count-status")
    assert await act("finalize", {"confirm": True}) == (409, "count-status")
    # Open -> Counting in Process; not twice.
    await start(client, sup, number)
    assert await act("start") == (409, "count-status")
    # Counted needs every bin, unless the supervisor overrides.
    await bin_count(client, hs["counter"], number, "A-01", [("SER", "S1"), ("SER", "S2")])
    assert await act("counted") == (409, "count-incomplete")
    assert await act("counted", {"override": True}) == (200, "")
    assert await _status(client, sup, number) == "counted"
    # Counted still takes bin counts (a device docking late is heard): a new bin stays
    # Counted; a count that conflicts with another goes back to Counting in Process.
    await bin_count(client, hs["counter"], number, "A-02", [("SER", "S3")])
    assert await _status(client, sup, number) == "counted"
    await bin_count(client, hs["super2"], number, "A-02", [])
    assert await _status(client, sup, number) == "counting_in_process"
    assert await act("counted", {"override": True}) == (200, "")
    assert await act("recounts", {"bins": ["A-02"], "reason": "check"}) == (200, "")
    assert await _status(client, sup, number) == "counting_in_process"
    # Cancelled from any status before Completed, once; then nothing more.
    assert await act("cancel") == (200, "")
    assert await act("cancel") == (409, "count-status")
    assert await act("start") == (409, "count-status")
    assert await act("finalize", {"confirm": True}) == (409, "count-status")
    # Counters neither create nor review.
    r = await client.post(
        "/api/counts", json={"location": "MAIN", "scope": "all"}, headers=hs["counter"]
    )
    assert r.status_code == 403
    r = await client.get(f"/api/counts/{number}/reconciliation", headers=hs["counter"])
    assert r.status_code == 403


async def test_scope_kinds_and_unknown_bins(database_url: str, client: Client) -> None:
    await seed(database_url)
    sup = (await headers(client))["super"]

    async def bins_of(**body: object) -> list[str]:
        number = await create_count(client, sup, **body)
        r = await client.get(f"/api/counts/{number}", headers=sup)
        return [b["label"] for b in r.json()["bins"]]

    assert await bins_of() == ["A-01", "A-02", "A-03"]
    assert await bins_of(scope="all", prefix="") == ["A-01", "A-02", "A-03", "B-01", "OUT-1"]
    assert await bins_of(scope="bins", bins=["B-01", "A-02"]) == ["A-02", "B-01"]
    r = await client.post(
        "/api/counts", json={"location": "MAIN", "scope": "bins", "bins": ["NOPE"]}, headers=sup
    )
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == "bins/NOPE"


async def test_snapshot_is_frozen_at_start(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await create_count(client, hs["super"])
    await start(client, hs["super"], number)
    # Master data changes after the start: S1's cost and BOLT's balance in A-01.
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(
                text("UPDATE serial SET actual_cost = 999000000 WHERE serial_number = 'S1'")
            )
            await conn.execute(text("UPDATE stock_balance SET quantity = 990000"))
    finally:
        await engine.dispose()
    r = await client.get(f"/api/counts/{number}", headers=hs["super"])
    expected = {b["label"]: b["expected"] for b in r.json()["bins"]}
    assert expected == {"A-01": "12", "A-02": "6", "A-03": "0"}  # 2 serials + 10 BOLT; 1 + 5
    await bin_count(client, hs["counter"], number, "A-01")  # found nothing
    found = {
        (x["kind"], x["item"], x["serial"]): x for x in await lines(client, hs["super"], number)
    }
    assert found[("missing", "SER", "S1")]["adjustment_cost"] == "100"  # not 999
    assert found[("quantity_variance", "BOLT", "")]["system_quantity"] == "10"  # not 99


async def test_frozen_bins_refuse_postings_and_imports_until_done(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await create_count(client, hs["super"])
    await start(client, hs["super"], number)
    opening = {"item": "BOLT", "location": "MAIN", "bin": "A-03", "quantity": "1", "unit_cost": "2"}
    r = await client.post("/api/opening-stock", json=opening, headers=hs["super"])
    assert r.status_code == 409 and r.json()["code"] == "bins-frozen"
    assert number in r.json()["detail"]
    serial = {
        "item": "SER",
        "serial_number": "S8",
        "location": "MAIN",
        "bin": "A-03",
        "actual_cost": "5",
    }
    r = await client.post("/api/serials", json=serial, headers=hs["super"])
    assert r.status_code == 409 and number in r.json()["detail"]
    # Outside the scope stock moves freely.
    r = await client.post("/api/serials", json={**serial, "bin": "B-01"}, headers=hs["super"])
    assert r.status_code == 201, r.text

    move = PostingDocument(
        DocumentKind.JOURNAL_TRANSACTION,
        "J-1",
        (
            PostingLine(
                1, LineAction.TRANSFER, "BOLT", Decimal(1), Decimal("2.5"),
                LocationSide("MAIN", "B-01"), LocationSide("MAIN", "A-01"),
            ),
        ),
    )  # fmt: skip
    context = PostingContext(
        "journal_transaction", 1, "J-1", datetime.now(UTC), datetime.now(UTC).date(), "TEST"
    )

    async def apply() -> None:
        engine = make_engine(database_url)
        try:
            async with SqlUnitOfWork(make_sessionmaker(engine)) as uow:
                await uow.postings.apply(post(move, {}), context)
                await uow.commit()
        finally:
            await engine.dispose()

    with pytest.raises(Conflict) as refused:
        await apply()
    assert refused.value.code == "bins-frozen" and number in refused.value.message
    assert await scalar(database_url, "SELECT count(*) FROM stock_movement") == 0

    r = await client.post(f"/api/counts/{number}/cancel", headers=hs["super"])
    assert r.status_code == 200
    r = await client.post("/api/opening-stock", json=opening, headers=hs["super"])
    assert r.status_code == 201, r.text
    await apply()
    assert await scalar(database_url, "SELECT count(*) FROM stock_movement") == 2


async def test_blind_count_hides_expected_from_counters_and_devices(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    device = (await enroll(client, hs["admin"], "HH-1")).headers
    blind = await create_count(client, hs["super"], blind=True)
    await start(client, hs["super"], blind)
    for who in (hs["counter"], device):
        r = await client.get(f"/api/counts/{blind}", headers=who)
        assert r.status_code == 200, r.text
        assert [b["expected"] for b in r.json()["bins"]] == [None, None, None]
        assert '"12"' not in r.text  # the quantity as a JSON value, not digits in a timestamp
    r = await client.get(f"/api/counts/{blind}", headers=hs["super"])
    assert [b["expected"] for b in r.json()["bins"]] == ["12", "6", "0"]
    open_count = await create_count(client, hs["super"])
    await start(client, hs["super"], open_count)
    r = await client.get(f"/api/counts/{open_count}", headers=hs["counter"])
    assert [b["expected"] for b in r.json()["bins"]] == ["12", "6", "0"]


async def test_devices_write_only_to_counts_of_their_site(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    await client.post(
        "/api/locations", json={"code": "FAR", "name": "Far", "company": "C1"}, headers=hs["super"]
    )
    await client.post("/api/bins", json={"location": "FAR", "label": "F-01"}, headers=hs["super"])
    here = await create_count(client, hs["super"])
    far = await create_count(client, hs["super"], location="FAR", scope="all", prefix="")
    for number in (here, far):
        await start(client, hs["super"], number)
    device = (await enroll(client, hs["admin"], "HH-1")).headers
    await bin_count(client, device, here, "A-03")
    refused = await bin_count(client, device, far, "F-01", expect=403)
    assert "FAR" in refused["detail"]
    assert (await client.get(f"/api/counts/{far}", headers=device)).status_code == 403
    listed = await client.get("/api/counts", headers=device)
    assert [c["number"] for c in listed.json()["items"]] == [here]
