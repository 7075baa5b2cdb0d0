"""Update imports on both databases: `POST /api/imports?mode=update`, `stockcount import
--update`, the refusals that protect history, and the change log."""

from __future__ import annotations

import asyncio
import getpass
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.db.engine import make_engine, make_sessionmaker
from server.masterdata.usecases.importer import Updating, run_import
from server.masterdata.usecases.sources import Source
from server.uow import SqlUnitOfWork
from tests.helpers import token
from tests.integration.counts_setup import WAREHOUSE, create_count, rows, seed, start

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]
UPDATE = {"mode": "update"}
# What an update may touch, read straight from the tables.
STATE_SQL = {
    "company": "SELECT code, name, intercompany FROM company ORDER BY code",
    "gl_account": "SELECT code, name FROM gl_account ORDER BY code",
    "gl_entity": "SELECT code, name, company_id FROM gl_entity ORDER BY code",
    "inventory_group": "SELECT code, name, inventory_account_id, adjustment_account_id, "
    "gl_entity_id FROM inventory_group ORDER BY code",
    "location": "SELECT code, name, company_id, gl_entity_id FROM location ORDER BY code",
    "bin": "SELECT location_id, label, kind, zone FROM bin ORDER BY location_id, label",
    "item": "SELECT code, name, tracking, auto_serialized, uom, last_cost, inventory_group_id "
    "FROM item ORDER BY code",
    "item_barcode": "SELECT item_id, barcode FROM item_barcode ORDER BY barcode",
    "serial": "SELECT item_id, serial_number, bin_id, actual_cost FROM serial ORDER BY id",
    "reason_code": "SELECT code, description, kinds, active FROM reason_code ORDER BY code",
    "masterdata_change": "SELECT id FROM masterdata_change ORDER BY id",
}


async def state(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: await rows(database_url, sql) for name, sql in STATE_SQL.items()}


@pytest.fixture
async def supervisor(client: Client, database_url: str) -> Headers:
    await seed(database_url)
    return await token(client, "super")


async def changes(client: Client, h: Headers, **filters: str) -> list[dict[str, Any]]:
    r = await client.get("/api/masterdata-changes", params={"limit": 1000, **filters}, headers=h)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["items"]
    return found


def triples(found: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [(c["field"], c["old"], c["new"]) for c in found]


async def test_an_update_of_each_kind_changes_the_record_and_logs_old_and_new_with_the_user(
    client: Client, supervisor: Headers
) -> None:
    document = {
        "companies": [{"code": "C1", "name": "Company renamed", "intercompany": True}],
        "gl_accounts": [{"code": "1400", "name": "Stock"}, {"code": "1500", "name": "New"}],
        "gl_entities": [{"code": "E1", "name": "Entity one", "company": "C1"}],
        "inventory_groups": [
            {
                "code": "G",
                "name": "Group",
                "inventory_account": "1500",
                "adjustment_account": "5100",
            }
        ],
        "locations": [
            {"code": "MAIN", "name": "Main warehouse", "company": "C1", "gl_entity": None}
        ],
        "bins": [{"location": "MAIN", "label": "B-01", "kind": "out", "zone": "B"}],
        "items": [
            {
                "code": "BOLT",
                "name": "Hex bolt",
                "tracking": "none",
                "last_cost": "2.75",
                "barcodes": ["04000000000017", "BOLT-1"],
            },
            {"code": "LOTI", "name": "Lot item", "tracking": "lot", "inventory_group": "G"},
            {"code": "NEW", "name": "Brand new", "tracking": "none", "barcodes": ["NEW-1"]},
        ],
    }
    r = await client.post("/api/imports", params=UPDATE, json=document, headers=supervisor)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["rows"] == {"gl_accounts": 1, "items": 1}  # 1500 and NEW are created
    assert result["updated"] == {
        "companies": 1,
        "gl_accounts": 1,
        "gl_entities": 1,
        "inventory_groups": 1,
        "locations": 1,
        "bins": 1,
        "items": 1,
    }
    assert result["unchanged"] == {"items": 1}  # LOTI: every field it gives is as stored
    import_id = result["import_id"]

    item = (await client.get("/api/items/BOLT", headers=supervisor)).json()
    assert (item["name"], item["last_cost"], sorted(item["barcodes"])) == (
        "Hex bolt",
        "2.75",
        ["04000000000017", "BOLT-1"],
    )
    assert item["inventory_group"] == "G"  # not given: kept
    assert (await client.get("/api/items/NEW", headers=supervisor)).json()["barcodes"] == ["NEW-1"]
    b = (await client.get("/api/bins/MAIN/B-01", headers=supervisor)).json()
    assert (b["kind"], b["zone"]) == ("out", "B")
    location = (await client.get("/api/locations/MAIN", headers=supervisor)).json()
    assert (location["name"], location["gl_entity"]) == ("Main warehouse", None)
    group = (await client.get("/api/inventory-groups/G", headers=supervisor)).json()
    assert group["inventory_account"] == "1500"

    log = await changes(client, supervisor)
    assert {c["changed_by"] for c in log} == {"super"}
    assert {c["import_id"] for c in log} == {import_id}
    by_record = {(c["kind"], c["parent_code"], c["code"], c["field"]): c for c in log}
    assert set(by_record) == {
        ("companies", "", "C1", "name"),
        ("companies", "", "C1", "intercompany"),
        ("gl_accounts", "", "1400", "name"),
        ("gl_entities", "", "E1", "name"),
        ("inventory_groups", "", "G", "inventory_account"),
        ("locations", "", "MAIN", "name"),
        ("locations", "", "MAIN", "gl_entity"),
        ("bins", "MAIN", "B-01", "kind"),
        ("bins", "MAIN", "B-01", "zone"),
        ("items", "", "BOLT", "name"),
        ("items", "", "BOLT", "last_cost"),
        ("items", "", "BOLT", "barcodes"),
    }
    assert triples(await changes(client, supervisor, kind="items", code="BOLT")) == [
        ("name", "Bolt", "Hex bolt"),
        ("last_cost", "0", "2.75"),
        ("barcodes", "", "04000000000017|BOLT-1"),
    ]
    assert triples(await changes(client, supervisor, kind="bins", parent_code="MAIN")) == [
        ("kind", "stock", "out"),
        ("zone", "", "B"),
    ]
    assert by_record[("locations", "", "MAIN", "gl_entity")]["old"] == "E1"
    assert by_record[("locations", "", "MAIN", "gl_entity")]["new"] is None
    assert by_record[("items", "", "BOLT", "name")]["source"] == "request.json items row 1"


async def test_rows_that_change_nothing_log_nothing(
    client: Client, supervisor: Headers, database_url: str
) -> None:
    again = {k: v for k, v in WAREHOUSE.items() if k != "opening_stock"}
    before = await state(database_url)
    r = await client.post("/api/imports", params=UPDATE, json=again, headers=supervisor)
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == {}
    assert r.json()["unchanged"] == {k: len(v) for k, v in again.items()}
    assert r.json()["rows"] == {}
    assert await state(database_url) == before
    assert await changes(client, supervisor) == []


async def test_an_update_import_changes_reason_codes_field_by_field(
    client: Client, supervisor: Headers, database_url: str
) -> None:
    document = {
        "reason_codes": [
            # kinds and active not given: kept.
            {"code": "DAMAGED", "description": "Damaged in the warehouse"},
            {"code": "LOST", "description": "Lost", "active": False},
            # The same kinds in another order: unchanged.
            {"code": "FOUND", "description": "Found", "kinds": ["generated", "unknown"]},
            {
                "code": "MISCOUNT",
                "description": "Miscounted before",
                "kinds": ["quantity_variance", "missing"],
            },
            {"code": "THEFT", "description": "Theft", "kinds": ["missing"]},
        ]
    }
    r = await client.post("/api/imports", params=UPDATE, json=document, headers=supervisor)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["rows"], result["updated"], result["unchanged"]) == (
        {"reason_codes": 1},
        {"reason_codes": 3},
        {"reason_codes": 1},
    )
    assert await rows(
        database_url,
        "SELECT code, description, kinds, active FROM reason_code "
        "WHERE code IN ('DAMAGED', 'LOST', 'MISCOUNT', 'THEFT') ORDER BY code",
    ) == [
        ("DAMAGED", "Damaged in the warehouse", "missing|quantity_variance", True),
        ("LOST", "Lost", "missing", False),
        ("MISCOUNT", "Miscounted before", "missing|quantity_variance", True),
        ("THEFT", "Theft", "missing", True),
    ]
    active = await client.get("/api/reason-codes", params={"active": "true"}, headers=supervisor)
    assert "LOST" not in [c["code"] for c in active.json()["items"]]

    log = await changes(client, supervisor, kind="reason_codes")
    assert [(c["code"], c["field"], c["old"], c["new"]) for c in log] == [
        ("DAMAGED", "description", "Damaged", "Damaged in the warehouse"),
        ("LOST", "active", "true", "false"),
        ("MISCOUNT", "kinds", "", "missing|quantity_variance"),
    ]
    assert {(c["changed_by"], c["import_id"]) for c in log} == {("super", result["import_id"])}
    assert log[1]["source"] == "request.json reason_codes row 2"
    # Resent as it now is, nothing changes and nothing more is logged.
    r = await client.post("/api/imports", params=UPDATE, json=document, headers=supervisor)
    assert r.status_code == 200, r.text
    assert (r.json()["updated"], r.json()["unchanged"]) == ({}, {"reason_codes": 5})
    assert len(await changes(client, supervisor)) == 3


async def test_a_reason_code_kind_that_cannot_be_approved_refuses_the_whole_update(
    client: Client, supervisor: Headers, database_url: str
) -> None:
    before = await state(database_url)
    document = {
        "items": [{"code": "BOLT", "name": "Bolt renamed", "tracking": "none"}],
        "reason_codes": [
            {"code": "LOST", "description": "Lost for good", "active": False},
            {"code": "DAMAGED", "description": "Damaged", "kinds": ["missing", "released"]},
        ],
    }
    r = await client.post("/api/imports", params=UPDATE, json=document, headers=supervisor)
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["location"] == "request.json reason_codes row 2, field kinds"
    assert "'released' is not a line kind that can be approved" in error["message"]
    assert await state(database_url) == before


async def test_a_reason_code_change_through_the_api_is_logged_too(
    client: Client, supervisor: Headers
) -> None:
    r = await client.patch(
        "/api/reason-codes/DAMAGED",
        json={"kinds": ["missing"], "active": False},
        headers=supervisor,
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        "/api/reason-codes/DAMAGED", json={"description": "Damaged"}, headers=supervisor
    )
    assert r.status_code == 200, r.text  # as stored: nothing to log
    log = await changes(client, supervisor, kind="reason_codes", code="DAMAGED")
    assert triples(log) == [
        ("kinds", "missing|quantity_variance", "missing"),
        ("active", "true", "false"),
    ]
    assert {(c["changed_by"], c["source"]) for c in log} == {
        ("super", "PATCH /api/reason-codes/DAMAGED")
    }


async def test_a_field_the_source_leaves_out_keeps_its_value_and_barcodes_can_move(
    client: Client, supervisor: Headers
) -> None:
    first = {
        "items": [
            {"code": "BOLT", "name": "Bolt", "tracking": "none", "barcodes": ["X-1", "X-2"]},
        ]
    }
    r = await client.post("/api/imports", params=UPDATE, json=first, headers=supervisor)
    assert r.status_code == 200, r.text
    # X-2 moves from BOLT to LOTI in one import; BOLT's name changes, its cost is not given.
    move = {
        "items": [
            {"code": "LOTI", "name": "Lot item", "tracking": "lot", "barcodes": ["X-2"]},
            {"code": "BOLT", "name": "Bolt M8", "tracking": "none", "barcodes": ["X-1"]},
        ]
    }
    r = await client.post("/api/imports", params=UPDATE, json=move, headers=supervisor)
    assert r.status_code == 200, r.text
    bolt = (await client.get("/api/items/BOLT", headers=supervisor)).json()
    assert (bolt["name"], bolt["barcodes"], bolt["inventory_group"]) == ("Bolt M8", ["X-1"], "G")
    assert (await client.get("/api/items/LOTI", headers=supervisor)).json()["barcodes"] == ["X-2"]
    # A barcode another item keeps (its row does not give barcodes) is still a conflict.
    steal = {
        "items": [{"code": "SER", "name": "Serial item", "tracking": "serial", "barcodes": ["X-1"]}]
    }
    r = await client.post("/api/imports", params=UPDATE, json=steal, headers=supervisor)
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["location"] == "request.json items row 1, field barcodes"


@pytest.mark.parametrize(
    ("document", "where", "words"),
    [
        (
            {"items": [{"code": "BOLT", "name": "Bolt", "tracking": "lot"}]},
            "request.json items row 1, field tracking",
            "the item has stock",
        ),
        (
            {"items": [{"code": "SER", "name": "Serial item", "tracking": "serial", "uom": "BOX"}]},
            "request.json items row 1, field uom",
            "has stock or serials",
        ),
        (
            {
                "serials": [
                    {
                        "item": "SER",
                        "serial_number": "S1",
                        "location": "MAIN",
                        "bin": "A-02",
                        "actual_cost": "100",
                    }
                ]
            },
            "request.json serials row 1, field bin",
            "Inventory Adjustment Journal",
        ),
        (
            {
                "serials": [
                    {
                        "item": "SER",
                        "serial_number": "S1",
                        "location": "MAIN",
                        "bin": "A-01",
                        "actual_cost": "99",
                    }
                ]
            },
            "request.json serials row 1, field actual_cost",
            "actual cost is the cost its postings carried",
        ),
        (
            {
                "companies": [{"code": "C2", "name": "Other"}],
                "locations": [{"code": "MAIN", "name": "Main", "company": "C2"}],
            },
            "request.json locations row 1, field company",
            "a location's company cannot change",
        ),
        (
            {
                "items": [
                    {"code": "AUTO", "name": "Auto", "tracking": "serial"},
                    {"code": "NOSTOCK", "name": "n", "tracking": "none"},
                ]
            },
            None,
            None,
        ),
    ],
)
async def test_refused_updates_change_nothing_and_name_file_row_and_field(
    client: Client,
    supervisor: Headers,
    database_url: str,
    document: dict[str, Any],
    where: str | None,
    words: str | None,
) -> None:
    before = await state(database_url)
    r = await client.post("/api/imports", params=UPDATE, json=document, headers=supervisor)
    if where is None:
        # The control: a change the rules allow goes through.
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "update-refused"
    assert problem["detail"] == "nothing was imported"
    assert [e["location"] for e in problem["errors"]] == [where]
    assert words is not None and words in problem["errors"][0]["message"]
    assert await state(database_url) == before


async def test_an_item_without_stock_may_change_its_tracking(
    client: Client, supervisor: Headers
) -> None:
    create = {"items": [{"code": "EMPTY", "name": "Empty", "tracking": "none"}]}
    assert (await client.post("/api/imports", json=create, headers=supervisor)).status_code == 200
    change = {"items": [{"code": "EMPTY", "name": "Empty", "tracking": "serial"}]}
    r = await client.post("/api/imports", params=UPDATE, json=change, headers=supervisor)
    assert r.status_code == 200, r.text
    assert triples(await changes(client, supervisor, code="EMPTY")) == [
        ("tracking", "none", "serial")
    ]


async def test_a_bin_frozen_by_a_count_in_process_refuses_kind_and_zone(
    client: Client, supervisor: Headers, database_url: str
) -> None:
    number = await create_count(client, supervisor)  # bins A-01 .. A-03
    await start(client, supervisor, number)
    before = await state(database_url)
    frozen = {
        "bins": [
            {"location": "MAIN", "label": "B-01", "zone": "B"},
            {"location": "MAIN", "label": "A-02", "zone": "A"},
        ]
    }
    r = await client.post("/api/imports", params=UPDATE, json=frozen, headers=supervisor)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "update-refused"
    [error] = r.json()["errors"]
    assert error["location"] == "request.json bins row 2, field zone"
    assert f"stock count {number} is in process" in error["message"]
    assert await state(database_url) == before
    # A frozen bin sent unchanged is fine (an ERP sends every bin), and so is B-01 alone.
    same = {"bins": [{"location": "MAIN", "label": "A-02"}, frozen["bins"][0]]}
    r = await client.post("/api/imports", params=UPDATE, json=same, headers=supervisor)
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == {"bins": 1} and r.json()["unchanged"] == {"bins": 1}
    # A stored serial resent unchanged moves no stock: fine in a frozen bin too.
    serial = {"serials": WAREHOUSE["serials"][:1]}  # S1 in A-01
    r = await client.post("/api/imports", params=UPDATE, json=serial, headers=supervisor)
    assert r.status_code == 200, r.text
    assert r.json()["unchanged"] == {"serials": 1}


async def test_a_csv_body_updates_through_the_api(client: Client, supervisor: Headers) -> None:
    body = b"code,name,tracking,barcodes\nBOLT,Bolt (CSV),none,C-1|C-2\n"
    r = await client.post(
        "/api/imports",
        params={"kind": "items", "mode": "update", "name": "erp-items.csv"},
        content=body,
        headers={**supervisor, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == {"items": 1}
    log = await changes(client, supervisor, import_id=r.json()["import_id"])
    assert triples(log) == [("name", "Bolt", "Bolt (CSV)"), ("barcodes", "", "C-1|C-2")]
    assert log[0]["source"] == "erp-items.csv row 1 (line 2)"


async def test_without_update_an_existing_record_is_still_a_conflict(
    client: Client, supervisor: Headers, database_url: str
) -> None:
    before = await state(database_url)
    again = {"items": [{"code": "BOLT", "name": "Renamed", "tracking": "none"}]}
    r = await client.post("/api/imports", json=again, headers=supervisor)
    assert r.status_code == 409, r.text
    assert r.json()["errors"] == [
        {
            "location": "request.json items row 1, field code",
            "message": ("already exists in the database: item 'BOLT'"),
        }
    ]
    # Opening stock changes stock: even an update import refuses one that exists.
    opening = {"opening_stock": WAREHOUSE["opening_stock"][:1]}
    r = await client.post("/api/imports", params=UPDATE, json=opening, headers=supervisor)
    assert r.status_code == 409, r.text
    r = await client.post("/api/imports", params={"mode": "merge"}, json=again, headers=supervisor)
    assert r.status_code == 400, r.text
    assert await state(database_url) == before


@pytest.mark.parametrize(
    ("kind", "code", "field", "stored"),
    [("items", "BOLT", "name", "Bolt"), ("reason_codes", "DAMAGED", "description", "Damaged")],
)
async def test_concurrent_updates_of_one_record_lose_none(
    client: Client,
    supervisor: Headers,
    database_url: str,
    kind: str,
    code: str,
    field: str,
    stored: str,
) -> None:
    # Through the services on one engine, so that the imports really interleave (the
    # in-process test client runs one request at a time).
    names = [f"{stored} v{i}" for i in range(6)]
    extra = {"tracking": "none"} if kind == "items" else {}
    engine = make_engine(database_url)
    try:
        answers = await asyncio.gather(
            *[
                run_import(
                    SqlUnitOfWork(make_sessionmaker(engine)),
                    [Source(f"w{i}.json", {kind: [{"code": code, field: n, **extra}]})],
                    update=Updating(f"w{i}", datetime.now(UTC)),
                )
                for i, n in enumerate(names)
            ]
        )
    finally:
        await engine.dispose()
    assert [a.updated for a in answers] == [{kind: 1}] * len(names)
    log = triples(await changes(client, supervisor, kind=kind, code=code))
    # One unbroken chain: each change starts from the value the one before it left.
    assert [old for _, old, _ in log] == [stored] + [new for _, _, new in log[:-1]], log
    assert sorted(new for _, _, new in log) == names
    path = "/api/items/" if kind == "items" else "/api/reason-codes/"
    record = (await client.get(path + code, headers=supervisor)).json()
    assert record[field] == log[-1][2]


async def test_the_change_log_pages_filters_and_needs_a_supervisor(
    client: Client, supervisor: Headers
) -> None:
    for name in ("One", "Two", "Three"):
        body = {"items": [{"code": "BOLT", "name": name, "tracking": "none"}]}
        r = await client.post("/api/imports", params=UPDATE, json=body, headers=supervisor)
        assert r.status_code == 200, r.text
    first = await client.get("/api/masterdata-changes", params={"limit": 2}, headers=supervisor)
    assert first.status_code == 200
    page = first.json()
    assert [c["new"] for c in page["items"]] == ["One", "Two"]
    rest = await client.get(
        "/api/masterdata-changes",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=supervisor,
    )
    assert [c["new"] for c in rest.json()["items"]] == ["Three"]
    assert rest.json()["next_cursor"] is None
    since = page["items"][1]["changed_at"]
    assert [c["new"] for c in await changes(client, supervisor, since=since)] == [
        "Two",
        "Three",
    ]
    assert await changes(client, supervisor, kind="bins") == []
    assert await changes(client, supervisor, since="2999-01-01T00:00:00Z") == []
    for params in ({"kind": "x"}, {"since": "2026-01-01T00:00:00"}, {"limit": "0"}):
        bad = await client.get("/api/masterdata-changes", params=params, headers=supervisor)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
    counter = await token(client, "counter")
    assert (await client.get("/api/masterdata-changes", headers=counter)).status_code == 403


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    stockcount = Path(sys.executable).with_name("stockcount")
    env = {**os.environ, "STOCKCOUNT_DATABASE_URL": database_url}
    return subprocess.run(
        [str(stockcount), "import", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_stockcount_import_update_with_a_csv_file(
    client: Client, supervisor: Headers, database_url: str, tmp_path: Path
) -> None:
    items = tmp_path / "items.csv"
    items.write_text("code,name,tracking,last_cost\nBOLT,Bolt M10,none,3.10\nNEW,New,none,1\n")
    done = await asyncio.to_thread(_cli, database_url, str(items), "--update", "--by", "erp")
    assert done.returncode == 0, done.stderr
    assert [line.split() for line in done.stdout.splitlines()][:3] == [
        ["kind", "created", "updated", "unchanged"],
        ["items", "1", "1", "0"],
        ["total", "1", "1", "0"],
    ]
    log = await changes(client, supervisor, code="BOLT")
    assert triples(log) == [("name", "Bolt", "Bolt M10"), ("last_cost", "0", "3.1")]
    assert {(c["changed_by"], c["source"]) for c in log} == {("erp", "items.csv row 1 (line 2)")}

    before = await state(database_url)
    items.write_text("code,name,tracking\nNEW,Newer,none\nBOLT,Bolt M10,lot\n")
    failed = await asyncio.to_thread(_cli, database_url, str(items), "--update")
    assert failed.returncode == 1
    assert failed.stderr.startswith(
        "stockcount: nothing was imported: items.csv row 2 (line 3), field tracking: "
        "cannot change from 'none' to 'lot': the item has stock"
    )
    assert failed.stderr.count("\n") == 1 and failed.stdout == ""
    assert await state(database_url) == before
    # Without --update the same file is refused as before: BOLT and NEW exist.
    plain = await asyncio.to_thread(_cli, database_url, str(items))
    assert plain.returncode == 1
    assert "already exists in the database: item 'NEW'" in plain.stderr
    assert await state(database_url) == before


async def _audit(client: Client, headers: Headers, **params: str) -> list[tuple[str, ...]]:
    answer = await client.get("/api/audit", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return [(e["user"], e["action"], e["subject"], e["detail"]) for e in answer.json()["items"]]


async def test_stockcount_import_is_in_the_audit_trail_with_its_caller(
    client: Client, supervisor: Headers, database_url: str, tmp_path: Path
) -> None:
    """As the API's imports are: the caller is `cli:LOGIN`, or `--by NAME`; a refused
    import leaves no act, as it leaves no row."""
    login = f"cli:{getpass.getuser()}"
    bins = tmp_path / "bins.csv"
    bins.write_text("location,label,kind\nMAIN,Z-01,stock\n")
    done = await asyncio.to_thread(_cli, database_url, str(bins))
    assert done.returncode == 0, done.stderr
    items = tmp_path / "items.csv"
    items.write_text("code,name,tracking\nBOLT,Bolt M12,none\n")
    updated = await asyncio.to_thread(_cli, database_url, str(items), "--update", "--by", "erp")
    assert updated.returncode == 0, updated.stderr
    refused = await asyncio.to_thread(_cli, database_url, str(bins), "--by", "erp")
    assert refused.returncode == 1, refused.stdout
    blank = await asyncio.to_thread(_cli, database_url, str(bins), "--by", " ")
    assert blank.returncode == 1 and "--by needs a name" in blank.stderr
    acts = await _audit(client, supervisor, action="import")
    acts += await _audit(client, supervisor, action="update")
    assert acts == [
        (login, "import", "bins.csv", "bins 1 created"),
        ("erp", "update", "items.csv", "items 1 updated"),
    ]
    assert await _audit(client, supervisor, user="erp") == [acts[1]]
