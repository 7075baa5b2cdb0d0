"""The demo's sample data is enough to try the journal: a period covering today, a job
with cost codes and categories and a work order; on SQLite and PostgreSQL, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.bootstrap import import_into_database
from server.demo.data import DEMO_JOB, DEMO_WORK_ORDER, SEED_ITEM, sample_warehouse
from tests.helpers import add_users, token

Client = AsyncTestClient[Litestar]


async def test_a_loc_to_work_order_and_its_return_on_the_demo_data(
    client: Client, database_url: str
) -> None:
    today = datetime.now(UTC).date()
    document = sample_warehouse(today=today)
    await import_into_database(database_url, [("demo.json", document, None)])
    await add_users(database_url)
    headers = await token(client, "super")
    bin_ = next(
        o["bin"]
        for o in document["opening_stock"]
        if o["item"] == SEED_ITEM and o["location"] == "MAIN"
    )
    body = {
        "effective_date": today.isoformat(),
        "transaction_type": "loc_to_job",
        "lines": [
            {
                "line_no": 1,
                "item": SEED_ITEM,
                "quantity": "2",
                "from_side": {"location": "MAIN", "bin": bin_},
                "to_side": {"work_order": DEMO_WORK_ORDER},
            }
        ],
    }
    saved = await client.post("/api/journal/transactions", json=body, headers=headers)
    assert saved.status_code == 201, saved.text
    tx = saved.json()
    assert tx["period"] == f"{today:%Y-%m}" and tx["warnings"] == []
    to_side = tx["lines"][0]["to_side"]
    assert (to_side["job"], to_side["cost_code"], to_side["gl_account"]) == (
        DEMO_JOB,
        "100",
        "50100",
    )
    assert to_side["billing"]["unit_price"] == "80"  # the job's price level
    glh = await client.get(f"/api/journal/transactions/{tx['transaction_id']}/gl", headers=headers)
    assert glh.json()["total_debit"] == glh.json()["total_credit"] != "0"

    request = {"job": DEMO_JOB, "location": "MAIN", "bin": bin_,
               "effective_date": today.isoformat()}  # fmt: skip
    draft = await client.post(
        "/api/journal/wizards/return-to-location", json=request, headers=headers
    )
    assert draft.status_code == 200, draft.text
    back = await client.post("/api/journal/transactions", json=draft.json(), headers=headers)
    assert back.status_code == 201, back.text
    costs = await client.get(f"/api/journal/work-orders/{DEMO_WORK_ORDER}/costs", headers=headers)
    assert [x["quantity"] for x in costs.json()["lines"]] == ["2", "-2"]

    # Inventory History: the location side of both carries the WO and job references.
    history = await client.get(
        f"/api/inventory-history?work_order={DEMO_WORK_ORDER}", headers=headers
    )
    assert history.status_code == 200, history.text
    assert [
        (x["place"], x.get("bin"), x["job"], x["quantity"], x["transaction_type"])
        for x in history.json()["items"]
    ] == [
        ("location", bin_, DEMO_JOB, "-2", "loc_to_job"),
        ("job", None, DEMO_JOB, "2", "loc_to_job"),
        ("job", None, DEMO_JOB, "-2", "job_to_loc"),
        ("location", bin_, DEMO_JOB, "2", "job_to_loc"),
    ]
