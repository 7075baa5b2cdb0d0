"""GET /api/counts/{number} answers its bins a page at a time, on SQLite and PostgreSQL:
the pages put together are the whole count (expected quantities, counted, recount
ordered), a blind count shows no expected quantity on any page, and a bad cursor or limit
is a problem that names it."""

from __future__ import annotations

from typing import Any

from tests.integration.counts_setup import Client, bin_count, create_count, headers, seed, start


async def _pages(client: Client, h: dict[str, str], number: str, limit: int) -> list[Any]:
    pages: list[Any] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get(f"/api/counts/{number}", params=params, headers=h)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        cursor = r.json()["bins_next_cursor"]
        if cursor is None:
            return pages


async def test_the_pages_of_bins_make_the_whole_count(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup, scope="all")
    await start(client, sup, number)
    await bin_count(client, hs["counter"], number, "A-01", [("SER", "S1")], [("BOLT", "", "8")])
    await bin_count(client, hs["counter"], number, "B-01", [("SER", "S5")])
    ordered = await client.post(
        f"/api/counts/{number}/recounts", json={"bins": ["A-01"], "reason": "check"}, headers=sup
    )
    assert ordered.status_code == 200, ordered.text

    whole = await client.get(f"/api/counts/{number}", headers=sup)
    assert whole.status_code == 200, whole.text
    assert whole.json()["bins_next_cursor"] is None
    bins = whole.json()["bins"]
    assert [b["label"] for b in bins] == ["A-01", "A-02", "A-03", "B-01", "OUT-1"]
    by_label = {b["label"]: b for b in bins}
    assert by_label["A-01"]["recount_ordered"] and not by_label["A-01"]["counted"]
    assert by_label["B-01"]["counted"] and by_label["B-01"]["expected"] == "1"
    assert by_label["A-01"]["expected"] == "12"

    pages = await _pages(client, sup, number, 2)
    assert [len(p["bins"]) for p in pages] == [2, 2, 1]
    assert [b for p in pages for b in p["bins"]] == bins
    header = {k: v for k, v in whole.json().items() if k not in ("bins", "bins_next_cursor")}
    assert all({k: p[k] for k in header} == header for p in pages)

    # exactly a page's worth: no empty page after it
    assert [len(p["bins"]) for p in await _pages(client, sup, number, 5)] == [5]

    # a blind count: no expected quantity for the counter on any page
    blind = await create_count(client, sup, blind=True)
    await start(client, sup, blind)
    seen = await _pages(client, hs["counter"], blind, 2)
    assert [b["expected"] for p in seen for b in p["bins"]] == [None, None, None]

    for query, says in (("cursor=abc", "cursor"), ("limit=0", "limit"), ("limit=1001", "limit")):
        r = await client.get(f"/api/counts/{number}?{query}", headers=sup)
        assert r.status_code in (400, 422), r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert says in r.json()["detail"], r.text
