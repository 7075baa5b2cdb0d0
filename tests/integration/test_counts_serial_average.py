"""A serialized item's average cost at a location (server.domain.costing), on SQLite and
PostgreSQL: the weighted average of the actual costs of its serials on hand there, else
at its other locations, else its last cost; shown by GET /api/stock, frozen by the
snapshot, the Adjustment Cost of generated lines and the actual cost of the serials
finalize generates (seed 000: "serial numbers are generated with the average cost")."""

from __future__ import annotations

from typing import Any

from server.db.engine import make_engine, make_sessionmaker
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source
from server.uow import SqlUnitOfWork
from tests.helpers import add_users, execute, token
from tests.integration.counts_setup import (
    WAREHOUSE,
    Client,
    bin_count,
    generous_tolerances,
    lines,
    rows,
    start,
)

_AUTO_ITEMS = (("AVG", "40"), ("AVG2", "40"), ("THIRD", "5"), ("HALF", "9"))
# (item, serial, location, bin, actual cost). AVG: the issue's example. AVG2: none at MAIN.
# THIRD: T3 in an OUT bin weighs (released, still in the books); T4 is written off below.
_SERIALS = (
    ("AVG", "V1", "MAIN", "A-01", "30.00"),
    ("AVG", "V2", "MAIN", "B-01", "36.50"),
    ("AVG2", "W1", "WEST", "W-01", "20.00"),
    ("AVG2", "W2", "WEST", "W-01", "25.00"),
    ("THIRD", "T1", "MAIN", "B-01", "1.00"),
    ("THIRD", "T2", "MAIN", "B-01", "1.00"),
    ("THIRD", "T3", "MAIN", "OUT-1", "2.00"),
    ("THIRD", "T4", "MAIN", "B-01", "100.00"),
    ("HALF", "H1", "MAIN", "B-01", "10.000002"),
    ("HALF", "H2", "MAIN", "B-01", "10.000003"),
)


async def _seed(database_url: str) -> None:
    """counts_setup's warehouse, locations WEST and EAST (no serials), the items above."""
    await add_users(database_url)
    data: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in WAREHOUSE.items()}
    data["locations"].append({"code": "WEST", "name": "West", "company": "C1", "gl_entity": "E1"})
    data["locations"].append({"code": "EAST", "name": "East", "company": "C1", "gl_entity": "E1"})
    data["bins"] += [
        {"location": "WEST", "label": "W-01", "kind": "stock"},
        {"location": "EAST", "label": "E-01", "kind": "stock"},
    ]
    data["items"] += [
        {"code": code, "name": code, "tracking": "serial", "auto_serialized": True,
         "last_cost": last, "inventory_group": "G"}
        for code, last in _AUTO_ITEMS
    ]  # fmt: skip
    data["serials"] += [
        {"item": i, "serial_number": s, "location": loc, "bin": b, "actual_cost": c}
        for i, s, loc, b, c in _SERIALS
    ]
    engine = make_engine(database_url)
    try:
        uow = SqlUnitOfWork(make_sessionmaker(engine))
        await import_sources(uow, [Source("warehouse", data)])
    finally:
        await engine.dispose()
    # Written off: in no bin, so it weighs nothing.
    await execute(database_url, "UPDATE serial SET bin_id = NULL WHERE serial_number = 'T4'")


async def _stock_averages(client: Client, h: dict[str, str], item: str) -> set[tuple[str, str]]:
    r = await client.get("/api/stock", params={"item": item}, headers=h)
    assert r.status_code == 200, r.text
    return {(x["location"], x["average_cost"]) for x in r.json()["items"]}


async def _count_a01(
    client: Client, h: dict[str, str], counter: dict[str, str], keyed: list[tuple[str, str, str]]
) -> str:
    """A count of A-01 that finds what the system holds there (S1, S2, V1, 10 BOLT) plus
    the `keyed` units without serial."""
    created = await client.post(
        "/api/counts", json={"location": "MAIN", "scope": "bins", "bins": ["A-01"]}, headers=h
    )
    assert created.status_code == 201, created.text
    number = str(created.json()["number"])
    await start(client, h, number)
    await bin_count(
        client, counter, number, "A-01",
        [("SER", "S1"), ("SER", "S2"), ("AVG", "V1")], [("BOLT", "", "10"), *keyed],
    )  # fmt: skip
    await generous_tolerances(client, h)
    return number


def _generated(found: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    return {
        x["item"]: (x["adjustment_quantity"], x["adjustment_cost"], x["adjustment_value"])
        for x in found
        if x["kind"] == "generated"
    }


async def _serial_costs(database_url: str, item: str) -> list[tuple[Any, ...]]:
    return await rows(
        database_url,
        "SELECT s.serial_number, s.actual_cost FROM serial s JOIN item i ON i.id = s.item_id "
        "WHERE i.code = :item ORDER BY 1",
        item=item,
    )


async def _finalize(client: Client, h: dict[str, str], number: str) -> dict[str, Any]:
    preview = await client.get(f"/api/counts/{number}/preview", headers=h)
    assert preview.status_code == 200, preview.text
    done = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=h)
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    assert [d["lines"] for d in body["documents"]] == [
        d["lines"] for d in preview.json()["documents"]
    ]
    return body


async def test_gains_of_the_issue_generate_serials_at_the_average(
    database_url: str, client: Client
) -> None:
    """Serials at 30.00 and 36.50, last cost 40.00, a gain of 2: 33.25 each, not 40."""
    await _seed(database_url)
    hs = {name: await token(client, name) for name in ("super", "counter")}
    sup = hs["super"]
    assert await _stock_averages(client, sup, "AVG") == {("MAIN", "33.25")}
    number = await _count_a01(client, sup, hs["counter"], [("AVG", "", "2")])
    assert _generated(await lines(client, sup, number)) == {"AVG": ("2", "33.25", "66.50")}

    body = await _finalize(client, sup, number)
    qa = body["documents"][0]
    assert [
        (x["item"], x["adjustment_quantity"], x["adjustment_cost"], x["adjustment_value"],
         x["generate_serials"])
        for x in qa["lines"]
    ] == [("AVG", "2", "33.25", "66.50", True)]  # fmt: skip
    assert qa["total_value"] == "66.50"
    assert await _serial_costs(database_url, "AVG") == [
        (f"{number}-G000001", 33_250_000),
        (f"{number}-G000002", 33_250_000),
        ("V1", 30_000_000),
        ("V2", 36_500_000),
    ]
    gl = await rows(
        database_url,
        "SELECT account_code, sum(amount) FROM gl_posting "
        "WHERE document_kind = 'quantity_adjustment' GROUP BY account_code ORDER BY 1",
    )
    assert gl == [("1400", 6650), ("5100", -6650)]
    # 30 + 36.50 + 2 x 33.25 over 4 serials: still 33.25, and so is the recorded position.
    assert await _stock_averages(client, sup, "AVG") == {("MAIN", "33.25")}
    recorded = await rows(
        database_url,
        "SELECT c.average_cost FROM item_location_cost c JOIN item i ON i.id = c.item_id "
        "WHERE i.code = 'AVG'",
    )
    assert recorded == [(33_250_000,)]


async def test_average_falls_back_to_other_locations_then_last_cost(
    database_url: str, client: Client
) -> None:
    """AVG2 has serials only at WEST (20.00, 25.00): 22.50 at MAIN. AUTO has none
    anywhere: its last cost, 7."""
    await _seed(database_url)
    hs = {name: await token(client, name) for name in ("super", "counter")}
    sup = hs["super"]
    assert await _stock_averages(client, sup, "AVG2") == {("WEST", "22.5")}
    number = await _count_a01(client, sup, hs["counter"], [("AVG2", "", "2"), ("AUTO", "", "1")])
    assert _generated(await lines(client, sup, number)) == {
        "AVG2": ("2", "22.5", "45.00"),
        "AUTO": ("1", "7", "7.00"),
    }
    await _finalize(client, sup, number)
    costs = await _serial_costs(database_url, "AVG2")
    assert [c for n, c in costs if n.startswith(f"{number}-G")] == [22_500_000, 22_500_000]
    assert [c for n, c in costs if n.startswith("W")] == [20_000_000, 25_000_000]
    assert [c for _, c in await _serial_costs(database_url, "AUTO")] == [7_000_000]
    # MAIN holds AVG2 serials now: its average there is theirs, WEST's is unchanged.
    assert await _stock_averages(client, sup, "AVG2") == {("MAIN", "22.5"), ("WEST", "22.5")}


async def test_a_location_without_serials_takes_the_others_average(
    database_url: str, client: Client
) -> None:
    """EAST holds no serial of any item: AVG's average there is MAIN's (33.25), AVG2's
    WEST's (22.50), AUTO's its last cost."""
    await _seed(database_url)
    hs = {name: await token(client, name) for name in ("super", "counter")}
    sup = hs["super"]
    created = await client.post(
        "/api/counts", json={"location": "EAST", "scope": "all"}, headers=sup
    )
    assert created.status_code == 201, created.text
    number = str(created.json()["number"])
    await start(client, sup, number)
    keyed = [("AVG", "", "1"), ("AVG2", "", "1"), ("AUTO", "", "1")]
    await bin_count(client, hs["counter"], number, "E-01", [], keyed)
    assert _generated(await lines(client, sup, number)) == {
        "AVG": ("1", "33.25", "33.25"),
        "AVG2": ("1", "22.5", "22.50"),
        "AUTO": ("1", "7", "7.00"),
    }


async def test_average_is_rounded_half_even_to_six_places(
    database_url: str, client: Client
) -> None:
    """THIRD: 1.00, 1.00 and 2.00 (in the OUT bin) on hand, 100.00 written off:
    1.333333. HALF: 10.000002 and 10.000003 average 10.0000025, half-even 10.000002."""
    await _seed(database_url)
    hs = {name: await token(client, name) for name in ("super", "counter")}
    sup = hs["super"]
    assert await _stock_averages(client, sup, "THIRD") == {("MAIN", "1.333333")}
    assert await _stock_averages(client, sup, "HALF") == {("MAIN", "10.000002")}
    number = await _count_a01(client, sup, hs["counter"], [("THIRD", "", "3"), ("HALF", "", "1")])
    assert _generated(await lines(client, sup, number)) == {
        "THIRD": ("3", "1.333333", "4.00"),  # 3.999999, half-up to the cent
        "HALF": ("1", "10.000002", "10.00"),
    }
    await _finalize(client, sup, number)
    generated = await rows(
        database_url,
        "SELECT i.code, count(*), min(s.actual_cost), max(s.actual_cost) FROM serial s "
        "JOIN item i ON i.id = s.item_id WHERE s.serial_number LIKE :prefix "
        "GROUP BY i.code ORDER BY 1",
        prefix=f"{number}-G%",
    )
    assert generated == [("HALF", 1, 10_000_002, 10_000_002), ("THIRD", 3, 1_333_333, 1_333_333)]


async def test_the_snapshot_fixes_the_average_at_start(database_url: str, client: Client) -> None:
    """Serials outside the counted bins may change after start; the count's average does
    not (as the location average of an untracked item is frozen), while GET /api/stock
    shows the live one."""
    await _seed(database_url)
    hs = {name: await token(client, name) for name in ("super", "counter")}
    sup = hs["super"]
    number = await _count_a01(client, sup, hs["counter"], [("AVG", "", "2"), ("THIRD", "", "1")])
    # B-01 is outside the scope: its serials may still change.
    await execute(database_url, "UPDATE serial SET actual_cost = 100000000 WHERE bin_id IN "
                   "(SELECT id FROM bin WHERE label = 'B-01')")  # fmt: skip
    assert await _stock_averages(client, sup, "AVG") == {("MAIN", "65")}  # (30 + 100) / 2
    assert _generated(await lines(client, sup, number)) == {
        "AVG": ("2", "33.25", "66.50"),
        "THIRD": ("1", "1.333333", "1.33"),
    }
    await _finalize(client, sup, number)
    generated = await rows(
        database_url,
        "SELECT DISTINCT s.actual_cost FROM serial s WHERE s.serial_number LIKE :prefix",
        prefix=f"{number}-G%",
    )
    assert sorted(generated) == [(1_333_333,), (33_250_000,)]
