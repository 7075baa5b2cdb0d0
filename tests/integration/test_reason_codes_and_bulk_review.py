"""Reason codes (API and import), approvals that need a fitting active code, bulk review
(by ids and by filter, all or nothing, what changed) and the no-tolerance notice, through
the API on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.integration.counts_setup import (
    Client,
    bin_count,
    count_the_scenario,
    create_count,
    generous_tolerances,
    headers,
    lines,
    rows,
    seed,
    start,
)


def _line(found: list[dict[str, Any]], kind: str, key: str = "") -> dict[str, Any]:
    return next(x for x in found if x["kind"] == kind and key in (x["serial"], x["lot"], ""))


async def _review_state(client: Client, h: dict[str, str], number: str) -> list[Any]:
    return sorted(
        (x["id"], x["selected"], x["approved_by"], x["reason_code"])
        for x in await lines(client, h, number)
    )


async def test_reason_codes_are_a_managed_list(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup, counter = hs["super"], hs["counter"]
    listed = await client.get("/api/reason-codes", headers=counter)  # counters may read
    assert listed.status_code == 200, listed.text
    by_code = {c["code"]: c for c in listed.json()["items"]}
    assert sorted(by_code) == ["DAMAGED", "FOUND", "LOST", "MISCOUNT", "MISPLACED", "OLD"]
    assert by_code["DAMAGED"]["kinds"] == ["missing", "quantity_variance"]
    assert by_code["MISCOUNT"]["kinds"] == [] and by_code["OLD"]["active"] is False
    inactive = await client.get("/api/reason-codes", params={"active": "false"}, headers=sup)
    assert [c["code"] for c in inactive.json()["items"]] == ["OLD"]

    new = {
        "code": "THEFT",
        "description": "Presumed stolen",
        "kinds": ["quantity_variance", "missing"],
    }
    r = await client.post("/api/reason-codes", json=new, headers=sup)
    assert r.status_code == 201, r.text
    # Kinds come back in the reconciliation's order.
    assert r.json() == {**new, "kinds": ["missing", "quantity_variance"], "active": True}
    assert (await client.post("/api/reason-codes", json=new, headers=sup)).status_code == 409
    assert (await client.post("/api/reason-codes", json=new, headers=counter)).status_code == 403
    bad = await client.post(
        "/api/reason-codes",
        json={"code": "X1", "description": "x", "kinds": ["released"]},
        headers=sup,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["location"] == "kinds"
    assert "quantity_variance" in bad.json()["errors"][0]["message"]

    r = await client.patch(
        "/api/reason-codes/THEFT", json={"kinds": [], "active": False}, headers=sup
    )
    assert r.status_code == 200, r.text
    assert (r.json()["kinds"], r.json()["active"], r.json()["description"]) == (
        [],
        False,
        "Presumed stolen",
    )
    got = await client.get("/api/reason-codes/THEFT", headers=sup)
    assert got.json() == r.json()
    r = await client.patch("/api/reason-codes/THEFT", json={"kinds": ["nope"]}, headers=sup)
    assert r.status_code == 422
    assert (await client.get("/api/reason-codes/THEFT", headers=sup)).json() == got.json()
    assert (await client.patch("/api/reason-codes/NONE", json={}, headers=sup)).status_code == 404
    # Never deleted: approvals name codes for ever; deactivate instead.
    assert (await client.delete("/api/reason-codes/THEFT", headers=sup)).status_code == 405


async def test_reason_codes_import_from_csv_and_json(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    csv = b"code,description,kinds,active\nBROKEN,Broken,missing|unknown,\nGONE,Gone,,no\n"
    r = await client.post(
        "/api/imports",
        params={"kind": "reason-codes", "name": "reasons.csv"},
        content=csv,
        headers={**sup, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == {"reason_codes": 2}
    found = {
        c["code"]: c for c in (await client.get("/api/reason-codes", headers=sup)).json()["items"]
    }
    assert found["BROKEN"]["kinds"] == ["missing", "unknown"] and found["BROKEN"]["active"]
    assert found["GONE"]["kinds"] == [] and found["GONE"]["active"] is False
    # A bad kind names file, row and field; nothing of the file is stored.
    bad = b"code,description,kinds\nNEW1,New,missing\nNEW2,New,conflict\n"
    r = await client.post(
        "/api/imports",
        params={"kind": "reason_codes", "name": "reasons.csv"},
        content=bad,
        headers={**sup, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["location"] == "reasons.csv row 2 (line 3), field kinds"
    # JSON; a code that exists is a conflict.
    r = await client.post(
        "/api/imports",
        json={
            "reason_codes": [
                {"code": "NEW3", "description": "x"},
                {"code": "LOST", "description": "x"},
            ]
        },
        headers=sup,
    )
    assert r.status_code == 409 and "reason code 'LOST'" in r.json()["errors"][0]["message"]
    codes = [c for (c,) in await rows(database_url, "SELECT code FROM reason_code ORDER BY code")]
    assert "NEW1" not in codes and "NEW3" not in codes and len(codes) == 8


async def test_approval_needs_an_active_code_that_fits(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await count_the_scenario(client, hs["super"], hs["counter"])
    missing = _line(await lines(client, hs["super"], number), "missing", "S2")
    url = f"/api/counts/{number}/lines/{missing['id']}/approve"
    before = await _review_state(client, hs["super"], number)
    for code, why in (
        ("FREE-TEXT", "'FREE-TEXT' is not a reason code"),
        ("OLD", "'OLD' is not active"),
        ("MISPLACED", "'MISPLACED' does not fit a missing line"),
    ):
        r = await client.post(url, json={"reason_code": code}, headers=hs["super"])
        assert r.status_code == 422, r.text
        (problem,) = r.json()["errors"]
        assert problem["location"] == "reason_code" and why in problem["message"]
        assert problem["message"].endswith("fit a missing line: DAMAGED, LOST, MISCOUNT")
    assert await _review_state(client, hs["super"], number) == before
    r = await client.post(url, json={"reason_code": "LOST"}, headers=hs["super"])
    assert r.status_code == 200 and r.json()["reason_code"] == "LOST"
    # An approval stored with a code that is later retired still reads as it was.
    await client.patch("/api/reason-codes/LOST", json={"active": False}, headers=hs["super"])
    again = _line(await lines(client, hs["super"], number), "missing", "S2")
    assert (again["approved_by"], again["reason_code"]) == ("super", "LOST")


async def test_bulk_approve_by_ids_and_by_filter_then_finalize(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    found = await lines(client, sup, number)
    bulk = f"/api/counts/{number}/lines/bulk"
    # By filter: the quantity variances at or under 5.00 (BOLT -5.00 and LOTI 4.00).
    r = await client.post(
        bulk,
        json={"action": "approve", "filter": {"kind": "quantity_variance", "max_value": "5"},
              "reason_code": "MISCOUNT"},
        headers=sup,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    variances = sorted(x["id"] for x in found if x["kind"] == "quantity_variance")
    assert sorted(r.json()["changed"]) == variances and r.json()["unchanged"] == []
    r = await client.post(
        bulk,
        json={"action": "approve", "filter": {"max_value": "4.99"}, "reason_code": "MISCOUNT"},
        headers=sup,
    )
    lot = _line(found, "quantity_variance", "L1")["id"]
    assert r.json() == {"action": "approve", "changed": [], "unchanged": [lot]}
    # By ids, the rest with a code that fits every kind; the already approved are unchanged.
    adjustable = [x["id"] for x in found if x["adjustable"]]
    r = await client.post(
        bulk, json={"action": "approve", "line_ids": adjustable, "reason_code": "MISCOUNT"},
        headers=sup,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert sorted(r.json()["unchanged"]) == variances
    assert sorted(r.json()["changed"]) == sorted(set(adjustable) - set(variances))
    after = await lines(client, sup, number)
    assert {(x["approved_by"], x["reason_code"]) for x in after if x["adjustable"]} == {
        ("super", "MISCOUNT")
    }
    stored = await rows(
        database_url, "SELECT count(*) FROM count_line_review WHERE reason_code = 'MISCOUNT'"
    )
    assert stored == [(len(adjustable),)]
    # Every line above tolerance is approved: finalize goes through.
    r = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert r.status_code == 200, r.text


async def test_bulk_refusal_changes_nothing_and_lists_each_line(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup, sup2 = hs["super"], hs["super2"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    # The supervisor counts A-01 (S2 missing, 2 BOLT short); the counter A-02 (LOTI +1).
    await bin_count(client, sup, number, "A-01", [("SER", "S1")], [("BOLT", "", "8")])
    await bin_count(client, hs["counter"], number, "A-02", [("SER", "S3")], [("LOTI", "L1", "6")])
    found = await lines(client, sup, number)
    own = sorted(x["id"] for x in found if x["bin"] == "A-01")
    assert len(own) == 2 and len(found) == 3
    before = await _review_state(client, sup, number)
    bulk = f"/api/counts/{number}/lines/bulk"
    r = await client.post(
        bulk, json={"action": "approve", "filter": {}, "reason_code": "MISCOUNT"}, headers=sup
    )
    assert r.status_code == 403, r.text
    assert sorted(p["location"] for p in r.json()["errors"]) == [f"lines/{i}" for i in own]
    assert "nothing was changed" in r.json()["detail"]
    # A code that does not fit one of the lines: 422 naming that line, nothing changes.
    r = await client.post(
        bulk, json={"action": "approve", "filter": {}, "reason_code": "LOST"}, headers=sup2
    )
    assert r.status_code == 422, r.text
    assert [p["location"] for p in r.json()["errors"]] == [
        f"lines/{x['id']}/reason_code" for x in found if x["kind"] == "quantity_variance"
    ]
    assert await _review_state(client, sup, number) == before
    # Bad requests of every shape change nothing either.
    for body, status in (
        ({"action": "approve", "reason_code": "MISCOUNT"}, 422),  # neither ids nor filter
        ({"action": "clear", "line_ids": [], "filter": {}}, 422),  # both
        ({"action": "delete", "line_ids": []}, 400),
        ({"action": "clear", "filter": {"kind": "nope"}}, 422),
        ({"action": "clear", "filter": {"max_value": "-1"}}, 422),
        ({"action": "clear", "line_ids": [own[0], "nope"]}, 404),
        ({"action": "approve", "filter": {}, "reason_code": "OLD"}, 422),
    ):
        r = await client.post(bulk, json=body, headers=sup2)
        assert r.status_code == status, (body, r.text)
    assert (await client.post(bulk, json={"action": "clear", "filter": {}},
                              headers=hs["counter"])).status_code == 403  # fmt: skip
    assert await _review_state(client, sup, number) == before
    # Another supervisor approves all three at once.
    r = await client.post(
        bulk, json={"action": "approve", "filter": {}, "reason_code": "MISCOUNT"}, headers=sup2
    )
    assert r.status_code == 200 and len(r.json()["changed"]) == 3


async def test_bulk_clear_and_select_answer_what_changed(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    found = await lines(client, sup, number)
    bulk = f"/api/counts/{number}/lines/bulk"
    in_a01 = sorted(
        x["id"] for x in found if x["adjustable"] and "A-01" in (x["bin"], x["from_bin"])
    )
    await client.put(f"/api/counts/{number}/lines/{in_a01[0]}/clear", headers=sup)
    r = await client.post(bulk, json={"action": "clear", "filter": {"bin": "A-01"}}, headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["unchanged"] == [in_a01[0]] and sorted(r.json()["changed"]) == in_a01[1:]
    after = {x["id"]: x["selected"] for x in await lines(client, sup, number)}
    assert [after[i] for i in in_a01] == [False] * len(in_a01)
    r = await client.post(
        bulk, json={"action": "select", "line_ids": [in_a01[1], in_a01[1]]}, headers=sup
    )
    assert r.json() == {"action": "select", "changed": [in_a01[1]], "unchanged": []}
    # An exception by id cannot be selected or cleared: 409, nothing changes.
    released = _line(found, "released")["id"]
    r = await client.post(
        bulk, json={"action": "select", "line_ids": [in_a01[2], released]}, headers=sup
    )
    assert r.status_code == 409
    assert {x["id"]: x["selected"] for x in await lines(client, sup, number)}[in_a01[2]] is False


async def test_no_tolerances_notice(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    url = f"/api/counts/{number}/reconciliation"
    body = (await client.get(url, headers=sup)).json()
    assert body["tolerances_configured"] is False
    assert body["notice"] == (
        "No tolerances are set for location MAIN: every discrepancy needs a supervisor's "
        "approval (or clearing) before finalize"
    )
    assert all(x["needs_approval"] for x in body["lines"] if x["adjustable"])
    csv = await client.get(url, params={"format": "csv"}, headers=sup)
    assert csv.headers["stockcount-notice"] == body["notice"]
    assert csv.text.startswith("id,kind,item,bin")
    await generous_tolerances(client, sup)
    body = (await client.get(url, headers=sup)).json()
    assert body["tolerances_configured"] is True and body["notice"] is None
    csv = await client.get(url, params={"format": "csv"}, headers=sup)
    assert "stockcount-notice" not in csv.headers
