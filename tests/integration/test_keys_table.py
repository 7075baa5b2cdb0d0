"""keys_table: exact (item, serial number) keys joined against the serial table on both
databases, whatever characters a serial number holds, and only the keys asked for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import and_, insert, select

from server.db.engine import make_engine
from server.db.tables import Item, Serial
from server.db.writes import keys_table

AWKWARD = ["plain", "a'b", 'x"y\\z', "ü-€-✓", "[1,2]", "tab\there", "", "S 1", "%_?"]
KEY = (("item_id", "BIGINT"), ("number", "TEXT"))


async def test_keys_table_finds_exactly_the_keys_asked_for(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Item),
                [
                    {"code": code, "name": code, "tracking": "serial", "last_cost": Decimal(0)}
                    for code in ("I1", "I2")
                ],
            )
            ids = {str(c): int(i) for c, i in await conn.execute(select(Item.code, Item.id))}
            rows = [
                {"item_id": ids[code], "serial_number": number, "actual_cost": Decimal(1)}
                for code in ("I1", "I2")
                for number in AWKWARD
            ]
            await conn.execute(insert(Serial), rows)
            # Asked: every awkward number of I1, one of I2, and keys that do not exist
            # (a number of I1 asked for an item without it, an unknown number).
            asked = [(ids["I1"], n) for n in AWKWARD] + [
                (ids["I2"], "a'b"),
                (ids["I2"], "missing"),
                (ids["I1"], "PLAIN"),
            ]
            k = keys_table(engine.dialect.name, "k", KEY, asked)
            found = (
                await conn.execute(
                    select(Serial.item_id, Serial.serial_number).join(
                        k, and_(Serial.item_id == k.c.item_id, Serial.serial_number == k.c.number)
                    )
                )
            ).all()
        expected = {(ids["I1"], n) for n in AWKWARD} | {(ids["I2"], "a'b")}
        assert len(found) == len(expected)
        assert {(int(i), str(n)) for i, n in found} == expected
    finally:
        await engine.dispose()


def test_keys_table_refuses_names_that_are_not_identifiers() -> None:
    for columns in ((("item id", "BIGINT"),), (("item_id", "BIGINT; DROP"),)):
        with pytest.raises(ValueError, match="identifiers"):
            keys_table("sqlite", "k", columns, [(1,)])
