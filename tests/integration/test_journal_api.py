"""The journal's HTTP API on SQLite and PostgreSQL: save, read back, GLH tab, job
history, reverse, roles, problem details, no edits."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.db.engine import make_engine, make_sessionmaker
from tests.helpers import add_users, token
from tests.integration.test_journal_facts import add_master_data

Client = AsyncTestClient[Litestar]
URL = "/api/journal/transactions"


@pytest.fixture
async def data(database_url: str) -> None:
    await add_users(database_url)
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await add_master_data(db, user=False)
            await db.commit()
    finally:
        await engine.dispose()


def average_cost(gl: bool) -> dict[str, Any]:
    def side(account: str) -> dict[str, Any]:
        if gl:
            return {"location": "Main", "bin": "A-01", "gl_account": account}
        return {"location": "Main", "bin": "A-01", "gl_account": "", "gl_entity": ""}

    to_side = side("10150") if gl else None
    return {
        "effective_date": "2025-03-14",
        "transaction_type": "adjustment",
        "description": "average cost to 57",
        "lines": [
            {"line_no": 1, "item": "123106", "quantity": "-14", "from_side": side("50111"),
             "to_side": to_side},
            {"line_no": 2, "item": "123106", "quantity": "14", "unit_cost": "57.000",
             "from_side": side("50111"), "to_side": to_side},
        ],
    }  # fmt: skip


async def test_seed_average_cost_adjustment_and_its_glh_tab(client: Client, data: None) -> None:
    headers = await token(client, "super")
    response = await client.post(URL, json=average_cost(gl=True), headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    number = body["transaction_id"]
    assert number == "IA-00000001"
    assert (body["user_id"], body["period"], body["warnings"]) == ("super", "2025-03", [])
    assert [x["unit_cost"] for x in body["lines"]] == ["55.232", "57"]

    glh = (await client.get(f"{URL}/{number}/gl", headers=headers)).json()
    assert [(x["line_no"], x["account"], x["debit"], x["credit"]) for x in glh["lines"]] == [
        (1, "50111", "773.25", "0"),
        (1, "10150", "0", "773.25"),
        (2, "50111", "0", "798.00"),
        (2, "10150", "798.00", "0"),
    ]
    assert (glh["count"], glh["total_debit"], glh["total_credit"]) == (4, "1571.25", "1571.25")
    first = glh["lines"][0]
    assert (first["account_name"], first["entity"], first["company"]) == (
        "Inventory adjustment",
        "E-MAIN",
        "C1",
    )
    assert (first["journal"], first["period"], first["date"], first["intercompany"]) == (
        "IA",
        "2025-03",
        "2025-03-14",
        False,
    )
    read = await client.get(f"{URL}/{number}", headers=await token(client, "counter"))
    assert read.status_code == 200
    assert read.json()["lines"] == body["lines"]


async def test_without_gl_accounts_there_is_no_glh(client: Client, data: None) -> None:
    headers = await token(client, "super")
    response = await client.post(URL, json=average_cost(gl=False), headers=headers)
    assert response.status_code == 201, response.text
    glh = await client.get(f"{URL}/{response.json()['transaction_id']}/gl", headers=headers)
    assert glh.json()["lines"] == []


async def test_rules_answer_422_naming_each_field(client: Client, data: None) -> None:
    body = {
        "effective_date": "2025-03-14",
        "transaction_type": "loc_to_loc",
        "lines": [
            {"line_no": 1, "item": "123106", "quantity": "1",
             "from_side": {"location": "Main", "bin": "A-01"},
             "to_side": {"job": "J1", "cost_code": "100", "cost_category": "MAT"}},
            {"line_no": 2, "item": "SER", "quantity": "2",
             "from_side": {"location": "Main"}, "to_side": {"location": "Main", "bin": "A-01"},
             "serial": "S1"},
        ],
    }  # fmt: skip
    response = await client.post(URL, json=body, headers=await token(client, "super"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    where = {d["location"]: d["message"] for d in response.json()["errors"]}
    assert "no job data" in where["lines/1/to_side"]
    assert "1 and -1" in where["lines/2/quantity"]


async def test_job_transfer_warns_after_date_closed_and_writes_job_history(
    client: Client, data: None
) -> None:
    headers = await token(client, "super")
    body = {
        "effective_date": "2025-03-14",
        "transaction_type": "loc_to_job",
        "lines": [
            {"line_no": 1, "item": "123106", "quantity": "2",
             "from_side": {"location": "Main", "bin": "A-01"},
             "to_side": {"work_order": "WO1", "cost_code": "100", "cost_category": "MAT",
                         "billing": {"extra": True}}},
        ],
    }  # fmt: skip
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    saved = response.json()
    assert [w["location"] for w in saved["warnings"]] == ["lines/1/to_side/job"]
    to_side = saved["lines"][0]["to_side"]
    assert (to_side["job"], to_side["equipment"], to_side["gl_account"]) == ("J1", "EQ-7", "50100")
    assert to_side["billing"]["billing_rate"] == "unit_price"
    assert to_side["billing"]["amount_revenue"] == "25.00"  # Extra on a fixed-fee job
    assert saved["lines"][0]["burden_unit_cost"] == "8.2848"

    number = saved["transaction_id"]
    jch = (await client.get(f"{URL}/{number}/job-history", headers=headers)).json()
    (line,) = jch["lines"]
    assert (line["job"], line["work_order"], line["quantity"], line["material_cost"]) == (
        "J1",
        "WO1",
        "2",
        "135.31",
    )
    back = await client.post(
        f"{URL}/{number}/reverse", json={"effective_date": "2025-03-20"}, headers=headers
    )
    assert back.status_code == 201, back.text
    assert (back.json()["transaction_type"], back.json()["reverses"]) == ("job_to_loc", number)
    again = await client.post(
        f"{URL}/{number}/reverse", json={"effective_date": "2025-03-21"}, headers=headers
    )
    assert again.status_code == 409 and again.json()["code"] == "already-reversed"
    original = (await client.get(f"{URL}/{number}", headers=headers)).json()
    assert original["reversed_by"] == back.json()["transaction_id"]


async def test_roles_unknown_ids_and_no_edits(client: Client, data: None) -> None:
    counter = await token(client, "counter")
    denied = await client.post(URL, json=average_cost(gl=True), headers=counter)
    assert denied.status_code == 403
    assert (await client.get(f"{URL}/IA-99", headers=counter)).status_code == 404
    supervisor = await token(client, "super")
    number = (await client.post(URL, json=average_cost(gl=True), headers=supervisor)).json()[
        "transaction_id"
    ]
    assert (await client.put(f"{URL}/{number}", json={}, headers=supervisor)).status_code == 405
    assert (await client.delete(f"{URL}/{number}", headers=supervisor)).status_code == 405


async def test_openapi_lists_the_journal_paths(client: Client, data: None) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    paths = response.json()["paths"]
    for path in (
        URL,
        URL + "/{transaction_id}",
        URL + "/{transaction_id}/gl",
        URL + "/{transaction_id}/job-history",
        URL + "/{transaction_id}/reverse",
    ):
        assert path in paths
