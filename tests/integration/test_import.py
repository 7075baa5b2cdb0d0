"""The importer against real databases (SQLite and PostgreSQL), and `stockcount import`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.bootstrap import import_into_database
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import (
    Bin,
    Company,
    GlAccount,
    GlEntity,
    InventoryGroup,
    Item,
    ItemBarcode,
    ItemLocationCost,
    Location,
    Serial,
    StockBalance,
)
from server.domain.errors import Conflict, StockcountError, ValidationFailed
from server.masterdata.usecases.importer import Source, SourceLike

TABLES = [
    Company,
    GlAccount,
    GlEntity,
    InventoryGroup,
    Location,
    Bin,
    Item,
    ItemBarcode,
    Serial,
    StockBalance,
    ItemLocationCost,
]

BASE = {
    "companies": [{"code": "ACME", "name": "Acme Ltd", "intercompany": True}],
    "gl_accounts": [{"code": "1400", "name": "Inventory"}, {"code": "5100", "name": "Adj"}],
    "gl_entities": [{"code": "E1", "name": "Entity one", "company": "ACME"}],
    "inventory_groups": [
        {
            "code": "PUMPS",
            "name": "Pumps",
            "inventory_account": "1400",
            "adjustment_account": "5100",
            "gl_entity": "E1",
        }
    ],
    "locations": [
        {"code": "MAIN", "name": "Main warehouse", "company": "ACME", "gl_entity": "E1"},
        {"code": "WEST", "name": "West", "company": "ACME"},
    ],
    "bins": [
        {"location": "MAIN", "label": "A-01", "zone": "A"},
        {"location": "MAIN", "label": "OUT-1", "kind": "out"},
        {"location": "WEST", "label": "W-01"},
    ],
    "items": [
        {
            "code": "123106",
            "name": "Pump",
            "tracking": "none",
            "last_cost": "55.232",
            "inventory_group": "PUMPS",
            "barcodes": ["04012345678901", "PUMP-1"],
        },
        {"code": "LOT1", "name": "Glue", "tracking": "lot"},
        {"code": "SER1", "name": "Drill", "tracking": "serial", "auto_serialized": True},
    ],
}


def blob(document: dict[str, object]) -> bytes:
    return json.dumps(document).encode()


async def counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                m.__tablename__: int(await conn.scalar(select(func.count()).select_from(m)) or 0)
                for m in TABLES
            }
    finally:
        await engine.dispose()


async def run(database_url: str, *sources: SourceLike) -> dict[str, int]:
    return (await import_into_database(database_url, list(sources))).rows


async def refused(database_url: str, *sources: SourceLike) -> StockcountError:
    """Asserts the import is refused and changes nothing; answers the error."""
    before = await counts(database_url)
    with pytest.raises(StockcountError) as caught:
        await run(database_url, *sources)
    assert await counts(database_url) == before
    return caught.value


async def test_every_kind_imports_from_one_json_file(database_url: str) -> None:
    document = {
        **BASE,
        "serials": [
            {
                "item": "SER1",
                "serial_number": "D-1",
                "location": "MAIN",
                "bin": "A-01",
                "actual_cost": "100.5",
            },
            {
                "item": "SER1",
                "serial_number": "D-2",
                "location": "MAIN",
                "bin": "A-01",
                "actual_cost": 99.25,
            },
        ],
        "opening_stock": [
            {
                "item": "123106",
                "location": "MAIN",
                "bin": "A-01",
                "quantity": 14,
                "unit_cost": "55.232",
            },
            {
                "item": "123106",
                "location": "MAIN",
                "bin": "OUT-1",
                "quantity": "6",
                "unit_cost": 57,
            },
            {
                "item": "LOT1",
                "location": "WEST",
                "bin": "W-01",
                "quantity": "2.5",
                "unit_cost": "3.1",
                "lot": "L-7",
            },
        ],
    }
    rows = await run(database_url, ("data.json", blob(document), None))
    assert rows == {
        "companies": 1,
        "gl_accounts": 2,
        "gl_entities": 1,
        "inventory_groups": 1,
        "locations": 2,
        "bins": 3,
        "items": 3,
        "serials": 2,
        "opening_stock": 3,
    }
    assert await counts(database_url) == {
        "company": 1,
        "gl_account": 2,
        "gl_entity": 1,
        "inventory_group": 1,
        "location": 2,
        "bin": 3,
        "item": 3,
        "item_barcode": 2,
        "serial": 2,
        "stock_balance": 3,
        "item_location_cost": 2,
    }
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        costs = dict(
            (
                await conn.execute(
                    select(Item.code, ItemLocationCost.average_cost).join(
                        Item, Item.id == ItemLocationCost.item_id
                    )
                )
            ).all()
        )
        serial_costs = sorted((await conn.execute(select(Serial.actual_cost))).scalars())
        item = (
            await conn.execute(
                select(Item.auto_serialized, Item.tracking).where(Item.code == "SER1")
            )
        ).one()
        group = await conn.scalar(
            select(InventoryGroup.code).join(Item, Item.inventory_group_id == InventoryGroup.id)
        )
        out_kind = await conn.scalar(select(Bin.kind).where(Bin.label == "OUT-1"))
        lot = await conn.scalar(select(StockBalance.lot).where(StockBalance.lot != ""))
    await engine.dispose()
    # (14 x 55.232 + 6 x 57) / 20, exactly.
    assert costs == {"123106": Decimal("55.7624"), "LOT1": Decimal("3.1")}
    assert serial_costs == [Decimal("99.25"), Decimal("100.5")]
    assert item.auto_serialized and item.tracking == "serial"
    assert group == "PUMPS" and out_kind == "out" and lot == "L-7"


async def test_csv_files_with_kind_from_name_bom_and_references_across_files(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "01_companies.csv").write_text("code,name\nACME,Acme\n")
    (tmp_path / "locations.csv").write_text("name,code,company\nMain,MAIN,ACME\n")
    (tmp_path / "02_bins.csv").write_bytes(
        b"\xef\xbb\xbflocation,label,kind,zone\r\nMAIN,A-01,,\r\n\r\nMAIN,A-02,out,Z\r\n"
    )
    (tmp_path / "items.csv").write_text(
        "code,name,tracking,barcodes,last_cost,auto_serialized\n"
        "P1,Pump,none,0401|0402,55.232,\nS1,Drill,serial,,,yes\n"
    )
    (tmp_path / "stock.csv").write_text(
        "item,serial_number,location,bin,actual_cost\nS1,SN-1,MAIN,A-02,12.000001\n"
    )
    rows = await run(
        database_url,
        *(Source(n, tmp_path / n) for n in ("01_companies.csv", "02_bins.csv", "locations.csv")),
        ("items.csv", tmp_path / "items.csv", None),
        Source("stock.csv", tmp_path / "stock.csv", "serials"),
    )
    assert rows == {"companies": 1, "locations": 1, "bins": 2, "items": 2, "serials": 1}
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        labels = (
            await conn.execute(select(Bin.label, Bin.kind, Bin.zone).order_by(Bin.label))
        ).all()
        cost = await conn.scalar(select(Serial.actual_cost))
        last = await conn.scalar(select(Item.last_cost).where(Item.code == "P1"))
        barcodes = sorted((await conn.execute(select(ItemBarcode.barcode))).scalars())
    await engine.dispose()
    assert [tuple(r) for r in labels] == [("A-01", "stock", ""), ("A-02", "out", "Z")]
    assert cost == Decimal("12.000001") and last == Decimal("55.232")
    assert barcodes == ["0401", "0402"]


async def test_a_bad_row_anywhere_imports_nothing_and_names_file_row_line_field(
    database_url: str,
) -> None:
    good = ("base.json", blob(BASE), None)
    serials = (
        "item,serial_number,location,bin,actual_cost\n"
        + "".join(f"SER1,SN-{n},MAIN,A-01,1.5\n" for n in range(1, 1047))
        + 'SER1,"SN-\nX",MAIN,A-01,1\n'  # a quoted field over two lines
        + "SER1,SN-1048,MAIN,A-01,abc\n"
    ).encode()
    error = await refused(database_url, good, ("serials.csv", serials, None))
    assert isinstance(error, ValidationFailed)
    assert [(p.location, p.message) for p in error.details] == [
        (
            "serials.csv row 1047 (line 1048), field serial_number",
            "serial number 'SN-\\nX' must be 1 to 128 printable characters, no spaces",
        ),
        ("serials.csv row 1048 (line 1050), field actual_cost", "must be a number, not 'abc'"),
    ]
    assert str(error) == (
        "nothing was imported: serials.csv row 1047 (line 1048), field serial_number: "
        "serial number 'SN-\\nX' must be 1 to 128 printable characters, no spaces (and 1 more)"
    )


async def test_bad_json_row_names_kind_row_and_field(database_url: str) -> None:
    document = {**BASE, "items": [*BASE["items"], {"code": "X", "name": "x", "tracking": "?"}]}
    error = await refused(database_url, ("data.json", blob(document), None))
    assert error.details[0].location == "data.json items row 4, field tracking"
    assert error.details[0].message == "must be one of none, lot, serial, not '?'"


async def test_duplicates_within_the_import_name_both_places(database_url: str) -> None:
    document = {**BASE, "bins": [*BASE["bins"], {"location": "MAIN", "label": "A-01"}]}
    error = await refused(
        database_url,
        ("data.json", blob(document), None),
        ("more_items.csv", b"code,name,tracking\n123106,Again,none\n", "items"),
    )
    messages = {p.location: p.message for p in error.details}
    assert messages["data.json bins row 4, field label"] == (
        "bin 'A-01' in location 'MAIN' is also at data.json bins row 1"
    )
    assert messages["more_items.csv row 1 (line 2), field code"] == (
        "item '123106' is also at data.json items row 1"
    )


async def test_duplicates_against_the_database_are_conflicts(database_url: str) -> None:
    await run(database_url, ("base.json", blob(BASE), None))
    await run(
        database_url,
        (
            "serials.csv",
            b"item,serial_number,location,bin,actual_cost\nSER1,D-1,MAIN,A-01,1\n",
            None,
        ),
    )
    error = await refused(
        database_url,
        ("bins.csv", b"location,label\nMAIN,A-01\n", None),
        ("items.csv", b"code,name,tracking,barcodes\nNEW,New,none,PUMP-1\n", None),
        (
            "serials.csv",
            b"item,serial_number,location,bin,actual_cost\nSER1,D-1,MAIN,A-01,1\n",
            None,
        ),
    )
    assert isinstance(error, Conflict)
    assert [(p.location, p.message) for p in error.details] == [
        (
            "bins.csv row 1 (line 2), field label",
            "already exists in the database: bin 'A-01' in location 'MAIN'",
        ),
        (
            "items.csv row 1 (line 2), field barcodes",
            "already exists in the database: barcode 'PUMP-1' belongs to item '123106'",
        ),
        (
            "serials.csv row 1 (line 2), field serial_number",
            "already exists in the database: serial 'D-1' of item 'SER1'",
        ),
    ]
    again = await refused(database_url, ("base.json", blob({"companies": BASE["companies"]}), None))
    assert again.details[0].message == "already exists in the database: company 'ACME'"


async def test_unknown_references_are_named(database_url: str) -> None:
    document = {
        "companies": [{"code": "ACME", "name": "Acme"}],
        "gl_entities": [{"code": "E1", "name": "E", "company": "NOPE"}],
        "locations": [{"code": "MAIN", "name": "Main", "company": "ACME", "gl_entity": "E9"}],
        "items": [{"code": "I", "name": "I", "tracking": "none", "inventory_group": "G"}],
        "serials": [
            {
                "item": "GHOST",
                "serial_number": "1",
                "location": "MAIN",
                "bin": "A",
                "actual_cost": 1,
            }
        ],
    }
    error = await refused(database_url, ("refs.json", blob(document), None))
    assert isinstance(error, ValidationFailed)
    unknown = "it is neither in this import nor in the database"
    assert {p.location: p.message for p in error.details} == {
        "refs.json gl_entities row 1, field company": "unknown company 'NOPE': " + unknown,
        "refs.json locations row 1, field gl_entity": "unknown GL entity 'E9': " + unknown,
        "refs.json items row 1, field inventory_group": "unknown inventory group 'G': " + unknown,
        "refs.json serials row 1, field item": "unknown item 'GHOST': " + unknown,
        "refs.json serials row 1, field bin": (
            "location 'MAIN' has no bin 'A' (neither in this import nor in the database)"
        ),
    }


async def test_wrong_tracking_and_bin_of_another_location(database_url: str) -> None:
    await run(database_url, ("base.json", blob(BASE), None))
    serials = (
        b"item,serial_number,location,bin,actual_cost\n"
        b"123106,X-1,MAIN,A-01,1\n"  # an untracked item has no serials
        b"SER1,X-2,MAIN,W-01,1\n"  # W-01 is a bin of WEST
    )
    opening = (
        b"item,location,bin,quantity,unit_cost,lot\n"
        b"SER1,MAIN,A-01,1,1,\n"  # serialized: stock comes from serials
        b"LOT1,MAIN,A-01,1,1,\n"  # a lot item needs a lot
        b"123106,MAIN,A-01,1,1,L-1\n"  # an untracked item has none
    )
    error = await refused(
        database_url, ("serials.csv", serials, None), ("opening_stock.csv", opening, None)
    )
    found = {p.location: p.message for p in error.details}
    assert found["serials.csv row 1 (line 2), field item"] == (
        "item '123106' is tracked by none, not serial: it has no serials"
    )
    assert found["serials.csv row 2 (line 3), field bin"].startswith(
        "location 'MAIN' has no bin 'W-01'"
    )
    assert "import serials" in found["opening_stock.csv row 1 (line 2), field item"]
    assert "needs a lot" in found["opening_stock.csv row 2 (line 3), field lot"]
    assert "has no lot" in found["opening_stock.csv row 3 (line 4), field lot"]


async def test_file_level_problems(database_url: str) -> None:
    error = await refused(database_url, ("bins.csv", b"location,label,colour\nMAIN,A,red\n", None))
    assert error.details[0].location == "bins.csv line 1, field colour"
    assert error.details[0].message.startswith("unknown column for bins")
    error = await refused(database_url, ("bins.csv", b"label\nA\n", None))
    assert error.details[0].location == "bins.csv line 1, field location"
    error = await refused(database_url, ("stuff.csv", b"code,name\nA,B\n", None))
    assert "cannot tell what it holds" in error.details[0].message
    error = await refused(database_url, ("x.json", b'{"pallets": []}', None))
    assert error.details[0].location == "x.json pallets"
    error = await refused(database_url, ("x.json", b'{"companies": [{"code": "A"', None))
    assert "is not valid JSON" in error.details[0].message
    error = await refused(database_url, ("c.csv", b"code,name\n\xff,x\n", "companies"))
    assert error.details[0].location == "c.csv line 2"


async def test_opening_stock_again_weighs_in_what_is_on_hand(database_url: str) -> None:
    await run(database_url, ("base.json", blob(BASE), None))
    head = b"item,location,bin,quantity,unit_cost\n"
    await run(database_url, ("opening_stock.csv", head + b"123106,MAIN,A-01,20,55.7624\n", None))
    await run(database_url, ("opening_stock.csv", head + b"123106,MAIN,OUT-1,20,60\n", None))
    duplicate = await refused(
        database_url, ("opening_stock.csv", head + b"123106,MAIN,OUT-1,1,60\n", None)
    )
    assert "already exists" in duplicate.details[0].message
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        average = await conn.scalar(select(ItemLocationCost.average_cost))
    await engine.dispose()
    assert average == Decimal("57.8812")


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    stockcount = Path(sys.executable).with_name("stockcount")
    env = {**os.environ, "STOCKCOUNT_DATABASE_URL": database_url}
    return subprocess.run(
        [str(stockcount), "import", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_stockcount_import_command(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    migrate.upgrade(database_url)
    base = tmp_path / "base.json"
    base.write_bytes(blob(BASE))
    serials = tmp_path / "drills.csv"
    serials.write_text("item,serial_number,location,bin,actual_cost\nSER1,D-1,MAIN,A-01,10\n")
    ok = _cli(database_url, str(base), str(serials), "--kind", "serials")
    assert ok.returncode == 0, ok.stderr
    assert "serials" in ok.stdout and "total" in ok.stdout and "imported in" in ok.stdout
    assert [line.split() for line in ok.stdout.splitlines()][1:3] == [
        ["companies", "1"],
        ["gl_accounts", "2"],
    ]
    before = asyncio.run(counts(database_url))
    bad = tmp_path / "serials.csv"
    bad.write_text("item,serial_number,location,bin,actual_cost\nSER1,D-2,MAIN,A-01,x\n")
    failed = _cli(database_url, str(bad))
    assert failed.returncode == 1
    assert failed.stderr == (
        "stockcount: nothing was imported: serials.csv row 1 (line 2), field actual_cost: "
        "must be a number, not 'x'\n"
    )
    assert failed.stdout == ""
    assert asyncio.run(counts(database_url)) == before
