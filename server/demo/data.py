"""A sample warehouse as master data in the import format (docs/IMPORT_FORMAT.md).

Deterministic: the same seed and size give the same document, byte for byte, so tests and
benchmarks can rely on it. `sample_warehouse()` returns the JSON-ready document;
`write_sample_warehouse()` writes it to a file `stockcount import` reads.

What is in it (default size): one company with two GL entities; the GL accounts of the
seed (10150 inventory, 50111 inventory adjustment); inventory groups; two locations (MAIN,
NORTH) with a few hundred stock bins and some OUT bins; items of every tracking kind
(untracked, lot, serial, one auto-serialized), each with a GTIN-13; serials with differing
actual costs, a few in OUT bins; opening stock for untracked and lot items, including the
seed's item 123106 with 14 on hand at MAIN at 55.232.

For the Inventory Adjustment Journal: monthly accounting periods of the current year (so
one covers today; the document is the same all year), cost categories, a job with cost
codes (one with a usage filter), a price level and a rate schedule, equipment, a work
order, and the journal settings with their burden and use tax accounts.
"""

from __future__ import annotations

import calendar
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from schemas.masterdata import (
    Bin,
    Company,
    GlAccount,
    GlEntity,
    InventoryGroup,
    Item,
    Location,
    OpeningStock,
    Serial,
    Tracking,
)

DEFAULT_SEED = 20_240_601
COMPANY = "ACME"
INVENTORY_ACCOUNT = "10150"
ADJUSTMENT_ACCOUNT = "50111"
# The seed's example: 14 of item 123106 on hand at Main at 55.232.
SEED_ITEM = "123106"
SEED_ITEM_QUANTITY = Decimal(14)
SEED_ITEM_COST = Decimal("55.232")
GTIN_PREFIX = "40"  # a GS1 prefix range; the rest of the number is made up


@dataclass(frozen=True, slots=True)
class LocationPlan:
    code: str
    name: str
    gl_entity: str
    zones: str  # one letter per zone
    aisles: int
    slots: int  # bins per aisle
    out_bins: int


@dataclass(frozen=True, slots=True)
class DemoSize:
    locations: tuple[LocationPlan, ...] = (
        LocationPlan("MAIN", "Main warehouse", "ACME-MAIN", "ABCD", 6, 8, 4),
        LocationPlan("NORTH", "North depot", "ACME-NORTH", "AB", 6, 8, 2),
    )
    untracked_items: int = 24
    lot_items: int = 10
    serial_items: int = 12
    serials_per_item: tuple[int, int] = (3, 12)


@dataclass(frozen=True, slots=True)
class _Product:
    stem: str
    group: str
    uom: str
    cost_range: tuple[int, int]


_PRODUCTS = (
    _Product("Centrifugal pump", "PUMPS", "EA", (40, 900)),
    _Product("Gate valve", "VALVES", "EA", (8, 240)),
    _Product("Ball valve", "VALVES", "EA", (5, 120)),
    _Product("Hydraulic filter", "FILTERS", "EA", (3, 60)),
    _Product("Air filter cartridge", "FILTERS", "EA", (2, 35)),
    _Product("Copper cable 2.5mm2", "ELEC", "M", (1, 4)),
    _Product("Contactor 24V", "ELEC", "EA", (12, 180)),
    _Product("Pressure sensor", "ELEC", "EA", (30, 420)),
    _Product("V-belt", "SPARES", "EA", (2, 40)),
    _Product("Bearing 6204", "SPARES", "EA", (3, 25)),
)
_GROUPS = {
    "PUMPS": "Pumps",
    "VALVES": "Valves",
    "FILTERS": "Filters",
    "ELEC": "Electrical",
    "SPARES": "Spare parts",
}


def gtin13(body: str) -> str:
    """A GTIN-13 from its first 12 digits: the GS1 mod-10 check digit appended."""
    if len(body) != 12 or not body.isdigit():
        raise ValueError(f"a GTIN-13 body is 12 digits, not {body!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _cost(rng: random.Random, low: int, high: int) -> Decimal:
    """A unit cost with 3 decimal places, like the seed's 55.232."""
    return Decimal(rng.randint(low * 1000, high * 1000)).scaleb(-3)


def _bins(plan: LocationPlan) -> tuple[list[Bin], list[Bin]]:
    stock = [
        Bin(
            location=plan.code,
            label=f"{plan.code}-{zone}{aisle:02d}-{slot:02d}",
            kind="stock",
            zone=zone,
        )
        for zone in plan.zones
        for aisle in range(1, plan.aisles + 1)
        for slot in range(1, plan.slots + 1)
    ]
    out = [
        Bin(location=plan.code, label=f"{plan.code}-OUT-{n:02d}", kind="out", zone="OUT")
        for n in range(1, plan.out_bins + 1)
    ]
    return stock, out


def sample_warehouse(
    seed: int = DEFAULT_SEED, size: DemoSize | None = None, today: date | None = None
) -> dict[str, Any]:
    """The sample warehouse as an import document: {kind: [record, ...]}, JSON-ready.
    `today` picks the year of the journal's accounting periods (default: today)."""
    size = size or DemoSize()
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    entities = [
        GlEntity(code=p.gl_entity, name=f"Acme {p.name}", company=COMPANY) for p in size.locations
    ]
    groups = [
        InventoryGroup(
            code=code,
            name=name,
            inventory_account=INVENTORY_ACCOUNT,
            adjustment_account=ADJUSTMENT_ACCOUNT,
            gl_entity=size.locations[0].gl_entity,
        )
        for code, name in _GROUPS.items()
    ]
    locations = [
        Location(code=p.code, name=p.name, company=COMPANY, gl_entity=p.gl_entity)
        for p in size.locations
    ]
    stock_bins: dict[str, list[Bin]] = {}
    out_bins: dict[str, list[Bin]] = {}
    for plan in size.locations:
        stock_bins[plan.code], out_bins[plan.code] = _bins(plan)

    items: list[Item] = []
    serials: list[Serial] = []
    opening: list[OpeningStock] = []
    main = size.locations[0].code
    number = 123100

    def new_item(tracking: Tracking, auto: bool = False) -> Item:
        nonlocal number
        number += 1
        code = str(number)
        # The seed's 123106 is a pump, as in the import format's example.
        product = _PRODUCTS[0 if code == SEED_ITEM else number % len(_PRODUCTS)]
        cost = SEED_ITEM_COST if code == SEED_ITEM else _cost(rng, *product.cost_range)
        item = Item(
            code=code,
            name=f"{product.stem} {code[-3:]}",
            tracking="serial" if auto else tracking,
            auto_serialized=auto,
            uom=product.uom,
            last_cost=cost,
            inventory_group=product.group,
            barcodes=[gtin13(f"{GTIN_PREFIX}{number:010d}")],
        )
        items.append(item)
        return item

    def some_bins(location: str, count: int) -> list[Bin]:
        return rng.sample(stock_bins[location], count)

    for _ in range(size.untracked_items):
        item = new_item("none")
        if item.code == SEED_ITEM:
            where = some_bins(main, 1)[0]
            opening.append(
                OpeningStock(
                    item=item.code,
                    location=main,
                    bin=where.label,
                    quantity=SEED_ITEM_QUANTITY,
                    unit_cost=SEED_ITEM_COST,
                )
            )
            continue
        for plan in size.locations:
            for where in some_bins(plan.code, rng.randint(1, 3)):
                quantity = Decimal(rng.randint(1, 60))
                if item.uom == "M":
                    quantity = Decimal(rng.randint(50, 5000)).scaleb(-1)  # 5.0 to 500.0 m
                opening.append(
                    OpeningStock(
                        item=item.code,
                        location=plan.code,
                        bin=where.label,
                        quantity=quantity,
                        unit_cost=item.last_cost,
                    )
                )

    for _ in range(size.lot_items):
        item = new_item("lot")
        for lot_no in range(rng.randint(1, 3)):
            plan = rng.choice(size.locations)
            opening.append(
                OpeningStock(
                    item=item.code,
                    location=plan.code,
                    bin=some_bins(plan.code, 1)[0].label,
                    quantity=Decimal(rng.randint(2, 40)),
                    # Lots bought at different times cost a little more or less.
                    unit_cost=(item.last_cost * Decimal(rng.randint(900, 1100)) / 1000).quantize(
                        Decimal("0.001")
                    ),
                    lot=f"L{seed % 10000:04d}-{item.code}-{lot_no + 1}",
                )
            )

    for index in range(size.serial_items):
        # The last serialized item is auto-serialized: the system numbers new units.
        item = new_item("serial", auto=index == size.serial_items - 1)
        low, high = size.serials_per_item
        for n in range(1, rng.randint(low, high) + 1):
            plan = rng.choice(size.locations)
            # About one serial in twelve has been released to an OUT bin.
            pool = out_bins[plan.code] if rng.random() < 1 / 12 else stock_bins[plan.code]
            serials.append(
                Serial(
                    item=item.code,
                    serial_number=f"SN{item.code}-{n:04d}",
                    location=plan.code,
                    bin=rng.choice(pool).label,
                    actual_cost=(item.last_cost * Decimal(rng.randint(850, 1150)) / 1000).quantize(
                        Decimal("0.001")
                    ),
                )
            )

    document: dict[str, list[msgspec.Struct]] = {
        "companies": [Company(code=COMPANY, name="Acme Industrial Supply")],
        "gl_accounts": [
            GlAccount(code=INVENTORY_ACCOUNT, name="Inventory"),
            GlAccount(code=ADJUSTMENT_ACCOUNT, name="Inventory adjustment"),
        ],
        "gl_entities": list(entities),
        "inventory_groups": list(groups),
        "locations": list(locations),
        "bins": [b for p in size.locations for b in stock_bins[p.code] + out_bins[p.code]],
        "items": list(items),
        "serials": list(serials),
        "opening_stock": list(opening),
    }
    builtins: dict[str, Any] = msgspec.to_builtins(document)
    builtins["gl_accounts"] += [{"code": c, "name": n} for c, n in JOURNAL_ACCOUNTS.items()]
    builtins.update(journal_master_data(today or datetime.now(UTC).date()))
    builtins["reason_codes"] = [dict(r) for r in REASON_CODES]
    return builtins


# The reason codes a supervisor approves discrepancies with; kinds empty: every kind.
REASON_CODES: tuple[dict[str, Any], ...] = (
    {
        "code": "DAMAGED",
        "description": "Damaged beyond use",
        "kinds": ["missing", "quantity_variance"],
    },
    {"code": "MISCOUNT", "description": "Miscounted before (receipt, issue or count)", "kinds": []},
    {
        "code": "THEFT",
        "description": "Missing, presumed stolen",
        "kinds": ["missing", "quantity_variance"],
    },
    {
        "code": "FOUND",
        "description": "Found stock that was not on the books",
        "kinds": ["unknown", "generated", "quantity_variance"],
    },
    {
        "code": "TRANSFER",
        "description": "Moved between bins without a transaction",
        "kinds": ["serial_transfer_proposal"],
    },
)


COS_MATERIAL, BURDEN_INCOME, USE_TAX_PAYABLE = "50100", "40900", "21500"
JOURNAL_ACCOUNTS = {
    COS_MATERIAL: "COS material",
    BURDEN_INCOME: "Burden income",
    USE_TAX_PAYABLE: "Use tax payable",
}
DEMO_JOB, DEMO_WORK_ORDER = "J-1000", "WO-1000"


def journal_master_data(today: date) -> dict[str, list[dict[str, Any]]]:
    """The journal's sample master data, in the import format (additive kinds)."""
    year = today.year
    periods = [
        {
            "code": f"{year}-{month:02d}",
            "starts": date(year, month, 1).isoformat(),
            "ends": date(year, month, calendar.monthrange(year, month)[1]).isoformat(),
        }
        for month in range(1, 13)
    ]
    return {
        "accounting_periods": periods,
        "price_levels": [{"code": "LIST", "name": "List prices"}],
        "rate_schedules": [{"code": "STD", "name": "Standard rates", "material_markup": "20"}],
        "price_level_items": [{"price_level": "LIST", "item": SEED_ITEM, "unit_price": "80"}],
        "cost_categories": [
            {
                "code": "MAT",
                "name": "Material",
                "selection_cost_type": "material",
                "expense_account": COS_MATERIAL,
            },
            {
                "code": "EQP",
                "name": "Equipment",
                "selection_cost_type": "equipment",
                "expense_account": COS_MATERIAL,
            },
            {"code": "LAB", "name": "Labor", "selection_cost_type": "labor"},
        ],
        "jobs": [
            {
                "code": DEMO_JOB,
                "name": "Pump station refit",
                "company": COMPANY,
                "price_level": "LIST",
                "rate_schedule": "STD",
                "use_tax_rate": "6",
            },
        ],
        "cost_codes": [
            {
                "job": DEMO_JOB,
                "code": "100",
                "name": "Pumps and valves",
                "allowed_categories": ["MAT", "EQP"],
            },
            {"job": DEMO_JOB, "code": "200", "name": "Site services"},
        ],
        "equipment": [{"code": "EQ-1", "name": "Forklift"}],
        "work_orders": [
            {
                "code": DEMO_WORK_ORDER,
                "job": DEMO_JOB,
                "equipment": "EQ-1",
                "cost_code": "100",
                "cost_category": "MAT",
            },
        ],
        "item_journal": [{"item": SEED_ITEM, "use_unit_prices": True}],
        "journal_settings": [
            {"burden_income_account": BURDEN_INCOME, "use_tax_liability_account": USE_TAX_PAYABLE},
        ],
    }


def write_sample_warehouse(
    path: Path, seed: int = DEFAULT_SEED, size: DemoSize | None = None
) -> dict[str, Any]:
    """Write the sample warehouse as JSON to `path`; returns the document."""
    document = sample_warehouse(seed, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return document
