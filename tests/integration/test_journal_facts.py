"""The journal's facts read from a migrated database (SQLite and PostgreSQL), and the
seed's average-cost example prepared and posted on them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.bootstrap import import_into_database
from server.db.engine import make_engine, make_sessionmaker
from server.db.tables import (
    Bin,
    Company,
    GlAccount,
    GlEntity,
    InventoryGroup,
    Item,
    ItemLocationCost,
    Location,
    Serial,
    StockBalance,
    User,
)
from server.domain.journal import (
    JobBillingType,
    JournalLine,
    JournalSide,
    JournalTransaction,
    SelectionCostType,
    TransactionType,
    posting_document,
    prepare,
    stamp,
)
from server.domain.posting import Position, post
from server.journal.sql.facts import _FACTS_ALONE, SqlJournalFacts
from server.journal.tables import (
    AccountingPeriod,
    CostCategory,
    CostCode,
    CostCodeCategory,
    Equipment,
    InventoryGroupJournal,
    ItemJournal,
    Job,
    JournalSettingsTable,
    LocationJournal,
    PriceLevel,
    PriceLevelItem,
    RateSchedule,
    WorkOrder,
)
from tests.unit.journal.factory import NOW

D = Decimal


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await add_master_data(db)
            yield db
    finally:
        await engine.dispose()


async def add_master_data(db: AsyncSession, user: bool = True) -> None:
    """The seed's item 123106 at Main, a job with a work order; `user`: also user 1."""
    db.add_all(
        [
            Company(id=1, code="C1", name="One", intercompany=True),
            GlEntity(id=1, code="E-MAIN", name="Main entity", company_id=1),
            GlAccount(id=1, code="10150", name="Inventory"),
            GlAccount(id=2, code="50111", name="Inventory adjustment"),
            GlAccount(id=3, code="50100", name="COS material"),
            GlAccount(id=4, code="40900", name="Burden income"),
            GlAccount(id=5, code="21500", name="Use tax payable"),
        ]
    )
    if user:
        db.add(
            User(
                id=1,
                username="admin",
                password_hash="-",
                role="admin",
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    await db.flush()
    db.add_all(
        [
            InventoryGroup(
                id=1,
                code="STD",
                name="Standard",
                inventory_account_id=1,
                adjustment_account_id=2,
                gl_entity_id=1,
            ),
            Location(id=1, code="Main", name="Main", company_id=1, gl_entity_id=1),
            AccountingPeriod(id=1, code="2025-03", starts=date(2025, 3, 1), ends=date(2025, 3, 31)),
            PriceLevel(id=1, code="P1", name="Level 1"),
            RateSchedule(id=1, code="R1", name="Rates", material_markup=D(20)),
            Equipment(id=1, code="EQ-7", name="Loader"),
            CostCategory(
                id=1,
                code="MAT",
                name="Material",
                selection_cost_type="material",
                expense_account_id=3,
            ),
            CostCategory(id=2, code="LAB", name="Labor", selection_cost_type="labor"),
        ]
    )
    await db.flush()
    db.add_all(
        [
            Bin(id=1, location_id=1, label="A-01", kind="stock"),
            Bin(id=2, location_id=1, label="A-02", kind="stock"),
            Item(
                id=1,
                code="123106",
                name="Seed item",
                tracking="none",
                last_cost=D(50),
                inventory_group_id=1,
            ),
            Item(id=2, code="SER", name="Serialized", tracking="serial", inventory_group_id=1),
            Job(
                id=1,
                code="J1",
                name="Job one",
                company_id=1,
                billing_type="fixed_fee",
                price_level_id=1,
                rate_schedule_id=1,
                date_closed=date(2025, 3, 10),
                use_tax_rate=D("7.5"),
            ),
            InventoryGroupJournal(inventory_group_id=1, apply_location_burden=True),
            LocationJournal(location_id=1, burden_rate=D(5)),
        ]
    )
    await db.flush()
    db.add_all(
        [
            StockBalance(item_id=1, bin_id=1, lot="", quantity=D(10)),
            StockBalance(item_id=1, bin_id=2, lot="", quantity=D(4)),
            ItemLocationCost(item_id=1, location_id=1, average_cost=D("55.232")),
            Serial(item_id=2, serial_number="S1", bin_id=2, actual_cost=D("101.5")),
            Serial(item_id=2, serial_number="OUT", bin_id=None, actual_cost=D(7)),
            ItemJournal(item_id=1, use_unit_prices=True, burden_rate=D(10)),
            PriceLevelItem(price_level_id=1, item_id=1, unit_price=D("12.5")),
            CostCode(id=1, job_id=1, code="100", name="Site", gl_entity_id=1),
            WorkOrder(id=1, code="WO1", job_id=1, equipment_id=1),
        ]
    )
    await db.flush()
    db.add(CostCodeCategory(cost_code_id=1, cost_category_id=1))
    await db.execute(
        update(JournalSettingsTable)
        .where(JournalSettingsTable.id == 1)
        .values(
            serialized_additions_allowed=True,
            burden_income_account_id=4,
            use_tax_liability_account_id=5,
        )
    )
    await db.flush()


def _tx(kind: TransactionType, *lines: JournalLine) -> JournalTransaction:
    return JournalTransaction(date(2025, 3, 14), kind, lines)


async def test_facts_hold_what_the_transaction_refers_to(session: AsyncSession) -> None:
    transaction = _tx(
        TransactionType.LOC_TO_JOB,
        JournalLine(1, "123106", D(2), JournalSide("Main", "A-01"), JournalSide(work_order="WO1")),
        JournalLine(
            2, "SER", D(1), JournalSide("Main"), JournalSide(work_order="WO1"), serial="S1"
        ),
        JournalLine(
            3, "SER", D(1), JournalSide("Main"), JournalSide(work_order="WO1"), serial="OUT"
        ),
    )
    facts = await SqlJournalFacts(session).load(transaction)

    assert facts.items["123106"].use_unit_prices and facts.items["123106"].burden_rate == D(10)
    assert facts.items["SER"].tracking.value == "serial"
    assert facts.inventory_groups["STD"].apply_location_burden
    assert (
        facts.inventory_groups["STD"].inventory_account,
        facts.inventory_groups["STD"].adjustment_account,
    ) == ("10150", "50111")
    assert facts.locations["Main"].burden_rate == D(5)
    # A-01 named, A-02 where serial S1 is (its bin is a default).
    assert facts.bins == frozenset({("Main", "A-01"), ("Main", "A-02")})
    assert facts.work_orders["WO1"].job == "J1" and facts.work_orders["WO1"].equipment == "EQ-7"
    job = facts.jobs["J1"]
    assert (job.billing_type, job.price_level, job.rate_schedule) == (
        JobBillingType.FIXED_FEE,
        "P1",
        "R1",
    )
    assert (job.date_closed, job.use_tax_rate) == (date(2025, 3, 10), D("7.5"))
    assert facts.cost_codes[("J1", "100")].allowed_categories == frozenset({"MAT"})
    assert facts.equipment == frozenset({"EQ-7"})
    assert facts.intercompany == {"C1": True} and facts.gl_entities == {"E-MAIN": "C1"}
    assert facts.price_levels == {"P1": {"123106": D("12.5")}}
    assert facts.rate_schedules == {"R1": D(20)}
    assert facts.positions[("123106", "Main")] == Position(D(14), D("55.232"))
    assert facts.positions[("SER", "Main")].on_hand == D(1)
    assert facts.serials[("SER", "S1")].bin == "A-02"
    assert facts.serials[("SER", "OUT")].location is None
    assert facts.settings.serialized_additions_allowed
    assert facts.settings.burden_income_account == "40900"
    assert {"10150", "50111", "40900"} <= facts.gl_accounts


async def test_cost_category_of_the_transaction_is_loaded_with_its_type(
    session: AsyncSession,
) -> None:
    side = JournalSide(job="J1", cost_code="100", cost_category="LAB")
    facts = await SqlJournalFacts(session).load(
        _tx(
            TransactionType.LOC_TO_JOB,
            JournalLine(1, "123106", D(1), JournalSide("Main", "A-01"), side),
        )
    )
    assert facts.cost_categories["LAB"].selection_cost_type is SelectionCostType.LABOR
    assert facts.cost_categories["LAB"].expense_account is None


async def test_seed_average_cost_example_on_loaded_facts(session: AsyncSession) -> None:
    def side(account: str) -> JournalSide:
        return JournalSide("Main", "A-01", gl_account=account)

    transaction = _tx(
        TransactionType.ADJUSTMENT,
        JournalLine(1, "123106", D(-14), side("50111"), side("10150")),
        JournalLine(2, "123106", D(14), side("50111"), side("10150"), unit_cost=D("57.000")),
    )
    facts = await SqlJournalFacts(session).load(transaction)
    prepared = prepare(transaction, facts)
    assert prepared.transaction.period == "2025-03"
    saved = stamp(prepared.transaction, "IA-1", "admin", NOW)
    result = post(posting_document(saved, facts.settings), facts.positions)
    assert result.positions[("123106", "Main")] == Position(D(14), D("57.000"))
    assert [(g.account, g.amount) for g in result.gl_lines] == [
        ("50111", D("773.25")),
        ("10150", D("-773.25")),
        ("50111", D("-798.00")),
        ("10150", D("798.00")),
    ]


async def test_on_hand_reads_the_items_balances_not_the_locations_bins(database_url: str) -> None:
    """A save's on hand per (item, location) starts from the item's balances (the (item,
    bin, lot) key) and looks up each one's bin, however many bins the location has and
    whether or not the planner has statistics (a freshly imported database has none):
    not every bin of the location probed for its balances, item by item."""
    # The journal benchmark's shape: 200 items, two locations of 100 bins, each item on
    # hand in one bin of the first (where the join was planned bin first).
    bins = [
        {"location": loc, "label": f"B-{n:03d}"} for loc in ("BIG", "OTHER") for n in range(100)
    ]
    items = [{"code": f"I{n}", "name": f"Item {n}", "tracking": "none"} for n in range(200)]
    stock = [
        {"item": f"I{n}", "location": "BIG", "bin": f"B-{n % 100:03d}", "quantity": "3",
         "unit_cost": "2"}
        for n in range(200)
    ]  # fmt: skip
    data = {
        "companies": [{"code": "C1", "name": "Company"}],
        "locations": [
            {"code": "BIG", "name": "Big", "company": "C1"},
            {"code": "OTHER", "name": "Other", "company": "C1"},
        ],
        "bins": bins,
        "items": items,
        "opening_stock": stock,
    }
    await import_into_database(database_url, [("big.json", data, None)])
    engine = make_engine(database_url)
    try:
        statement = _FACTS_ALONE["q"].params(items=[f"I{n}" for n in range(10)], locations=["BIG"])
        sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                plan = "\n".join(str(r[0]) for r in await conn.exec_driver_sql("EXPLAIN " + sql))
                assert "uq_stock_balance_item_id_bin_id_lot" in plan, plan
                assert "ix_stock_balance_bin_id" not in plan, plan
            else:
                rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
                plan = "\n".join(str(r[3]) for r in rows)
                assert "SEARCH stock_balance USING INDEX" in plan and "(item_id=?)" in plan, plan
            on_hand = {(r[0], r[1]): r[2] for r in await conn.exec_driver_sql(sql)}
    finally:
        await engine.dispose()
    # As stored: quantities in 1/10,000 (server.db.types).
    assert on_hand == {(f"I{n}", "BIG"): 30_000 for n in range(10)}
