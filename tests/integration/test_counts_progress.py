"""The counts' progress for the pages (server/counts/usecases/progress.py) on both
databases: scope, counted, conflicts, recounts open and last activity per count, and one
count's bins a page at a time with their states, who counted and a conflict's sides."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from server.bootstrap import open_runtime
from server.counts.usecases.progress import BinState, count_board, counts_with_progress
from server.domain.auth import Caller, CallerKind
from server.domain.masterdata import Role
from tests.integration.counts_setup import (
    Client,
    bin_count,
    create_count,
    headers,
    seed,
    start,
)

SUPER = Caller(CallerKind.USER, "super", user_id=2, role=Role.SUPERVISOR)


async def test_progress_and_the_bins_of_a_count(database_url: str, client: Client) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    waiting = await create_count(client, sup, scope="all", prefix="")  # Open: no snapshot
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, hs["counter"], number, "A-01", [("SER", "S1"), ("SER", "S2")])
    await bin_count(client, hs["counter"], number, "A-02", [], [("LOTI", "L1", "5")], at=10)
    await bin_count(client, hs["super2"], number, "A-02", [], [("LOTI", "L1", "4")], at=20)
    await bin_count(client, hs["counter"], number, "A-03", [], [], at=30)
    ordered = await client.post(
        f"/api/counts/{number}/recounts", json={"bins": ["A-03"], "reason": "again"}, headers=sup
    )
    assert ordered.status_code == 200, ordered.text

    async with open_runtime(database_url) as runtime:
        rows = await counts_with_progress(runtime.uow(), SUPER, 0, 10, None, None)
        one = await counts_with_progress(runtime.uow(), SUPER, 0, 10, "MAIN", "open")
        first = await count_board(runtime.uow(), SUPER, number, 0, 2)
        second = await count_board(runtime.uow(), SUPER, number, 2, 2)
        only = await count_board(runtime.uow(), SUPER, number, 0, 50, "A-02")

    by_number = {r.count.number: r for r in rows}
    assert [r.count.number for r in one] == [waiting]
    idle = by_number[waiting]
    assert (idle.scope_bins, idle.counted_bins, idle.conflicts, idle.last_activity) == (
        5,
        0,
        0,
        None,
    )
    busy = by_number[number]
    # A-01 counted, A-02 in conflict (two counters disagree), A-03 waits for its recount
    assert (busy.scope_bins, busy.counted_bins, busy.conflicts, busy.recounts_open) == (3, 2, 1, 1)
    assert busy.last_activity is not None and busy.last_activity <= datetime.now(UTC)

    assert first.matching_bins == 3 and second.matching_bins == 3
    states = {b.label: b.state for b in [*first.bins, *second.bins]}
    assert states == {
        "A-01": BinState.COUNTED,
        "A-02": BinState.CONFLICT,
        "A-03": BinState.RECOUNT,
    }
    a01 = first.bins[0]
    assert [h.counter_name for h in a01.counted_by] == ["counter"] and not a01.conflict
    (a02,) = only.bins
    assert only.matching_bins == 1
    sides = {s.header.counter_name: s.quantities for s in a02.conflict}
    assert sides == {
        "counter": [("LOTI", "L1", Decimal(5))],
        "super2": [("LOTI", "L1", Decimal(4))],
    }
