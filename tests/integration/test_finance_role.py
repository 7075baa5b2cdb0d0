"""The read-only role `finance`: a count's documents, the journal's transactions with their
GL, Inventory History; nothing else, and no write anywhere (the API's guards)."""

from __future__ import annotations

from datetime import UTC, datetime

from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.domain.masterdata import Role
from tests.helpers import PASSWORD, scalar, token
from tests.integration.counts_setup import (
    Client,
    count_the_scenario,
    generous_tolerances,
    headers,
    seed,
)


async def test_finance_reads_documents_and_books_and_changes_nothing(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    async with open_runtime(database_url) as runtime:
        await auth.create_user(runtime.uow(), "finance", PASSWORD, Role.FINANCE, datetime.now(UTC))
    hs = await headers(client)
    sup, counter = hs["super"], hs["counter"]
    fin = await token(client, "finance")
    me = await client.get("/api/me", headers=fin)
    assert me.json()["role"] == "finance"

    number = await count_the_scenario(client, sup, counter)
    await generous_tolerances(client, sup)
    done = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert done.status_code == 200, done.text

    # reads: the documents (not a counter's), the journal and Inventory History
    for path in (
        f"/api/counts/{number}/documents",
        f"/api/documents/quantity_adjustment/QA-{number}",
        f"/api/counts/{number}/documents?format=csv",
        "/api/inventory-history",
        "/api/journal/transactions",
    ):
        answer = await client.get(path, headers=fin)
        assert answer.status_code == 200, (path, answer.text)
    assert (await client.get(f"/api/counts/{number}/documents", headers=counter)).status_code == 403

    # everything else is refused, and refused before anything changes
    before = await scalar(database_url, "SELECT count(*) FROM stock_count")
    for method, path, body in (
        ("GET", f"/api/counts/{number}/review", None),
        ("GET", f"/api/counts/{number}/preview", None),
        ("POST", "/api/counts", {"location": "MAIN", "scope": "all"}),
        ("POST", f"/api/counts/{number}/cancel", None),
        ("PUT", "/api/locations/MAIN/tolerances", {"quantity": "1"}),
        ("POST", "/api/reason-codes", {"code": "X", "description": "x"}),
        ("POST", "/api/journal/transactions", {}),
    ):
        answer = await client.request(method, path, json=body, headers=fin)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "finance" in answer.json()["detail"]
    assert await scalar(database_url, "SELECT count(*) FROM stock_count") == before
