"""The journal's master data through the importer, on SQLite and PostgreSQL: every kind in
one JSON file and read back as the journal rules see it, CSV files naming file, row and
field, all or nothing, conflicts, and attribute kinds that replace what is stored."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.db.engine import make_engine, make_sessionmaker
from server.domain.errors import Conflict, ValidationFailed
from server.domain.journal import (
    JobBillingType,
    JournalLine,
    JournalSide,
    JournalTransaction,
    SelectionCostType,
    TransactionType,
)
from server.journal.sql.facts import SqlJournalFacts
from server.journal.tables import CostCode, Job, JournalSettingsTable, WorkOrder
from tests.helpers import scalar
from tests.integration.test_import import BASE, run

D = Decimal
JOURNAL = {
    "accounting_periods": [
        {"code": "2026-11", "starts": "2026-11-01", "ends": "2026-11-30"},
        {"code": "2026-10", "starts": "2026-10-01", "ends": "2026-10-31", "closed": True},
    ],
    "price_levels": [{"code": "P1", "name": "List"}],
    "rate_schedules": [{"code": "R1", "name": "Rates", "material_markup": "20"}],
    "price_level_items": [{"price_level": "P1", "item": "123106", "unit_price": "80"}],
    "cost_categories": [
        {
            "code": "MAT",
            "name": "Material",
            "selection_cost_type": "material",
            "expense_account": "5100",
        },
        {"code": "EQP", "name": "Equipment", "selection_cost_type": "equipment"},
    ],
    "jobs": [
        {
            "code": "J1",
            "name": "Job one",
            "company": "ACME",
            "billing_type": "fixed_fee",
            "price_level": "P1",
            "rate_schedule": "R1",
            "date_closed": "2026-12-31",
            "use_tax_rate": "7.5",
        }
    ],
    "cost_codes": [
        {
            "job": "J1",
            "code": "100",
            "name": "Pumps",
            "gl_entity": "E1",
            "allowed_categories": ["MAT"],
        },
        {"job": "J1", "code": "200", "name": "Other"},
    ],
    "equipment": [{"code": "EQ-7", "name": "Loader"}],
    "work_orders": [
        {
            "code": "WO-1",
            "job": "J1",
            "equipment": "EQ-7",
            "cost_code": "100",
            "cost_category": "MAT",
        }
    ],
    "item_journal": [{"item": "123106", "use_unit_prices": True, "burden_rate": "2.5"}],
    "location_journal": [{"location": "MAIN", "burden_rate": "5"}],
    "inventory_group_journal": [{"inventory_group": "PUMPS", "apply_location_burden": True}],
    "journal_settings": [
        {
            "serialized_additions_allowed": True,
            "burden_income_account": "1400",
            "use_tax_liability_account": "5100",
        }
    ],
}


async def test_every_journal_kind_imports_and_the_rules_see_it(database_url: str) -> None:
    rows = await run(database_url, ("all.json", {**BASE, **JOURNAL}, None))
    assert [k for k in rows if k in JOURNAL] == list(JOURNAL)  # the documented order
    assert rows["cost_codes"] == 2 and rows["journal_settings"] == 1
    draft = JournalTransaction(
        date(2026, 11, 23),
        TransactionType.LOC_TO_JOB,
        (
            JournalLine(
                1, "123106", D(1), JournalSide("MAIN", "A-01"), JournalSide(work_order="WO-1")
            ),
        ),
    )
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            facts = await SqlJournalFacts(db).load(draft)
    finally:
        await engine.dispose()
    assert facts.periods["2026-10"].closed and not facts.periods["2026-11"].closed
    assert facts.work_orders["WO-1"].cost_code == "100"
    job = facts.jobs["J1"]
    assert (job.billing_type, job.price_level, job.rate_schedule) == (
        JobBillingType.FIXED_FEE,
        "P1",
        "R1",
    )
    assert (job.date_closed, job.use_tax_rate) == (date(2026, 12, 31), D("7.5"))
    code = facts.cost_codes[("J1", "100")]
    assert (code.gl_entity, code.allowed_categories) == ("E1", frozenset({"MAT"}))
    assert facts.cost_codes[("J1", "200")].allowed_categories == frozenset()
    category = facts.cost_categories["MAT"]
    assert (category.selection_cost_type, category.expense_account) == (
        SelectionCostType.MATERIAL,
        "5100",
    )
    assert facts.price_levels == {"P1": {"123106": D(80)}}
    assert facts.rate_schedules == {"R1": D(20)}
    item = facts.items["123106"]
    assert (item.use_unit_prices, item.burden_rate) == (True, D("2.5"))
    assert facts.locations["MAIN"].burden_rate == D(5)
    assert facts.inventory_groups["PUMPS"].apply_location_burden
    assert facts.settings.serialized_additions_allowed
    assert not facts.settings.wizard_defaults_quantity_billable
    assert (facts.settings.burden_income_account, facts.settings.use_tax_liability_account) == (
        "1400",
        "5100",
    )
    assert "EQ-7" in facts.equipment


async def test_csv_errors_name_file_row_and_field_and_store_nothing(database_url: str) -> None:
    await run(database_url, ("base.json", BASE, None))
    jobs = b"code,name,company\nJ1,Job one,ACME\nJ2,Job two,NOPE\n"
    codes = b"job,code,name,allowed_categories\nJ1,100,Pumps,MAT|XXX\n"
    orders = b"code,job,cost_code\nWO-1,J1,999\n"
    periods = b"code,starts,ends\nP1,2026-11-30,2026-11-01\n"
    with pytest.raises(ValidationFailed) as caught:
        await run(
            database_url,
            ("jobs.csv", jobs, None),
            ("cost-codes.csv", codes, None),
            ("07_work_orders.csv", orders, None),
            ("cost_categories.csv", b"code,name,selection_cost_type\nMAT,M,material\n", None),
        )
    where = {p.location: p.message for p in caught.value.details}
    assert "unknown company 'NOPE'" in where["jobs.csv row 2 (line 3), field company"]
    assert (
        "unknown cost category 'XXX'"
        in where["cost-codes.csv row 1 (line 2), field allowed_categories"]
    )
    assert (
        "job 'J1' has no cost code '999'"
        in where["07_work_orders.csv row 1 (line 2), field cost_code"]
    )
    assert await scalar(database_url, select(func.count()).select_from(Job)) == 0
    with pytest.raises(ValidationFailed) as caught:
        await run(database_url, ("accounting_periods.csv", periods, None))
    assert caught.value.details[0].location == "accounting_periods.csv row 1 (line 2), field ends"


async def test_existing_records_conflict_and_attributes_are_replaced(database_url: str) -> None:
    await run(database_url, ("all.json", {**BASE, **JOURNAL}, None))
    with pytest.raises(Conflict) as caught:
        await run(database_url, ("more.json", {"jobs": JOURNAL["jobs"]}, None))
    assert caught.value.details[0].location == "more.json jobs row 1, field code"
    with pytest.raises(Conflict):
        await run(database_url, ("more.json", {"cost_codes": JOURNAL["cost_codes"][:1]}, None))
    assert await scalar(database_url, select(func.count()).select_from(CostCode)) == 2
    settings = [{"wizard_defaults_quantity_billable": "yes"}]
    await run(database_url, ("s.json", {"journal_settings": settings}, None))
    stored = await scalar(
        database_url,
        select(JournalSettingsTable.wizard_defaults_quantity_billable).where(
            JournalSettingsTable.id == 1
        ),
    )
    assert stored is True
    assert await scalar(database_url, select(func.count()).select_from(WorkOrder)) == 1
