"""The master data HTTP API on both databases: create, get, list, filters, stock, imports."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import add_users, enroll, token
from tests.integration.test_import import BASE, counts

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]


@pytest.fixture
async def users(database_url: str) -> None:
    await add_users(database_url)


@pytest.fixture
async def admin(client: Client, users: None) -> Headers:
    return await token(client, "admin")


@pytest.fixture
async def loaded(client: Client, admin: Headers) -> Headers:
    """The BASE master data, imported through the API; answers the admin's headers."""
    r = await client.post("/api/imports", json=BASE, headers=admin)
    assert r.status_code == 200, r.text
    return admin


async def _all(client: Client, path: str, headers: Headers, limit: int) -> list[dict[str, object]]:
    """Follows next_cursor to the end; every page but the last is full."""
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = await client.get(path, params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit


async def test_import_endpoint_answers_rows_per_kind(
    client: Client, admin: Headers, database_url: str
) -> None:
    r = await client.post("/api/imports", json=BASE, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "request.json"
    assert r.json()["rows"] == {
        "companies": 1,
        "gl_accounts": 2,
        "gl_entities": 1,
        "inventory_groups": 1,
        "locations": 2,
        "bins": 3,
        "items": 3,
    }
    csv = b"item,serial_number,location,bin,actual_cost\nSER1,D-1,MAIN,A-01,10.25\n"
    r = await client.post(
        "/api/imports?kind=serials",
        content=csv,
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == {"serials": 1}
    assert (await counts(database_url))["serial"] == 1


async def test_bad_import_is_422_with_row_and_field_and_stores_nothing(
    client: Client, admin: Headers, database_url: str
) -> None:
    document = {**BASE, "bins": [*BASE["bins"], {"location": "NOPE", "label": "X"}]}
    before = await counts(database_url)
    r = await client.post("/api/imports", json=document, headers=admin)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "nothing was imported"
    assert r.json()["errors"] == [
        {
            "location": "request.json bins row 4, field location",
            "message": "unknown location 'NOPE': it is neither in this import nor in the database",
        }
    ]
    assert await counts(database_url) == before
    again = await client.post("/api/imports", json=BASE, headers=admin)
    assert again.status_code == 200
    conflict = await client.post("/api/imports", json=BASE, headers=admin)
    assert conflict.status_code == 409
    csv_without_kind = await client.post(
        "/api/imports", content=b"code,name\nA,B\n", headers={**admin, "Content-Type": "text/csv"}
    )
    assert csv_without_kind.status_code == 422


async def test_create_get_and_duplicate(client: Client, loaded: Headers) -> None:
    r = await client.post(
        "/api/items",
        json={
            "code": "P2",
            "name": "Pump 2",
            "tracking": "none",
            "last_cost": "1.5",
            "inventory_group": "PUMPS",
            "barcodes": ["0403", "0404"],
            "count_mode": "measure",
        },
        headers=loaded,
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "code": "P2",
        "name": "Pump 2",
        "tracking": "none",
        "auto_serialized": False,
        "uom": "EA",
        "last_cost": "1.5",
        "inventory_group": "PUMPS",
        "barcodes": ["0403", "0404"],
        "count_mode": "measure",
    }
    assert (await client.get("/api/items/P2", headers=loaded)).json() == r.json()
    dup = await client.post(
        "/api/items", json={"code": "P2", "name": "x", "tracking": "none"}, headers=loaded
    )
    assert dup.status_code == 409
    assert dup.json()["errors"] == [
        {"location": "code", "message": "already exists in the database: item 'P2'"}
    ]
    taken = await client.post(
        "/api/items",
        json={"code": "P3", "name": "x", "tracking": "none", "barcodes": ["0403"]},
        headers=loaded,
    )
    assert taken.status_code == 409
    bad_ref = await client.post(
        "/api/bins", json={"location": "NOPE", "label": "B-1"}, headers=loaded
    )
    assert bad_ref.status_code == 422
    assert bad_ref.json()["errors"][0]["location"] == "location"
    made = await client.post(
        "/api/bins", json={"location": "MAIN", "label": "B-1", "kind": "out"}, headers=loaded
    )
    assert made.status_code == 201
    got = await client.get("/api/bins/MAIN/B-1", headers=loaded)
    assert got.json() == {"location": "MAIN", "label": "B-1", "kind": "out", "zone": ""}
    for path in (
        "/api/companies/ACME",
        "/api/gl-accounts/1400",
        "/api/gl-entities/E1",
        "/api/inventory-groups/PUMPS",
        "/api/locations/MAIN",
    ):
        assert (await client.get(path, headers=loaded)).status_code == 200, path
    group = (await client.get("/api/inventory-groups/PUMPS", headers=loaded)).json()
    assert group == {
        "code": "PUMPS",
        "name": "Pumps",
        "inventory_account": "1400",
        "adjustment_account": "5100",
        "gl_entity": "E1",
    }


async def test_create_each_kind_through_the_api(client: Client, admin: Headers) -> None:
    posts = [
        ("/api/companies", {"code": "C1", "name": "Co", "intercompany": True}),
        ("/api/gl-accounts", {"code": "1400", "name": "Inventory"}),
        ("/api/gl-entities", {"code": "E1", "name": "E", "company": "C1"}),
        ("/api/inventory-groups", {"code": "G", "name": "G", "inventory_account": "1400"}),
        ("/api/locations", {"code": "L1", "name": "L", "company": "C1", "gl_entity": "E1"}),
        ("/api/bins", {"location": "L1", "label": "A"}),
        ("/api/items", {"code": "S", "name": "S", "tracking": "serial"}),
        ("/api/items", {"code": "N", "name": "N", "tracking": "none"}),
        (
            "/api/serials",
            {
                "item": "S",
                "serial_number": "1",
                "location": "L1",
                "bin": "A",
                "actual_cost": "9.99",
            },
        ),
        (
            "/api/opening-stock",
            {"item": "N", "location": "L1", "bin": "A", "quantity": "3", "unit_cost": "2.5"},
        ),
    ]
    for path, body in posts:
        r = await client.post(path, json=body, headers=admin)
        assert r.status_code == 201, (path, r.text)
        assert r.json() == {**r.json(), **body}
    serial = await client.get("/api/serials/S/1", headers=admin)
    assert serial.json() == posts[8][1]
    wrong = await client.post(
        "/api/opening-stock",
        json={"item": "S", "location": "L1", "bin": "A", "quantity": "1", "unit_cost": "1"},
        headers=admin,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["location"] == "item"


async def test_unknown_codes_are_404(client: Client, loaded: Headers) -> None:
    for path in (
        "/api/companies/NOPE",
        "/api/items/NOPE",
        "/api/bins/MAIN/NOPE",
        "/api/serials/SER1/NOPE",
        "/api/locations/NOPE",
    ):
        r = await client.get(path, headers=loaded)
        assert r.status_code == 404, path
    assert (await client.get("/api/items/NOPE", headers=loaded)).json()["detail"] == (
        "item 'NOPE' does not exist"
    )


async def test_paging_returns_every_record_once_and_filters(
    client: Client, loaded: Headers
) -> None:
    bins = [
        {"location": "MAIN", "label": f"R-{n:03}", "zone": "R" if n % 2 else "S"} for n in range(25)
    ]
    serials = [
        {
            "item": "SER1",
            "serial_number": f"N{n}",
            "location": "MAIN",
            "bin": f"R-{n % 5:03}",
            "actual_cost": "1",
        }
        for n in range(23)
    ]
    r = await client.post("/api/imports", json={"bins": bins, "serials": serials}, headers=loaded)
    assert r.status_code == 200, r.text
    listed = await _all(client, "/api/bins", loaded, 7)
    assert len(listed) == 28
    assert len({(b["location"], b["label"]) for b in listed}) == 28
    listed_serials = await _all(client, "/api/serials", loaded, 5)
    assert sorted(s["serial_number"] for s in listed_serials) == sorted(f"N{n}" for n in range(23))

    async def names(path: str, **params: str) -> list[str]:
        page = await client.get(path, params=params, headers=loaded)
        assert page.status_code == 200, page.text
        return [i.get("label") or i.get("code") or i["serial_number"] for i in page.json()["items"]]

    assert await names("/api/bins", location="WEST") == ["W-01"]
    assert await names("/api/bins", kind="out") == ["OUT-1"]
    assert len(await names("/api/bins", zone="R")) == 12
    assert await names("/api/bins", label_prefix="R-00") == [f"R-00{n}" for n in range(10)]
    assert await names("/api/items", tracking="serial") == ["SER1"]
    assert await names("/api/items", inventory_group="PUMPS") == ["123106"]
    assert await names("/api/items", barcode="PUMP-1") == ["123106"]
    assert await names("/api/serials", bin="R-001", location="MAIN") == [
        f"N{n}" for n in range(1, 23, 5)
    ]
    assert await names("/api/serials", item="NOPE") == []
    assert await names("/api/locations", company="ACME") == ["MAIN", "WEST"]
    bad = await client.get("/api/items", params={"tracking": "batch"}, headers=loaded)
    assert bad.status_code == 422
    bad_cursor = await client.get("/api/bins", params={"cursor": "x"}, headers=loaded)
    assert bad_cursor.status_code == 422


async def test_stock_balances(client: Client, loaded: Headers) -> None:
    document = {
        "serials": [
            {
                "item": "SER1",
                "serial_number": f"D-{n}",
                "location": "MAIN",
                "bin": "A-01",
                "actual_cost": "10",
            }
            for n in range(3)
        ]
        + [
            {
                "item": "SER1",
                "serial_number": "D-9",
                "location": "WEST",
                "bin": "W-01",
                "actual_cost": "10",
            }
        ],
        "opening_stock": [
            {
                "item": "123106",
                "location": "MAIN",
                "bin": "A-01",
                "quantity": "14",
                "unit_cost": "55.232",
            },
            {
                "item": "123106",
                "location": "MAIN",
                "bin": "OUT-1",
                "quantity": "6",
                "unit_cost": "57",
            },
            {
                "item": "LOT1",
                "location": "WEST",
                "bin": "W-01",
                "quantity": "2.5",
                "unit_cost": "3",
                "lot": "L-2",
            },
            {
                "item": "LOT1",
                "location": "WEST",
                "bin": "W-01",
                "quantity": "1",
                "unit_cost": "3",
                "lot": "L-1",
            },
        ],
    }
    r = await client.post("/api/imports", json=document, headers=loaded)
    assert r.status_code == 200, r.text
    everything = await _all(client, "/api/stock", loaded, 2)
    assert everything == [
        {
            "item": "123106",
            "location": "MAIN",
            "bin": "A-01",
            "lot": "",
            "quantity": "14",
            "average_cost": "55.7624",
        },
        {
            "item": "123106",
            "location": "MAIN",
            "bin": "OUT-1",
            "lot": "",
            "quantity": "6",
            "average_cost": "55.7624",
        },
        {
            "item": "LOT1",
            "location": "WEST",
            "bin": "W-01",
            "lot": "L-1",
            "quantity": "1",
            "average_cost": "3",
        },
        {
            "item": "LOT1",
            "location": "WEST",
            "bin": "W-01",
            "lot": "L-2",
            "quantity": "2.5",
            "average_cost": "3",
        },
        {
            "item": "SER1",
            "location": "MAIN",
            "bin": "A-01",
            "lot": "",
            "quantity": "3",
            "average_cost": "10",
        },
        {
            "item": "SER1",
            "location": "WEST",
            "bin": "W-01",
            "lot": "",
            "quantity": "1",
            "average_cost": "10",
        },
    ]
    west = await client.get(
        "/api/stock", params={"location": "WEST", "item": "SER1"}, headers=loaded
    )
    assert [s["quantity"] for s in west.json()["items"]] == ["1"]
    by_bin = await client.get("/api/stock", params={"bin": "OUT-1"}, headers=loaded)
    assert [s["item"] for s in by_bin.json()["items"]] == ["123106"]


async def test_roles_devices_and_missing_token(client: Client, loaded: Headers) -> None:
    assert (await client.get("/api/items")).status_code == 401
    assert (await client.post("/api/imports", content=b"{}")).status_code == 401
    counter = await token(client, "counter")
    supervisor = await token(client, "super")
    assert (await client.get("/api/items", headers=counter)).status_code == 200
    assert (await client.get("/api/stock", headers=counter)).status_code == 200
    company = {"code": "C2", "name": "Co 2"}
    assert (await client.post("/api/companies", json=company, headers=counter)).status_code == 403
    assert (
        await client.post("/api/imports", json={"companies": [company]}, headers=counter)
    ).status_code == 403
    r = await client.post("/api/companies", json=company, headers=supervisor)
    assert r.status_code == 201
    device = (await enroll(client, loaded, "HH-1")).headers
    assert (await client.get("/api/items", headers=device)).status_code == 403
    assert (await client.get("/api/bins", headers=device)).status_code == 403
    assert (
        await client.post("/api/bins", json={"location": "MAIN", "label": "Z"}, headers=device)
    ).status_code == 403


async def test_openapi_lists_the_master_data_paths(client: Client, users: None) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/companies",
        "/api/companies/{code}",
        "/api/gl-accounts",
        "/api/gl-entities",
        "/api/inventory-groups",
        "/api/locations",
        "/api/bins",
        "/api/bins/{location}/{label}",
        "/api/items",
        "/api/items/{code}",
        "/api/serials",
        "/api/serials/{item}/{serial_number}",
        "/api/opening-stock",
        "/api/stock",
        "/api/imports",
    ):
        assert path in schema["paths"], path
