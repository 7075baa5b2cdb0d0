"""Inventory History over HTTP on SQLite and PostgreSQL: every stock movement with its
date, quantity, cost and source; the WO and job references on the location movements of
job transfers (seed 004); filters, keyset pages, CSV, and count finalize's documents."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import token
from tests.integration import counts_setup
from tests.integration.test_journal_api import URL
from tests.integration.test_journal_api import data as master_data

Client = AsyncTestClient[Litestar]
HISTORY = "/api/inventory-history"
__all__ = ["master_data"]  # the fixture, used by name


async def post(client: Client, body: dict[str, Any], headers: dict[str, str]) -> str:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    number: str = response.json()["transaction_id"]
    return number


def to_work_order() -> dict[str, Any]:
    return {
        "effective_date": "2025-03-14",
        "transaction_type": "loc_to_job",
        "lines": [
            {"line_no": 1, "item": "123106", "quantity": "2",
             "from_side": {"location": "Main", "bin": "A-01"},
             "to_side": {"work_order": "WO1", "cost_code": "100", "cost_category": "MAT"}},
        ],
    }  # fmt: skip


def serial_added() -> dict[str, Any]:
    return {
        "effective_date": "2025-03-20",
        "transaction_type": "adjustment",
        "lines": [{"line_no": 1, "item": "SER", "quantity": "1", "serial": "N1",
                   "unit_cost": "120.25", "from_side": {},
                   "to_side": {"location": "Main", "bin": "A-02"}}],
    }  # fmt: skip


def shown(line: dict[str, Any]) -> tuple[Any, ...]:
    return (
        line["date"], line["item"], line["place"], line.get("location"), line.get("bin"),
        line.get("job"), line.get("cost_code"), line.get("cost_category"),
        line.get("work_order"), line["quantity"], line["unit_cost"], line["value"],
        line["source"], line["source_number"], line.get("transaction_type"), line["serial"],
    )  # fmt: skip


async def test_every_movement_with_its_source_and_the_job_references(
    client: Client, master_data: None
) -> None:
    supervisor = await token(client, "super")
    issue = await post(client, to_work_order(), supervisor)
    added = await post(client, serial_added(), supervisor)
    counter = await token(client, "counter")  # any user reads it, as the journal

    response = await client.get(HISTORY, headers=counter)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [shown(x) for x in page["items"]] == [
        # The location side carries the job side's references "for informational purposes".
        ("2025-03-14", "123106", "location", "Main", "A-01", "J1", "100", "MAT", "WO1",
         "-2", "55.232", "-110.46", "journal_transaction", issue, "loc_to_job", ""),
        ("2025-03-14", "123106", "job", None, None, "J1", "100", "MAT", "WO1",
         "2", "55.232", "110.46", "journal_transaction", issue, "loc_to_job", ""),
        ("2025-03-20", "SER", "location", "Main", "A-02", None, None, None, None,
         "1", "120.25", "120.25", "journal_transaction", added, "adjustment", "N1"),
    ]  # fmt: skip
    first = page["items"][0]
    assert (first["item_name"], first["uom"], first["line_no"]) == ("Seed item", "EA", 1)
    assert page["next_cursor"] is None

    async def numbers(query: str) -> list[tuple[str, str]]:
        found = await client.get(f"{HISTORY}?{query}", headers=counter)
        assert found.status_code == 200, found.text
        return [(x["place"], x["source_number"]) for x in found.json()["items"]]

    assert await numbers("work_order=WO1") == [("location", issue), ("job", issue)]
    assert await numbers("job=J1&place=location") == [("location", issue)]
    assert await numbers("location=Main&bin=A-02") == [("location", added)]
    assert await numbers("item=SER&serial=N1") == [("location", added)]
    assert await numbers("date_from=2025-03-15&date_to=2025-03-31") == [("location", added)]
    assert await numbers("source=quantity_adjustment") == []

    # Keyset pages: the cursor goes on after the last row of the page.
    one = (await client.get(f"{HISTORY}?limit=2", headers=counter)).json()
    assert len(one["items"]) == 2 and one["next_cursor"] is not None
    rest = await client.get(f"{HISTORY}?limit=2&cursor={one['next_cursor']}", headers=counter)
    assert [x["source_number"] for x in rest.json()["items"]] == [added]

    exported = await client.get(HISTORY, headers={**counter, "Accept": "text/csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["place"], r["job"], r["work_order"], r["quantity"], r["value"]) for r in table] == [
        ("location", "J1", "WO1", "-2", "-110.46"),
        ("job", "J1", "WO1", "2", "110.46"),
        ("location", "", "", "1", "120.25"),
    ]
    same = await client.get(f"{HISTORY}?format=csv&item=SER", headers=counter)
    assert [r["serial"] for r in csv.DictReader(io.StringIO(same.text))] == ["N1"]


async def test_bad_filters_and_no_login_are_problem_details(
    client: Client, master_data: None
) -> None:
    headers = await token(client, "counter")
    for query in ("source=invoice", "date_from=yesterday", "limit=0", "cursor=x", "place=bin"):
        response = await client.get(f"{HISTORY}?{query}", headers=headers)
        assert response.status_code in (400, 422), (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(HISTORY)).status_code == 401
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"get"} <= set(paths[HISTORY]) and {"get", "patch"} <= set(
        paths["/api/journal/settings"]
    )


async def test_count_finalize_movements_are_in_the_history(
    database_url: str, client: Client
) -> None:
    await counts_setup.seed(database_url)
    hs = await counts_setup.headers(client)
    sup = hs["super"]
    number = await counts_setup.count_the_scenario(client, sup, hs["counter"])
    await counts_setup.generous_tolerances(client, sup)
    done = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert done.status_code == 200, done.text
    documents = {d["kind"]: d["number"] for d in done.json()["documents"]}

    found = (await client.get(f"{HISTORY}?limit=1000", headers=sup)).json()["items"]
    assert {x["source"] for x in found} == {"quantity_adjustment", "stock_transfer"}
    assert {x["source_number"] for x in found} == set(documents.values())
    today = datetime.now(UTC).date().isoformat()
    assert {x["date"] for x in found} == {today}
    bolt = [x for x in found if x["item"] == "BOLT"]
    assert [(x["bin"], x["quantity"], x["unit_cost"], x["value"]) for x in bolt] == [
        ("A-01", "-2", "2.5", "-5.00")
    ]
    moved = await client.get(f"{HISTORY}?source=stock_transfer&serial=S3", headers=sup)
    assert sorted((x["bin"], x["quantity"]) for x in moved.json()["items"]) == [
        ("A-01", "1"),
        ("A-02", "-1"),
    ]
