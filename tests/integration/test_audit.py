"""The audit trail through the API, on both databases: supervisor and admin acts, written
in the act's transaction (a refused or lost act leaves none), read a page at a time and
filtered by count, user and action."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.helpers import enroll, token
from tests.integration.counts_setup import (
    Client,
    count_the_scenario,
    create_count,
    generous_tolerances,
    headers,
    lines,
    seed,
)


async def _audit(client: Client, h: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/api/audit", params=params, headers=h)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_acts_are_audited_once_and_read_filtered_and_paged(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    number = await count_the_scenario(client, hs["super"], hs["counter"])
    await generous_tolerances(client, hs["super"])
    line = (await lines(client, hs["super"], number))[0]
    cleared = await client.put(
        f"/api/counts/{number}/lines/{line['id']}/clear", headers=hs["super"]
    )
    assert cleared.status_code == 200, cleared.text
    counted = await client.post(
        f"/api/counts/{number}/counted", json={"override": True}, headers=hs["super"]
    )
    assert counted.status_code == 200, counted.text
    # three finalizes race: one wins, and only its act is in the trail
    answers = await asyncio.gather(
        *(
            client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=h)
            for h in (hs["super"], hs["super2"], hs["admin"])
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    other = await create_count(client, hs["super"])
    assert (
        await client.post(f"/api/counts/{other}/cancel", headers=hs["super2"])
    ).status_code == 200
    refused = await client.post(f"/api/counts/{other}/cancel", headers=hs["super2"])
    assert refused.status_code == 409
    device = await enroll(client, hs["admin"])
    revoked = await client.post(f"/api/devices/{device.id}/revoke", headers=hs["admin"])
    assert revoked.status_code == 200
    tokens = await client.post("/api/users/counter/revoke-tokens", headers=hs["admin"])
    assert tokens.status_code == 200
    theft = {"code": "THEFT", "description": "Theft", "kinds": ["missing"]}
    imported = await client.post(
        "/api/imports", json={"reason_codes": [theft]}, headers=hs["super"]
    )
    assert imported.status_code == 200, imported.text
    theft["description"] = "Theft by staff"
    updated = await client.post(
        "/api/imports",
        params={"mode": "update", "name": "codes.json"},
        json={"reason_codes": [theft]},
        headers=hs["super"],
    )
    assert updated.status_code == 200, updated.text
    failed = await client.post("/api/imports", json={"reason_codes": [{}]}, headers=hs["super"])
    assert failed.status_code == 422

    everything = await _audit(client, hs["admin"])
    assert [(e["action"], e["count"]) for e in everything] == [
        ("clear", number),
        ("counted", number),
        ("finalize", number),
        ("cancel", other),
        ("revoke-device", None),
        ("revoke-tokens", None),
        ("import", None),
        ("update", None),
    ]
    assert everything[0]["detail"] == line["id"] and everything[0]["user"] == "super"
    assert everything[4]["subject"] == "HH-01" and everything[4]["user"] == "admin"
    assert everything[5]["subject"] == "counter"
    assert (everything[6]["subject"], everything[6]["detail"]) == (
        "request.json",
        "reason_codes 1 created",
    )
    assert (everything[7]["subject"], everything[7]["detail"]) == (
        "codes.json",
        "reason_codes 1 updated",
    )
    (winner,) = [e for e in everything if e["action"] == "finalize"]
    assert winner["detail"].startswith("Completed: ")

    assert [e["action"] for e in await _audit(client, hs["super"], count=number)] == [
        "clear",
        "counted",
        "finalize",
    ]
    # (whichever of super, super2 and admin won the finalize race has it too)
    by_super2 = await _audit(client, hs["super"], user="super2")
    assert [e["action"] for e in by_super2 if e["action"] != "finalize"] == ["cancel"]
    by_admin = await _audit(client, hs["super"], user="admin")
    assert [e["action"] for e in by_admin if e["action"] != "finalize"] == [
        "revoke-device",
        "revoke-tokens",
    ]
    assert winner["user"] in ("super", "super2", "admin")
    assert [e["count"] for e in await _audit(client, hs["super"], action="cancel")] == [other]
    assert await _audit(client, hs["super"], action="cancel", user="admin") == []

    # a page at a time, in order, until no cursor
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/audit", params=params, headers=hs["admin"])).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything

    bad = await client.get("/api/audit", params={"action": "nonsense"}, headers=hs["admin"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["location"] == "action"
    counter = await client.get("/api/audit", headers=await token(client, "counter"))
    assert counter.status_code == 403
