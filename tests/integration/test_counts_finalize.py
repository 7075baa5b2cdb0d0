"""Finalize through the API, on SQLite and PostgreSQL: what it writes (documents, stock,
serials, generated serials, average costs, GL), that the preview equals it, that without
confirmation nothing changes, that racing requests make one pair, immutability, exports."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from server.api.state import STATE_KEY
from tests.helpers import scalar
from tests.integration.counts_setup import (
    Client,
    count_the_scenario,
    generous_tolerances,
    headers,
    rows,
    seed,
)


def _comparable(documents: list[dict[str, Any]]) -> list[Any]:
    return [
        (d["kind"], d["number"], d["total_value"], d["lines"], d["gl_lines"]) for d in documents
    ]


async def _state(database_url: str) -> list[Any]:
    """Everything finalize may change."""
    return [
        await rows(
            database_url,
            "SELECT item_id, serial_number, bin_id, actual_cost FROM serial ORDER BY 1, 2",
        ),
        await rows(
            database_url,
            "SELECT item_id, bin_id, lot, quantity FROM stock_balance ORDER BY 1, 2, 3",
        ),
        await rows(database_url, "SELECT * FROM item_location_cost ORDER BY 1, 2"),
        await rows(database_url, "SELECT status, completed_at FROM stock_count"),
        await scalar(database_url, "SELECT count(*) FROM count_document"),
        await scalar(database_url, "SELECT count(*) FROM stock_movement"),
        await scalar(database_url, "SELECT count(*) FROM gl_posting"),
    ]


async def test_finalize_writes_what_the_preview_showed(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    await generous_tolerances(client, sup)
    preview = await client.get(f"/api/counts/{number}/preview", headers=sup)
    assert preview.status_code == 200, preview.text
    before = await _state(database_url)
    assert await _state(database_url) == before  # a preview writes nothing

    done = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["count"]["status"] == "completed" and body["not_counted_bins"] == ["A-03"]
    assert body["warning"].startswith("The stock count is still Counting in Process")
    assert _comparable(body["documents"]) == _comparable(preview.json()["documents"])

    qa, st = body["documents"]
    assert (qa["number"], qa["total_value"]) == (f"QA-{number}", "13.00")
    keys = ("item", "bin", "serial", "lot", "adjustment_quantity", "adjustment_value")
    assert [tuple(x[k] for k in keys) for x in qa["lines"]] == [
        ("AUTO", "A-02", "", "", "2", "14.00"),
        ("BOLT", "A-01", "", "", "-2", "-5.00"),
        ("LOTI", "A-02", "", "L1", "1", "4.00"),
        ("SER", "A-01", "S2", "", "-1", "-110.00"),
        # The unknown S9 at SER's average at MAIN: S1-S5 (100, 110, 120, 90, 130) = 110.
        ("SER", "A-01", "S9", "", "1", "110.00"),
    ]  # fmt: skip
    assert (st["number"], st["total_value"]) == (f"ST-{number}", "250.00")
    assert [
        (x["serial"], x["from_bin"], x["bin"], x["stock_transfer_value"]) for x in st["lines"]
    ] == [
        ("S3", "A-02", "A-01", "120.00"),
        ("S5", "B-01", "A-02", "130.00"),
    ]
    # GL: inventory 1400 against adjustment 5100 per line; transfers inside entity E1 post nothing.
    gl = await rows(
        database_url,
        "SELECT account_code, entity_code, company_code, document_kind, sum(amount) "
        "FROM gl_posting GROUP BY account_code, entity_code, company_code, document_kind "
        "ORDER BY 1",
    )
    assert gl == [
        ("1400", "E1", "C1", "quantity_adjustment", 1300),
        ("5100", "E1", "C1", "quantity_adjustment", -1300),
    ]
    assert st["gl_lines"] == []

    serials = dict(
        await rows(
            database_url,
            "SELECT s.serial_number, coalesce(b.label, '-') FROM serial s "
            "LEFT JOIN bin b ON b.id = s.bin_id",
        )
    )
    assert serials["S1"] == "A-01" and serials["S2"] == "-"  # written off
    assert serials["S3"] == "A-01" and serials["S5"] == "A-02"  # transferred
    assert serials["S4"] == "OUT-1"  # released: never moved
    assert serials["S9"] == "A-01"  # gained
    generated = await rows(
        database_url,
        "SELECT s.serial_number, b.label, s.actual_cost FROM serial s "
        "JOIN item i ON i.id = s.item_id JOIN bin b ON b.id = s.bin_id "
        "WHERE i.code = 'AUTO' ORDER BY 1",
    )
    assert generated == [
        (f"{number}-G000001", "A-02", 7_000_000),
        (f"{number}-G000002", "A-02", 7_000_000),
    ]
    balances = await rows(
        database_url,
        "SELECT i.code, b.label, sb.lot, sb.quantity FROM stock_balance sb "
        "JOIN item i ON i.id = sb.item_id JOIN bin b ON b.id = sb.bin_id ORDER BY 1",
    )
    assert balances == [("BOLT", "A-01", "", 80_000), ("LOTI", "A-02", "L1", 60_000)]
    costs = dict(
        await rows(
            database_url,
            "SELECT i.code, c.average_cost FROM item_location_cost c "
            "JOIN item i ON i.id = c.item_id",
        )
    )
    assert costs["AUTO"] == 7_000_000 and costs["LOTI"] == 4_000_000 and costs["BOLT"] == 2_500_000
    movements = await rows(
        database_url,
        "SELECT document_kind, count(*), sum(value) FROM stock_movement "
        "GROUP BY document_kind ORDER BY 1",
    )
    # A transfer moves out of one bin and into another: two movements, values cancel.
    assert movements == [("quantity_adjustment", 5, 1300), ("stock_transfer", 4, 0)]
    # Completed: its bins are free, a second finalize is refused and makes nothing.
    again = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert again.status_code == 409 and again.json()["code"] == "count-status"
    opening = {"item": "BOLT", "location": "MAIN", "bin": "A-03", "quantity": "1", "unit_cost": "2"}
    assert (await client.post("/api/opening-stock", json=opening, headers=sup)).status_code == 201


async def test_finalize_while_counting_without_confirm_changes_nothing(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await count_the_scenario(client, hs["super"], hs["counter"])
    await generous_tolerances(client, hs["super"])
    before = await _state(database_url)
    for body in (None, {"confirm": False}):
        r = await client.post(f"/api/counts/{number}/finalize", json=body, headers=hs["super"])
        assert r.status_code == 409
        problem = r.json()
        assert problem["code"] == "finalize-needs-confirmation"
        assert (
            "Counting in Process" in problem["detail"]
            and "Confirm to continue" in problem["detail"]
        )
    assert await _state(database_url) == before
    # Counted: finalize without any confirmation, and no warning.
    await client.post(f"/api/counts/{number}/counted", json={"override": True}, headers=hs["super"])
    r = await client.post(f"/api/counts/{number}/finalize", headers=hs["super"])
    assert r.status_code == 200, r.text
    assert r.json()["warning"] is None


async def test_racing_finalizes_make_exactly_one_pair(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await count_the_scenario(client, hs["super"], hs["counter"])
    await generous_tolerances(client, hs["super"])
    await client.post(f"/api/counts/{number}/counted", json={"override": True}, headers=hs["super"])
    answers = await asyncio.gather(
        *(
            client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=h)
            for h in (hs["super"], hs["super2"], hs["admin"], hs["super"])
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409], [a.text for a in answers]
    assert all(a.json()["code"] == "count-status" for a in answers if a.status_code == 409)
    assert await rows(database_url, "SELECT kind FROM count_document ORDER BY kind") == [
        ("quantity_adjustment",),
        ("stock_transfer",),
    ]
    assert await scalar(database_url, "SELECT count(*) FROM gl_posting") == 10
    assert (
        await scalar(database_url, "SELECT count(*) FROM serial WHERE serial_number LIKE '%-G%'")
        == 2
    )


async def test_documents_are_read_only_and_export_as_json_and_csv(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    await generous_tolerances(client, sup)
    await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    url = f"/api/documents/quantity_adjustment/QA-{number}"
    doc = await client.get(url, headers=sup)
    assert doc.status_code == 200 and doc.json()["total_value"] == "13.00"
    assert len(doc.json()["gl_lines"]) == 10
    for method in ("PUT", "PATCH", "DELETE"):
        r = await client.request(method, url, json={"lines": []}, headers=sup)
        assert r.status_code == 405, (method, r.text)
    assert (await client.get(url, headers=hs["counter"])).status_code == 403
    assert (
        await client.get("/api/documents/quantity_adjustment/QA-nope", headers=sup)
    ).status_code == 404
    csv = await client.get(url, params={"format": "csv"}, headers=sup)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().split("\n")
    assert lines[0].startswith("document,kind,count,location,line_no,item")
    assert (
        lines[4] == f"QA-{number},quantity_adjustment,{number},MAIN,4,SER,A-01,,,S2,False,"
        "-1,0,110,-110.00,0.00"
    )
    both = await client.get(
        f"/api/counts/{number}/documents", headers={**sup, "Accept": "text/csv"}
    )
    assert len(both.text.strip().split("\n")) == 1 + 5 + 2
    listed = await client.get(f"/api/counts/{number}/documents", headers=sup)
    assert [d["number"] for d in listed.json()["items"]] == [f"QA-{number}", f"ST-{number}"]
    # Nothing the API offers changes a document: the rows are as finalize wrote them.
    assert await scalar(database_url, "SELECT count(*) FROM count_document_line") == 7


async def test_finalize_reads_the_frozen_bins_and_resolves_codes_once(
    database_url: str, client: Client
) -> None:
    """Finalize checks the frozen bins once (for the domain, in its transaction) and
    resolves the documents' item and bin codes once (the documents and their postings
    share the ids). Counted with the app's own engine: every statement sent."""
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    await generous_tolerances(client, sup)
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    engine = client.app.state[STATE_KEY].engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        done = await client.post(
            f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert done.status_code == 200, done.text
    frozen = [s for s in sent if "FROM count_bin JOIN stock_count" in s]
    assert len(frozen) == 1, frozen
    # The documents' and the postings' codes: items (with tracking) and bins, once each.
    items = [s for s in sent if s.startswith("SELECT item.code, item.id, item.tracking FROM")]
    bins = [s for s in sent if s.startswith("SELECT location.code, bin.label, bin.id FROM")]
    assert (len(items), len(bins)) == (1, 1), [*items, *bins]
    assert not [s for s in sent if s.startswith("SELECT bin.label, bin.id FROM") and " IN " in s]
    # 58 statements before the codes and the frozen bins were read once, 51 since; 52 with
    # the audit trail's entry, written in the finalize's transaction.
    assert len(sent) <= 52, len(sent)
    assert len([s for s in sent if s.startswith("INSERT INTO audit_entry")]) == 1
