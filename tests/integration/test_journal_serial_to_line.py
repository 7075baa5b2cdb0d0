"""Adding a serialized item in the journal (seed 004), over HTTP on SQLite and PostgreSQL:
the seed's form ("with the Location on the 'To' line completed") and the From/Adjust form
give the same stock, cost and GL; with intercompany on the To line needs its GL entity."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from server.db.engine import make_engine
from server.db.tables import Company
from tests.helpers import token
from tests.integration.test_journal_api import URL
from tests.integration.test_journal_api import data as master_data

Client = AsyncTestClient[Litestar]
__all__ = ["master_data"]  # the fixture, used by name


def addition(serial: str, form: str, to_side: dict[str, Any] | None = None) -> dict[str, Any]:
    if form == "to_line":
        sides: dict[str, Any] = {
            "from_side": {},
            "to_side": {"location": "Main", "bin": "A-01", **(to_side or {})},
        }
    else:
        sides = {"from_side": {"location": "Main", "bin": "A-01"}, "to_side": {"location": "Main"}}
    return {
        "effective_date": "2025-03-14",
        "transaction_type": "adjustment",
        "lines": [{"line_no": 1, "item": "SER", "quantity": "1", "serial": serial,
                   "unit_cost": "120.25", **sides}],
    }  # fmt: skip


async def gl_of(client: Client, number: str, headers: dict[str, str]) -> list[tuple[str, ...]]:
    lines = (await client.get(f"{URL}/{number}/gl", headers=headers)).json()["lines"]
    return [(x["account"], x["entity"], x["debit"], x["credit"]) for x in lines]


async def test_the_to_line_form_adds_the_serial_as_the_from_adjust_form_does(
    client: Client, master_data: None
) -> None:
    headers = await token(client, "super")
    saved = {}
    for serial, form in (("N1", "from_adjust"), ("N2", "to_line")):
        response = await client.post(URL, json=addition(serial, form), headers=headers)
        assert response.status_code == 201, response.text
        saved[form] = response.json()
    to_line = saved["to_line"]["lines"][0]
    # Read back as entered: the From/Adjust line names no place, only its GL.
    assert to_line["from_side"].get("location", "") == "" and "bin" not in to_line["from_side"]
    assert (to_line["from_side"]["gl_account"], to_line["from_side"]["gl_entity"]) == (
        "50111",
        "E-MAIN",
    )
    assert (to_line["to_side"]["gl_account"], to_line["to_side"]["gl_entity"]) == (
        "10150",
        "E-MAIN",
    )
    for serial in ("N1", "N2"):
        found = (await client.get(f"/api/serials/SER/{serial}", headers=headers)).json()
        assert (found["location"], found["bin"], found["actual_cost"]) == ("Main", "A-01", "120.25")
    gl = {form: await gl_of(client, tx["transaction_id"], headers) for form, tx in saved.items()}
    assert (
        gl["to_line"]
        == gl["from_adjust"]
        == [
            ("50111", "E-MAIN", "0", "120.25"),
            ("10150", "E-MAIN", "120.25", "0"),
        ]
    )
    stock = await client.get("/api/stock?item=SER&location=Main&bin=A-01", headers=headers)
    assert [x["quantity"] for x in stock.json()["items"]] == ["2"]

    # Its reversal removes the serial on the From/Adjust line, undoing the GL.
    number = saved["to_line"]["transaction_id"]
    back = await client.post(
        f"{URL}/{number}/reverse", json={"effective_date": "2025-03-15"}, headers=headers
    )
    assert back.status_code == 201, back.text
    line = back.json()["lines"][0]
    assert (line["quantity"], line["from_side"]["location"], line["from_side"]["bin"]) == (
        "-1",
        "Main",
        "A-01",
    )
    assert await gl_of(client, back.json()["transaction_id"], headers) == [
        ("50111", "E-MAIN", "120.25", "0"),
        ("10150", "E-MAIN", "0", "120.25"),
    ]
    missing = await client.get("/api/serials?item=SER&bin=A-01", headers=headers)
    assert [x["serial_number"] for x in missing.json()["items"]] == ["N1"]
    # The serial it removed is in no bin now: null on the wire, never "" against the pattern.
    gone = await client.get("/api/serials/SER/N2", headers=headers)
    assert gone.status_code == 200, gone.text
    assert (gone.json()["location"], gone.json()["bin"]) == (None, None)
    listed = (await client.get("/api/serials?item=SER", headers=headers)).json()["items"]
    places = {x["serial_number"]: (x["location"], x["bin"]) for x in listed}
    assert (places["N1"], places["N2"]) == (("Main", "A-01"), (None, None))


async def test_with_intercompany_on_the_to_line_needs_its_gl_entity(
    client: Client, master_data: None, database_url: str
) -> None:
    headers = await token(client, "super")
    blank = addition("N3", "to_line", {"gl_entity": ""})
    refused = await client.post(URL, json=blank, headers=headers)
    assert refused.status_code == 422, refused.text
    where = {d["location"]: d["message"] for d in refused.json()["errors"]}
    assert "intercompany" in where["lines/1/to_side/gl_entity"]
    assert (await client.get("/api/serials/SER/N3", headers=headers)).status_code == 404
    # Even with no GL at all: the seed requires the entity on that line.
    no_gl = addition("N3", "to_line", {"gl_entity": "", "gl_account": ""})
    no_gl["lines"][0]["from_side"] = {"gl_account": ""}
    refused = await client.post(URL, json=no_gl, headers=headers)
    assert refused.status_code == 422, refused.text

    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(Company).values(intercompany=False))
    finally:
        await engine.dispose()
    accepted = await client.post(URL, json=blank, headers=headers)
    assert accepted.status_code == 201, accepted.text


async def test_the_to_line_form_only_adds_serialized_items(
    client: Client, master_data: None
) -> None:
    headers = await token(client, "super")
    body = addition("N4", "to_line")
    body["lines"][0] |= {"item": "123106", "serial": "", "quantity": "3"}
    refused = await client.post(URL, json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert [d["location"] for d in refused.json()["errors"]] == ["lines/1/from_side"]

    removal = addition("S1", "to_line")
    removal["lines"][0] |= {"quantity": "-1"}
    refused = await client.post(URL, json=removal, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "lines/1/quantity" in {d["location"] for d in refused.json()["errors"]}

    # Adding needs the registry setting in both forms.
    change = {"serialized_additions_allowed": False}
    assert (
        await client.patch("/api/journal/settings", json=change, headers=headers)
    ).status_code == 200
    for form in ("to_line", "from_adjust"):
        refused = await client.post(URL, json=addition("N5", form), headers=headers)
        assert refused.status_code == 422, refused.text
        assert "not enabled" in refused.json()["errors"][0]["message"]
