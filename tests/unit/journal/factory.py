"""Master data for journal tests: the seed's item 123106 at Main, jobs, a work order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from server.domain.journal import (
    CostCategoryFacts,
    CostCodeFacts,
    InventoryGroupFacts,
    ItemFacts,
    JobBillingType,
    JobFacts,
    JournalFacts,
    JournalLine,
    JournalSettings,
    JournalSide,
    JournalTransaction,
    LocationFacts,
    PeriodFacts,
    SelectionCostType,
    SerialFacts,
    TransactionType,
    WorkOrderFacts,
    prepare,
    stamp,
)
from server.domain.masterdata import Tracking
from server.domain.posting import Position

D = Decimal
DAY = date(2025, 3, 14)
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)

FACTS = JournalFacts(
    items={
        "123106": ItemFacts("123106", Tracking.NONE, "EA", D("50.000"), "STD"),
        "PRICED": ItemFacts("PRICED", Tracking.NONE, "BOX", D(4), "STD", use_unit_prices=True),
        "NEW": ItemFacts("NEW", Tracking.NONE, "EA", D("7.25"), "STD"),
        "SER": ItemFacts("SER", Tracking.SERIAL, "EA", D(90), "STD"),
        "LOT": ItemFacts("LOT", Tracking.LOT, "KG", D(3), "STD"),
        "BURD": ItemFacts("BURD", Tracking.NONE, "EA", D(10), "BURDEN", burden_rate=D(10)),
        "NOGRP": ItemFacts("NOGRP", Tracking.NONE, "EA", D(1)),
    },
    inventory_groups={
        "STD": InventoryGroupFacts("STD", "10150", "50111", "E-GROUP"),
        "BURDEN": InventoryGroupFacts("BURDEN", "10150", "50111", None, True),
    },
    locations={
        "Main": LocationFacts("Main", "C1", "E-MAIN", burden_rate=D(5)),
        "North": LocationFacts("North", "C1"),  # no entity: the group's
        "Other": LocationFacts("Other", "C2", "E-C2"),
    },
    bins=frozenset({("Main", "B1"), ("Main", "B2"), ("North", "N1"), ("Other", "O1")}),
    jobs={
        "J1": JobFacts("J1", "C1", price_level="P1", rate_schedule="R1"),
        "J2": JobFacts("J2", "C1", rate_schedule="R1", date_closed=date(2025, 3, 1)),
        "FIX": JobFacts("FIX", "C1", JobBillingType.FIXED_FEE, "P1", "R1"),
        "XTRA": JobFacts("XTRA", "C1", JobBillingType.ALLOW_EXTRA_BILLING, "P1", "R1"),
        "TAX": JobFacts("TAX", "C1", rate_schedule="R1", use_tax_rate=D(8)),
        "C2JOB": JobFacts("C2JOB", "C2"),
    },
    cost_codes={
        ("J1", "100"): CostCodeFacts("J1", "100", "E-JOB"),
        ("J1", "200"): CostCodeFacts("J1", "200", "E-JOB", frozenset({"EQ"})),
        ("J2", "100"): CostCodeFacts("J2", "100", "E-JOB"),
        ("FIX", "100"): CostCodeFacts("FIX", "100", "E-JOB"),
        ("XTRA", "100"): CostCodeFacts("XTRA", "100", "E-JOB"),
        ("TAX", "100"): CostCodeFacts("TAX", "100", "E-JOB"),
        ("C2JOB", "100"): CostCodeFacts("C2JOB", "100", "E-C2"),
    },
    cost_categories={
        "MAT": CostCategoryFacts("MAT", SelectionCostType.MATERIAL, "50100"),
        "EQ": CostCategoryFacts("EQ", SelectionCostType.EQUIPMENT, "50200"),
        "LAB": CostCategoryFacts("LAB", SelectionCostType.LABOR, "50300"),
    },
    work_orders={
        "WO1": WorkOrderFacts("WO1", "J1", "EQ-7", "100", "MAT"),
        "WO2": WorkOrderFacts("WO2", "J2"),
    },
    equipment=frozenset({"EQ-7", "EQ-8"}),
    gl_accounts=frozenset({"10150", "50111", "50100", "50200", "50300", "40900", "21500"}),
    gl_entities={"E-MAIN": "C1", "E-GROUP": "C1", "E-JOB": "C1", "E-C2": "C2"},
    intercompany={"C1": False, "C2": False},
    periods={
        "2025-03": PeriodFacts("2025-03", date(2025, 3, 1), date(2025, 3, 31)),
        "2025-02": PeriodFacts("2025-02", date(2025, 2, 1), date(2025, 2, 28), closed=True),
    },
    price_levels={"P1": {"PRICED": D("12.50")}},
    rate_schedules={"R1": D(20)},
    positions={
        ("123106", "Main"): Position(D(14), D("55.232")),
        ("NEW", "Main"): Position(D(0), D(0)),
        ("BURD", "Main"): Position(D(10), D(10)),
        ("PRICED", "Main"): Position(D(10), D(4)),
    },
    serials={
        ("SER", "S1"): SerialFacts("SER", "S1", D("101.50"), "Main", "B1"),
        ("SER", "S2"): SerialFacts("SER", "S2", D("99.00"), "North", "N1"),
        ("SER", "GONE"): SerialFacts("SER", "GONE", D("88.00")),  # on a job
    },
    settings=JournalSettings(
        serialized_additions_allowed=True,
        burden_income_account="40900",
        use_tax_liability_account="21500",
    ),
)


def facts(**changes: Any) -> JournalFacts:
    return replace(FACTS, **changes)


# A location side that moves stock names its bin: each location's first bin unless given.
FIRST_BIN = {"Main": "B1", "North": "N1", "Other": "O1"}


def loc(location: str, **fields: Any) -> JournalSide:
    fields.setdefault("bin", FIRST_BIN.get(location))
    return JournalSide(location=location, **fields)


def job(
    code: str, cost_code: str = "100", cost_category: str = "MAT", **fields: Any
) -> JournalSide:
    return JournalSide(job=code, cost_code=cost_code, cost_category=cost_category, **fields)


def line(
    from_side: JournalSide,
    to_side: JournalSide | None = None,
    item: str = "123106",
    quantity: str | int = 1,
    line_no: int = 1,
    **fields: Any,
) -> JournalLine:
    return JournalLine(line_no, item, D(quantity), from_side, to_side, **fields)


def tx(
    kind: TransactionType, *lines: JournalLine, period: str | None = "2025-03", **fields: Any
) -> JournalTransaction:
    return JournalTransaction(DAY, kind, lines, period=period, **fields)


def saved(
    transaction: JournalTransaction, data: JournalFacts = FACTS, number: str = "IA-1"
) -> JournalTransaction:
    """Prepared and stamped, as a save leaves it."""
    return stamp(prepare(transaction, data).transaction, number, "alice", NOW)
