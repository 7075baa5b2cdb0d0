"""The master-data rows of journal saves' facts kept between saves (server.journal.sql.kept).

Whatever changes the master data between two saves (another process's SQL, the importer),
the second save sees the change, on SQLite (where the rows are kept while the database's
master-data version stays) and on PostgreSQL alike. On SQLite: every table the kept rows
come from has its triggers, and rows rebuilt from what was kept are the rows the
statement gives.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.util import find_tables

from server.bootstrap import import_into_database
from server.db.direct import connection, fetchall, write_lock
from server.db.engine import make_sessionmaker
from server.db.tables import GlPosting
from server.domain.errors import ValidationFailed
from server.domain.journal import JournalLine, JournalSide, JournalTransaction, TransactionType
from server.journal.sql.facts import _FACTS_ALONE, _SMALL_TABLES
from server.journal.sql.kept import KeptRows
from server.journal.usecases import journal
from server.uow import SqlUnitOfWork
from tests.helpers import clerk_engine, execute

D = Decimal
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
# The migration that made the triggers: its list of tables.
MIGRATION = importlib.import_module("server.db.migrations.versions.0017_master_data_version")


def master_data() -> dict[str, list[dict[str, Any]]]:
    return {
        "companies": [{"code": "C1", "name": "Company"}],
        "gl_accounts": [
            {"code": "10150", "name": "Inventory"},
            {"code": "50111", "name": "Adjustments"},
            {"code": "50999", "name": "Shrinkage"},
        ],
        "gl_entities": [{"code": "E1", "name": "Entity", "company": "C1"}],
        "inventory_groups": [
            {
                "code": "STD",
                "name": "Standard",
                "inventory_account": "10150",
                "adjustment_account": "50111",
                "gl_entity": "E1",
            }
        ],
        "locations": [
            {"code": loc, "name": loc, "company": "C1", "gl_entity": "E1"} for loc in ("A", "B")
        ],
        "bins": [{"location": loc, "label": f"{loc}-{b}"} for loc in ("A", "B") for b in (1, 2)],
        "items": [
            {
                "code": f"I{i}",
                "name": f"Item {i}",
                "tracking": "none",
                "last_cost": "10",
                "inventory_group": "STD",
            }
            for i in range(3)
        ],
        "accounting_periods": [{"code": "2026-11", "starts": "2026-11-01", "ends": "2026-11-30"}],
    }


def adjustment(bin_: str = "A-1", item: str = "I0") -> JournalTransaction:
    side = JournalSide("A", bin_)
    line = JournalLine(1, item, D(1), side, side, unit_cost=D("10"))
    return JournalTransaction(DAY, TransactionType.ADJUSTMENT, (line,), period="2026-11")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with clerk_engine(database_url, master_data(), NOW) as engine:
        yield engine


async def save(engine: AsyncEngine, draft: JournalTransaction) -> int:
    saved = await journal.save_transaction(
        SqlUnitOfWork(make_sessionmaker(engine)), draft, 1, "clerk", NOW
    )
    return saved.id


async def accounts(engine: AsyncEngine, transaction_id: int) -> set[str]:
    async with make_sessionmaker(engine)() as db:
        rows = await db.scalars(
            select(GlPosting.account_code).where(GlPosting.document_id == transaction_id)
        )
        return set(rows)


async def test_a_changed_account_is_posted_to_by_the_next_save(
    engine: AsyncEngine, database_url: str
) -> None:
    assert await accounts(engine, await save(engine, adjustment())) == {"10150", "50111"}
    await execute(
        database_url,
        "UPDATE inventory_group SET adjustment_account_id = "
        "(SELECT id FROM gl_account WHERE code = '50999')",
    )
    assert await accounts(engine, await save(engine, adjustment())) == {"10150", "50999"}


async def test_a_bin_added_after_a_save_asked_for_it_is_found(
    engine: AsyncEngine, database_url: str
) -> None:
    """The kept rows remember that location A had no bin A-9: adding one changes that."""
    with pytest.raises(ValidationFailed):
        await save(engine, adjustment("A-9"))
    await save(engine, adjustment("A-1"))  # kept: A, A-1, and A-9 as no bin
    await import_into_database(
        database_url, [("bins.json", {"bins": [{"location": "A", "label": "A-9"}]}, None)]
    )
    await save(engine, adjustment("A-9"))


async def test_a_period_closed_after_a_save_refuses_the_next(
    engine: AsyncEngine, database_url: str
) -> None:
    await save(engine, adjustment())
    await execute(database_url, "UPDATE accounting_period SET closed = true")
    with pytest.raises(ValidationFailed, match="closed"):
        await save(engine, adjustment())


async def test_an_item_renamed_away_is_unknown_to_the_next_save(
    engine: AsyncEngine, database_url: str
) -> None:
    await save(engine, adjustment(item="I1"))
    await execute(database_url, "UPDATE item SET code = 'I1-OLD' WHERE code = 'I1'")
    with pytest.raises(ValidationFailed, match="I1"):
        await save(engine, adjustment(item="I1"))


def read_statements(engine: AsyncEngine) -> list[str]:
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(str(a[2])))
    return sent


async def test_sqlite_reads_the_master_data_again_only_once_it_changed(
    engine: AsyncEngine, database_url: str
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the rows are kept on SQLite only")
    await save(engine, adjustment())
    sent = read_statements(engine)
    await save(engine, adjustment())
    items = [s for s in sent if s.startswith("SELECT item.id AS c0")]
    assert items == []
    await execute(database_url, "UPDATE item SET uom = 'BOX' WHERE code = 'I2'")
    await save(engine, adjustment())
    items = [s for s in sent if s.startswith("SELECT item.id AS c0")]
    assert len(items) == 1


async def test_sqlite_has_the_version_triggers_on_every_table_the_kept_rows_read(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no triggers: nothing keeps rows there")
    statements = [_FACTS_ALONE["i"], _FACTS_ALONE["l"], _SMALL_TABLES]
    read = {t.name for s in statements for t in find_tables(s, include_aliases=False)}
    assert read == set(MIGRATION.TABLES)
    async with engine.connect() as conn:
        found = {
            str(name)
            for (name,) in await conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            )
        }
    wanted = {
        f"master_data_version_{table}_{e}"
        for table in MIGRATION.TABLES
        for e in ("insert", "update", "delete")
    }
    assert wanted <= found


async def test_sqlite_every_write_gives_the_version_a_new_value(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no triggers: nothing keeps rows there")
    writes = [
        "INSERT INTO gl_account (code, name) VALUES ('X1', 'x')",
        "UPDATE gl_account SET name = 'y' WHERE code = 'X1'",
        "DELETE FROM gl_account WHERE code = 'X1'",
        "UPDATE bin SET zone = 'Z'",
        "UPDATE journal_settings SET serialized_additions_allowed = 1",
        "UPDATE company SET intercompany = 1",
    ]
    seen = []
    async with engine.connect() as conn:
        for sql in writes:
            seen.append(await conn.scalar(text("SELECT version FROM master_data_version")))
            await conn.execute(text(sql))
            await conn.commit()
        seen.append(await conn.scalar(text("SELECT version FROM master_data_version")))
    assert len(set(seen)) == len(seen), seen


async def test_sqlite_rows_made_from_kept_rows_are_the_statements_rows(
    engine: AsyncEngine,
) -> None:
    """Every combination of locations (one unknown) and labels (one nowhere, one in both
    locations' names' style), kept from one statement, rebuilt for its subsets."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the rows are kept on SQLite only")
    labels = ["A-1", "A-2", "B-1", "B-2", "Z-9"]
    async with SqlUnitOfWork(make_sessionmaker(engine)) as uow:
        conn = await connection(uow.session)
        assert await write_lock(conn)

        async def rows(places: list[str], wanted: list[str]) -> list[Any]:
            return await fetchall(
                conn, _FACTS_ALONE["l"], {"locations": places, "labels": wanted, "items": []}
            )

        kept = KeptRows(1)
        kept.keep_locations(await rows(["A", "B", "NOWHERE"], labels), labels)
        checked = 0
        for n in range(3):
            for places in itertools.combinations(["A", "B"], n):
                for m in range(len(labels) + 1):
                    for wanted in itertools.combinations(labels, m):
                        made = kept.location_rows(list(places), list(wanted))
                        assert made is not None
                        assert sorted(made, key=repr) == sorted(
                            await rows(list(places), list(wanted)), key=repr
                        ), (places, wanted)
                        checked += 1
        assert checked == 4 * 2**5
        # Not kept: a location never read, a label never asked for.
        assert kept.location_rows(["NOWHERE"], []) is None
        assert kept.location_rows(["A"], ["A-3"]) is None
        items = await fetchall(conn, _FACTS_ALONE["i"], {"items": ["I0", "I1"]})
        kept.keep_items(items)
        by_code = {row[1]: row for row in items}
        assert kept.item_rows(["I1", "I0"]) == [by_code["I1"], by_code["I0"]]
        assert kept.item_rows(["I0", "I2"]) is None
