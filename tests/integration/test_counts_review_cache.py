"""Review decisions and the reconciliation cache, and generated serial numbers, on SQLite
and PostgreSQL: a clear or approve recomputes nothing yet is visible at once in another
server process; generated serials skip the numbers an item already has."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.api.state import STATE_KEY
from server.app import create_app
from server.counts.sql.snapshot import SqlSnapshots
from server.counts.usecases import counting as count_service
from server.counts.usecases import review as review_service
from server.db.engine import make_engine, make_sessionmaker
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source
from server.settings import Settings
from server.uow import SqlUnitOfWork
from tests.helpers import scalar
from tests.integration.counts_setup import (
    Client,
    bin_count,
    count_the_scenario,
    create_count,
    generous_tolerances,
    headers,
    lines,
    rows,
    seed,
    start,
)


class Calls:
    def __init__(self) -> None:
        self.reconcile = 0
        self.load_snapshot = 0


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Counts the full recomputations (the domain's reconcile as the service calls it) and
    the snapshot loads, in every app of this test process."""
    seen = Calls()
    reconcile = count_service.reconcile
    load_snapshot = SqlSnapshots.load_snapshot

    def counting_reconcile(*args: Any, **kwargs: Any) -> Any:
        # record_bin_count checks a submitted bin count with a one-bin reconcile: only the
        # count's own reconciliation (the cached one) is counted here.
        if kwargs.get("counters") is not None:
            seen.reconcile += 1
        return reconcile(*args, **kwargs)

    async def counting_load(self: SqlSnapshots, count: Any) -> Any:
        seen.load_snapshot += 1
        return await load_snapshot(self, count)

    monkeypatch.setattr(count_service, "reconcile", counting_reconcile)
    monkeypatch.setattr(SqlSnapshots, "load_snapshot", counting_load)
    return seen


def _cache_of(app: Litestar) -> Any:
    """The reconciliation cache of an app's runtime: one per server process."""
    return app.state[STATE_KEY].reconciliations


def _comparable(documents: list[dict[str, Any]]) -> list[Any]:
    return [(d["kind"], d["total_value"], d["lines"], d["gl_lines"]) for d in documents]


def _line(found: list[dict[str, Any]], kind: str, serial: str) -> dict[str, Any]:
    return next(x for x in found if x["kind"] == kind and x["serial"] == serial)


async def test_review_decisions_recompute_nothing_and_show_in_another_process(
    database_url: str, client: Client, calls: Calls
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup, sup2 = hs["super"], hs["super2"]
    number = await count_the_scenario(client, sup, hs["counter"])
    missing = _line(await lines(client, sup, number), "missing", "S2")
    assert missing["selected"] is True and calls.reconcile == 1 and calls.load_snapshot == 1
    version = await scalar(database_url, "SELECT version FROM stock_count")
    url = f"/api/counts/{number}/lines/{missing['id']}"

    # A second process (its own app and runtime, its cache empty) clears the line.
    other = create_app(Settings(database_url=database_url, log_level="WARNING"))
    async with AsyncTestClient(app=other) as second:
        assert len(_cache_of(other)) == 0 and len(_cache_of(client.app)) == 1
        r = await second.put(f"{url}/clear", headers=sup2)
        assert r.status_code == 200 and r.json()["selected"] is False
        assert calls.load_snapshot == 2  # the second process built its own, once
        assert _cache_of(other) is not _cache_of(client.app) and len(_cache_of(other)) == 1
        built = calls.reconcile

        # The first process sees the decision at once, from its cache: nothing rebuilt.
        assert _line(await lines(client, sup, number), "missing", "S2")["selected"] is False
        # An approval in the first process shows in the second, which rebuilds nothing.
        r = await client.post(f"{url}/approve", json={"reason_code": "LOST"}, headers=sup2)
        assert r.status_code == 200 and r.json()["approved_by"] == "super2"
        seen = _line(await lines(second, sup, number), "missing", "S2")
        assert (seen["approved_by"], seen["reason_code"], seen["selected"]) == (
            "super2",
            "LOST",
            True,
        )
    assert calls.reconcile == built and calls.load_snapshot == 2
    # Review decisions leave the version the processes check their cache against.
    assert await scalar(database_url, "SELECT version FROM stock_count") == version

    # A bin count does change the inputs: the version moves and the next read recomputes
    # (from the cached snapshot, which is never reloaded).
    await bin_count(client, hs["counter"], number, "A-03", [], [], at=30)
    assert await scalar(database_url, "SELECT version FROM stock_count") == version + 1
    assert _line(await lines(client, sup, number), "missing", "S2")["approved_by"] == "super2"
    assert calls.reconcile == built + 1 and calls.load_snapshot == 2


async def test_a_decision_reuses_the_reads_lines_above_tolerance(
    database_url: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision takes the lines above tolerance the reads computed for the same
    reconciliation and tolerances (no pass over every line), and answers as before."""
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    passes: list[int] = []
    needing = review_service.lines_needing_approval

    def counted(*args: Any) -> Any:
        passes.append(1)
        return needing(*args)

    monkeypatch.setattr(review_service, "lines_needing_approval", counted)
    missing = _line(await lines(client, sup, number), "missing", "S2")
    r = await client.get(f"/api/counts/{number}/review", headers=sup)
    assert r.status_code == 200, r.text
    assert len(passes) == 1  # the profile read used the first read's
    r = await client.put(f"/api/counts/{number}/lines/{missing['id']}/clear", headers=sup)
    assert r.status_code == 200 and r.json()["selected"] is False
    assert r.json()["needs_approval"] is True
    assert len(passes) == 1


async def test_generated_serials_skip_numbers_the_item_has(
    database_url: str, client: Client
) -> None:
    """AUTO already has <count>-G000001 (in B-01, outside the scope) and the counter scans
    an unknown AUTO serial <count>-G000002 in A-02 beside 2 units without serial: the two
    generated serials are G000003 and G000004, in the preview and in finalize."""
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup)
    taken = f"{number}-G000001"
    import_body = {
        "serials": [
            {"item": "AUTO", "serial_number": taken, "location": "MAIN", "bin": "B-01",
             "actual_cost": "7"}
        ]
    }  # fmt: skip
    engine = make_engine(database_url)
    try:
        await import_sources(SqlUnitOfWork(make_sessionmaker(engine)), [Source("x", import_body)])
    finally:
        await engine.dispose()
    await start(client, sup, number)
    scanned = f"{number}-G000002"
    await bin_count(
        client, hs["counter"], number, "A-02",
        [("SER", "S3"), ("AUTO", scanned)], [("LOTI", "L1", "5"), ("AUTO", "", "2")],
    )  # fmt: skip
    await generous_tolerances(client, sup)
    preview = await client.get(f"/api/counts/{number}/preview", headers=sup)
    assert preview.status_code == 200, preview.text
    done = await client.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
    assert done.status_code == 200, done.text
    assert _comparable(done.json()["documents"]) == _comparable(preview.json()["documents"])
    auto = await rows(
        database_url,
        "SELECT s.serial_number, b.label FROM serial s JOIN item i ON i.id = s.item_id "
        "LEFT JOIN bin b ON b.id = s.bin_id WHERE i.code = 'AUTO' ORDER BY 1",
    )
    assert auto == [
        (taken, "B-01"),
        (scanned, "A-02"),
        (f"{number}-G000003", "A-02"),
        (f"{number}-G000004", "A-02"),
    ]
