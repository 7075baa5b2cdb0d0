"""The journal's Fill Lines wizards, Get Costs, the transaction list, the bin rule and the
journal's master data API, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from server.db.engine import make_engine
from server.db.tables import Base
from server.tables import metadata as _all_tables  # noqa: F401  (every feature on Base)
from tests.helpers import token
from tests.integration.test_journal_api import URL
from tests.integration.test_journal_api import data as master_data

Client = AsyncTestClient[Litestar]
WIZARDS = "/api/journal/wizards"
__all__ = ["master_data"]  # the fixture, used by name


@pytest.fixture
async def data(database_url: str, master_data: None) -> None:
    """The journal API's master data; on PostgreSQL the id sequences are moved past the
    ids that the master data was written with, so records created over the API fit."""
    if not database_url.startswith("postgresql"):
        return
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            for name, t in Base.metadata.tables.items():
                if "id" in t.c and t.c.id.primary_key:
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false) "
                            f"WHERE pg_get_serial_sequence('{name}', 'id') IS NOT NULL"
                        )
                    )
    finally:
        await engine.dispose()


def to_work_order(quantity: str) -> dict[str, Any]:
    return {
        "effective_date": "2025-03-14",
        "transaction_type": "loc_to_job",
        "lines": [
            {"line_no": 1, "item": "123106", "quantity": quantity,
             "from_side": {"location": "Main", "bin": "A-01"},
             "to_side": {"work_order": "WO1", "cost_code": "100", "cost_category": "MAT",
                         "billing": {"extra": True}}},
        ],
    }  # fmt: skip


async def save(client: Client, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def returned_draft(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    request = {"job": "J1", "work_order": "WO1", "location": "Main", "bin": "A-02",
               "effective_date": "2025-03-20"}  # fmt: skip
    response = await client.post(f"{WIZARDS}/return-to-location", json=request, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_return_wizard_undoes_the_original_and_get_costs_lists_both(
    client: Client, data: None
) -> None:
    headers = await token(client, "super")
    original = await save(client, to_work_order("2"), headers)
    draft = await returned_draft(client, headers)
    assert "transaction_id" not in draft  # a draft: nothing saved
    assert draft["transaction_type"] == "job_to_loc"
    (line,) = draft["lines"]
    assert (line["origin"], line["quantity"], line["unit_cost"], line["burden_unit_cost"]) == (
        "wizard",
        "2",
        "55.232",
        "8.2848",
    )
    billing = line["from_side"]["billing"]
    assert (billing["unit_price"], billing["extra"], billing["use_tax_rate"]) == (
        "12.5",
        True,
        "7.5",
    )
    assert billing["quantity_billable"] == "0"  # what saving applies, per the settings
    assert line["to_side"] == {"location": "Main", "bin": "A-02"}

    saved = await save(client, draft, headers)
    jch = (await client.get(f"{URL}/{saved['transaction_id']}/job-history", headers=headers)).json()
    (back,) = jch["lines"]
    assert (back["quantity"], back["material_cost"], back["quantity_billable"]) == (
        "-2",
        "-135.31",
        "0",  # the wizard defaults quantity billable from the quantity only by the setting
    )
    costs = (await client.get("/api/journal/work-orders/WO1/costs", headers=headers)).json()
    assert costs["job"] == "J1"
    assert [(x["transaction_id"], x["quantity"], x["material_cost"]) for x in costs["lines"]] == [
        (original["transaction_id"], "2", "135.31"),
        (saved["transaction_id"], "-2", "-135.31"),
    ]
    assert (await returned_draft(client, headers))["lines"] == []  # nothing left on the job
    glh = (await client.get(f"{URL}/{saved['transaction_id']}/gl", headers=headers)).json()
    first = (await client.get(f"{URL}/{original['transaction_id']}/gl", headers=headers)).json()
    assert glh["total_debit"] == first["total_debit"]
    missing = await client.get("/api/journal/work-orders/NOPE/costs", headers=headers)
    assert missing.status_code == 404


async def test_saving_a_wizard_line_checks_it_against_job_history(
    client: Client, data: None
) -> None:
    headers = await token(client, "super")
    await save(client, to_work_order("2"), headers)
    draft = await returned_draft(client, headers)
    forged = {**draft, "lines": [{**draft["lines"][0], "unit_cost": "99"}]}
    response = await client.post(URL, json=forged, headers=headers)
    assert response.status_code == 422, response.text
    assert [e["location"] for e in response.json()["errors"]] == ["lines/1/from_side"]
    too_many = {**draft, "lines": [{**draft["lines"][0], "quantity": "3"}]}
    response = await client.post(URL, json=too_many, headers=headers)
    assert [e["location"] for e in response.json()["errors"]] == ["lines/1/quantity"]
    reversal = {**draft, "lines": [{**draft["lines"][0], "origin": "reversal"}]}
    response = await client.post(URL, json=reversal, headers=headers)
    assert "lines/1/origin" in [e["location"] for e in response.json()["errors"]]
    manual = {**draft, "lines": [{**draft["lines"][0], "origin": "manual"}]}
    response = await client.post(URL, json=manual, headers=headers)
    assert response.status_code == 422  # a manual line cannot carry the computed fields


async def test_location_to_location_wizard_moves_everything(client: Client, data: None) -> None:
    headers = await token(client, "super")
    for path, body in (
        ("/api/locations", {"code": "North", "name": "North", "company": "C1"}),
        ("/api/bins", {"location": "North", "label": "N-01"}),
    ):
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
    request = {"source": "Main", "target": "North", "target_bin": "N-01",
               "effective_date": "2025-03-14"}  # fmt: skip
    response = await client.post(f"{WIZARDS}/location-to-location", json=request, headers=headers)
    assert response.status_code == 200, response.text
    draft = response.json()
    moved = [(x["item"], x["from_side"]["bin"], x["quantity"], x["serial"]) for x in draft["lines"]]
    assert moved == [
        ("123106", "A-01", "10", ""),
        ("123106", "A-02", "4", ""),
        ("SER", "A-02", "1", "S1"),
    ]  # fmt: skip
    await save(client, draft, headers)
    stock = (await client.get("/api/stock?location=North", headers=headers)).json()
    assert sorted((x["item"], x["quantity"]) for x in stock["items"]) == [
        ("123106", "14"),
        ("SER", "1"),
    ]
    left = (await client.get("/api/stock?location=Main", headers=headers)).json()
    assert all(x["quantity"] == "0" for x in left["items"])


async def test_list_filters_and_pages(client: Client, data: None) -> None:
    headers = await token(client, "super")
    first = await save(client, to_work_order("1"), headers)
    second = await save(client, to_work_order("2"), headers)
    draft = await returned_draft(client, headers)
    third = await save(client, draft, headers)

    async def ids(query: str) -> list[str]:
        response = await client.get(f"{URL}?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [x["transaction_id"] for x in response.json()["items"]]

    numbers = [t["transaction_id"] for t in (first, second, third)]
    assert await ids("") == numbers
    assert await ids("transaction_type=loc_to_job") == numbers[:2]
    assert await ids("date_from=2025-03-15") == numbers[2:]
    assert await ids("date_to=2025-03-14&period=2025-03") == numbers[:2]
    assert await ids("item=123106") == numbers and await ids("item=SER") == []
    page = (await client.get(f"{URL}?limit=2", headers=headers)).json()
    assert [x["line_count"] for x in page["items"]] == [1, 1]
    rest = await client.get(f"{URL}?limit=2&cursor={page['next_cursor']}", headers=headers)
    assert [x["transaction_id"] for x in rest.json()["items"]] == numbers[2:]
    bad = await client.get(f"{URL}?transaction_type=sideways", headers=headers)
    assert bad.status_code == 400


async def test_a_location_side_that_moves_stock_names_its_bin(client: Client, data: None) -> None:
    body = to_work_order("1")
    body["lines"][0]["from_side"] = {"location": "Main"}
    response = await client.post(URL, json=body, headers=await token(client, "super"))
    assert response.status_code == 422, response.text
    where = {e["location"]: e["message"] for e in response.json()["errors"]}
    assert "name the bin" in where["lines/1/from_side/bin"]


@pytest.mark.parametrize(
    ("path", "body", "read"),
    [
        ("/api/journal/periods",
         {"code": "2025-04", "starts": "2025-04-01", "ends": "2025-04-30"},
         "/api/journal/periods/2025-04"),
        ("/api/journal/cost-categories",
         {"code": "EQP", "name": "Equipment", "selection_cost_type": "equipment",
          "expense_account": "50100"},
         "/api/journal/cost-categories/EQP"),
        ("/api/journal/jobs",
         {"code": "J9", "name": "Nine", "company": "C1", "price_level": "P1",
          "use_tax_rate": "5"},
         "/api/journal/jobs/J9"),
        ("/api/journal/cost-codes",
         {"job": "J1", "code": "200", "name": "Roof", "allowed_categories": ["MAT"]},
         "/api/journal/jobs/J1/cost-codes/200"),
        ("/api/journal/work-orders",
         {"code": "WO2", "job": "J1", "cost_code": "100", "cost_category": "MAT"},
         "/api/journal/work-orders/WO2"),
    ],
)  # fmt: skip
async def test_master_data_create_get_list_and_refusals(
    client: Client, data: None, path: str, body: dict[str, Any], read: str
) -> None:
    headers = await token(client, "super")
    created = await client.post(path, json=body, headers=headers)
    assert created.status_code == 201, created.text
    got = await client.get(read, headers=await token(client, "counter"))
    assert got.status_code == 200 and got.json() == created.json()
    for key, value in body.items():
        assert got.json()[key] == value
    listed = (await client.get(path, headers=headers)).json()["items"]
    assert created.json() in listed
    again = await client.post(path, json=body, headers=headers)
    assert again.status_code == 409, again.text
    assert (
        await client.post(path, json=body, headers=await token(client, "counter"))
    ).status_code == 403
    assert (await client.get(read + "X", headers=headers)).status_code == 404


async def test_master_data_refusals_name_the_field(client: Client, data: None) -> None:
    headers = await token(client, "super")
    response = await client.post(
        "/api/journal/work-orders",
        json={"code": "WO3", "job": "J1", "cost_code": "999"},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == "cost_code"
    codes = await client.get("/api/journal/cost-codes?job=J1", headers=headers)
    assert [(x["code"], x["allowed_categories"]) for x in codes.json()["items"]] == [
        ("100", ["MAT"])
    ]
