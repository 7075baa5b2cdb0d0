"""Reads the master data and stock a journal transaction refers to, as `JournalFacts`.

One query per kind for the whole transaction, never per line: the codes the transaction
names are collected first (work orders before jobs, since a work order names its job),
then each kind is read with `IN` on those codes. Small tables the checks need whole (GL
entities with their companies, companies' intercompany flag, accounting periods) are
read whole. The GL accounts known to the rules are those the transaction names that
exist, plus every default account the loaded master data points at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from server.db.costing import serialized_average_costs
from server.db.session import Session
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
)
from server.domain.journal import (
    CostCategoryFacts,
    CostCodeFacts,
    InventoryGroupFacts,
    ItemFacts,
    JobBillingType,
    JobFacts,
    JournalFacts,
    JournalSettings,
    JournalTransaction,
    LocationFacts,
    PeriodFacts,
    SelectionCostType,
    SerialFacts,
    WorkOrderFacts,
)
from server.domain.masterdata import Tracking
from server.domain.money import ZERO
from server.domain.posting import Position
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


def codes_of(values: Iterable[str | None]) -> set[str]:
    return {v for v in values if v}


class SqlJournalFacts:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def load(self, transaction: JournalTransaction) -> JournalFacts:
        sides = [side for line in transaction.lines for _, side in line.sides()]
        item_codes = codes_of(line.item for line in transaction.lines)
        location_codes = codes_of(side.location for side in sides)
        orders = await self._work_orders(codes_of(side.work_order for side in sides))
        job_codes = codes_of(side.job for side in sides) | {o.job for o in orders.values()}
        category_codes = codes_of(side.cost_category for side in sides)
        category_codes |= codes_of(o.cost_category for o in orders.values())
        items = await self._items(item_codes)
        groups = await self._groups(codes_of(i.inventory_group for i in items.values()))
        jobs = await self._jobs(job_codes)
        categories = await self._categories(category_codes)
        settings = await self.settings()
        named_accounts = codes_of(side.gl_account for side in sides)
        default_accounts = codes_of(
            [g.inventory_account for g in groups.values()]
            + [g.adjustment_account for g in groups.values()]
            + [c.expense_account for c in categories.values()]
            + [settings.burden_income_account, settings.use_tax_liability_account]
        )
        entities, intercompany = await self._entities()
        serials = await self._serials(
            {(line.item, line.serial) for line in transaction.lines if line.serial}
        )
        return JournalFacts(
            items=items,
            inventory_groups=groups,
            locations=await self._locations(location_codes),
            # A serial leaving a location leaves the bin it is in (a default): its bin too.
            bins=await self._bins(
                location_codes,
                codes_of(side.bin for side in sides) | codes_of(s.bin for s in serials.values()),
            ),
            jobs=jobs,
            cost_codes=await self._cost_codes(set(jobs)),
            cost_categories=categories,
            work_orders=orders,
            equipment=await self._existing(
                Equipment.code,
                codes_of(side.equipment for side in sides)
                | codes_of(o.equipment for o in orders.values()),
            ),
            gl_accounts=await self._existing(GlAccount.code, named_accounts) | default_accounts,
            gl_entities=entities,
            intercompany=intercompany,
            periods=await self._periods(),
            price_levels=await self._price_levels(
                codes_of(j.price_level for j in jobs.values()), item_codes
            ),
            rate_schedules=await self._rate_schedules(
                codes_of(j.rate_schedule for j in jobs.values())
            ),
            positions=await self._positions(
                item_codes,
                location_codes,
                any(i.tracking is Tracking.SERIAL for i in items.values()),
            ),
            serials=serials,
            settings=settings,
        )

    async def _existing(
        self, column: InstrumentedAttribute[str], codes: set[str]
    ) -> frozenset[str]:
        if not codes:
            return frozenset()
        rows = await self.session.execute(select(column).where(column.in_(codes)))
        return frozenset(str(code) for (code,) in rows)

    async def _items(self, codes: set[str]) -> dict[str, ItemFacts]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(
                Item.code,
                Item.tracking,
                Item.uom,
                Item.last_cost,
                InventoryGroup.code,
                ItemJournal.use_unit_prices,
                ItemJournal.burden_rate,
            )
            .outerjoin(InventoryGroup, InventoryGroup.id == Item.inventory_group_id)
            .outerjoin(ItemJournal, ItemJournal.item_id == Item.id)
            .where(Item.code.in_(codes))
        )
        return {
            code: ItemFacts(
                code,
                Tracking(tracking),
                uom,
                last_cost,
                group,
                bool(unit_prices),
                burden if burden is not None else ZERO,
            )
            for code, tracking, uom, last_cost, group, unit_prices, burden in rows
        }

    async def _groups(self, codes: set[str]) -> dict[str, InventoryGroupFacts]:
        if not codes:
            return {}
        asset, adjustment = aliased(GlAccount), aliased(GlAccount)
        rows = await self.session.execute(
            select(
                InventoryGroup.code,
                asset.code,
                adjustment.code,
                GlEntity.code,
                InventoryGroupJournal.apply_location_burden,
            )
            .outerjoin(asset, asset.id == InventoryGroup.inventory_account_id)
            .outerjoin(adjustment, adjustment.id == InventoryGroup.adjustment_account_id)
            .outerjoin(GlEntity, GlEntity.id == InventoryGroup.gl_entity_id)
            .outerjoin(
                InventoryGroupJournal, InventoryGroupJournal.inventory_group_id == InventoryGroup.id
            )
            .where(InventoryGroup.code.in_(codes))
        )
        return {
            code: InventoryGroupFacts(code, inv, adj, entity, bool(apply))
            for code, inv, adj, entity, apply in rows
        }

    async def _locations(self, codes: set[str]) -> dict[str, LocationFacts]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(Location.code, Company.code, GlEntity.code, LocationJournal.burden_rate)
            .join(Company, Company.id == Location.company_id)
            .outerjoin(GlEntity, GlEntity.id == Location.gl_entity_id)
            .outerjoin(LocationJournal, LocationJournal.location_id == Location.id)
            .where(Location.code.in_(codes))
        )
        return {
            code: LocationFacts(code, company, entity, burden if burden is not None else ZERO)
            for code, company, entity, burden in rows
        }

    async def _bins(self, locations: set[str], labels: set[str]) -> frozenset[tuple[str, str]]:
        if not locations or not labels:
            return frozenset()
        rows = await self.session.execute(
            select(Location.code, Bin.label)
            .join(Location, Location.id == Bin.location_id)
            .where(Location.code.in_(locations), Bin.label.in_(labels))
        )
        return frozenset((str(loc), str(label)) for loc, label in rows)

    async def _work_orders(self, codes: set[str]) -> dict[str, WorkOrderFacts]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(WorkOrder.code, Job.code, Equipment.code, CostCode.code, CostCategory.code)
            .join(Job, Job.id == WorkOrder.job_id)
            .outerjoin(Equipment, Equipment.id == WorkOrder.equipment_id)
            .outerjoin(CostCode, CostCode.id == WorkOrder.cost_code_id)
            .outerjoin(CostCategory, CostCategory.id == WorkOrder.cost_category_id)
            .where(WorkOrder.code.in_(codes))
        )
        return {
            code: WorkOrderFacts(code, job, equipment or "", cost_code or "", category or "")
            for code, job, equipment, cost_code, category in rows
        }

    async def _jobs(self, codes: set[str]) -> dict[str, JobFacts]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(
                Job.code,
                Company.code,
                Job.billing_type,
                PriceLevel.code,
                RateSchedule.code,
                Job.date_closed,
                Job.use_tax_rate,
            )
            .join(Company, Company.id == Job.company_id)
            .outerjoin(PriceLevel, PriceLevel.id == Job.price_level_id)
            .outerjoin(RateSchedule, RateSchedule.id == Job.rate_schedule_id)
            .where(Job.code.in_(codes))
        )
        return {
            code: JobFacts(code, company, JobBillingType(billing), level, schedule, closed, tax)
            for code, company, billing, level, schedule, closed, tax in rows
        }

    async def _cost_codes(self, jobs: set[str]) -> dict[tuple[str, str], CostCodeFacts]:
        if not jobs:
            return {}
        rows = await self.session.execute(
            select(CostCode.id, Job.code, CostCode.code, GlEntity.code)
            .join(Job, Job.id == CostCode.job_id)
            .outerjoin(GlEntity, GlEntity.id == CostCode.gl_entity_id)
            .where(Job.code.in_(jobs))
        )
        found = list(rows)
        allowed: dict[int, set[str]] = defaultdict(set)
        if found:
            filters = await self.session.execute(
                select(CostCodeCategory.cost_code_id, CostCategory.code)
                .join(CostCategory, CostCategory.id == CostCodeCategory.cost_category_id)
                .where(CostCodeCategory.cost_code_id.in_([r[0] for r in found]))
            )
            for cost_code_id, category in filters:
                allowed[int(cost_code_id)].add(str(category))
        return {
            (job, code): CostCodeFacts(job, code, entity, frozenset(allowed[int(cid)]))
            for cid, job, code, entity in found
        }

    async def _categories(self, codes: set[str]) -> dict[str, CostCategoryFacts]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(CostCategory.code, CostCategory.selection_cost_type, GlAccount.code)
            .outerjoin(GlAccount, GlAccount.id == CostCategory.expense_account_id)
            .where(CostCategory.code.in_(codes))
        )
        return {
            code: CostCategoryFacts(code, SelectionCostType(kind), account)
            for code, kind, account in rows
        }

    async def _entities(self) -> tuple[dict[str, str], dict[str, bool]]:
        rows = await self.session.execute(
            select(Company.code, Company.intercompany, GlEntity.code).outerjoin(
                GlEntity, GlEntity.company_id == Company.id
            )
        )
        entities: dict[str, str] = {}
        intercompany: dict[str, bool] = {}
        for company, on, entity in rows:
            intercompany[str(company)] = bool(on)
            if entity is not None:
                entities[str(entity)] = str(company)
        return entities, intercompany

    async def _periods(self) -> dict[str, PeriodFacts]:
        rows = await self.session.execute(
            select(
                AccountingPeriod.code,
                AccountingPeriod.starts,
                AccountingPeriod.ends,
                AccountingPeriod.closed,
            )
        )
        return {code: PeriodFacts(code, s, e, bool(c)) for code, s, e, c in rows}

    async def _price_levels(
        self, levels: set[str], items: set[str]
    ) -> dict[str, dict[str, Decimal]]:
        if not levels or not items:
            return {}
        rows = await self.session.execute(
            select(PriceLevel.code, Item.code, PriceLevelItem.unit_price)
            .join(PriceLevel, PriceLevel.id == PriceLevelItem.price_level_id)
            .join(Item, Item.id == PriceLevelItem.item_id)
            .where(PriceLevel.code.in_(levels), Item.code.in_(items))
        )
        prices: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for level, item, price in rows:
            prices[str(level)][str(item)] = price
        return dict(prices)

    async def _rate_schedules(self, codes: set[str]) -> dict[str, Decimal]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(RateSchedule.code, RateSchedule.material_markup).where(
                RateSchedule.code.in_(codes)
            )
        )
        return {str(code): markup for code, markup in rows}

    async def _positions(
        self, items: set[str], locations: set[str], serialized: bool = True
    ) -> dict[tuple[str, str], Position]:
        """On hand (balances plus serials in stock) and average cost per item and location."""
        if not items or not locations:
            return {}
        on_hand: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        balances = await self.session.execute(
            select(Item.code, Location.code, func.sum(StockBalance.quantity))
            .join(Item, Item.id == StockBalance.item_id)
            .join(Bin, Bin.id == StockBalance.bin_id)
            .join(Location, Location.id == Bin.location_id)
            .where(Item.code.in_(items), Location.code.in_(locations))
            .group_by(Item.code, Location.code)
        )
        for item, location, total in balances:
            on_hand[(str(item), str(location))] += total  # SUM keeps the scaled type
        if serialized:  # only serialized items have serials to count
            serials = await self.session.execute(
                select(Item.code, Location.code, func.count())
                .select_from(Serial)
                .join(Item, Item.id == Serial.item_id)
                .join(Bin, Bin.id == Serial.bin_id)
                .join(Location, Location.id == Bin.location_id)
                .where(Item.code.in_(items), Location.code.in_(locations))
                .group_by(Item.code, Location.code)
            )
            for item, location, count in serials:
                on_hand[(str(item), str(location))] += Decimal(int(count))
        costs = await self.session.execute(
            select(Item.code, Location.code, ItemLocationCost.average_cost)
            .join(Item, Item.id == ItemLocationCost.item_id)
            .join(Location, Location.id == ItemLocationCost.location_id)
            .where(Item.code.in_(items), Location.code.in_(locations))
        )
        average = {(str(i), str(loc)): cost for i, loc, cost in costs}
        if serialized:
            average.update(await self._serialized_averages(items, locations))
        return {
            key: Position(on_hand.get(key, ZERO), average.get(key, ZERO))
            for key in set(on_hand) | set(average)
        }

    async def _serialized_averages(
        self, items: set[str], locations: set[str]
    ) -> dict[tuple[str, str], Decimal]:
        """A serialized item's location cost is the average of its serials on hand
        (server.domain.costing), as in a stock count, not item_location_cost."""
        rows = list(
            await self.session.execute(
                select(Item.id, Item.code, Item.last_cost).where(
                    Item.code.in_(items), Item.tracking == Tracking.SERIAL.value
                )
            )
        )
        codes = {int(i): str(code) for i, code, _ in rows}
        last_costs = {int(i): last for i, _, last in rows}
        averages: dict[tuple[str, str], Decimal] = {}
        if not last_costs:
            return averages
        places = await self.session.execute(
            select(Location.id, Location.code).where(Location.code.in_(locations))
        )
        for loc_id, loc in places:
            at = await serialized_average_costs(self.session, int(loc_id), last_costs)
            averages.update(((codes[i], str(loc)), cost) for i, cost in at.items())
        return averages

    async def _serials(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], SerialFacts]:
        if not keys:
            return {}
        rows = await self.session.execute(
            select(Item.code, Serial.serial_number, Serial.actual_cost, Location.code, Bin.label)
            .join(Item, Item.id == Serial.item_id)
            .outerjoin(Bin, Bin.id == Serial.bin_id)
            .outerjoin(Location, Location.id == Bin.location_id)
            .where(
                Item.code.in_({i for i, _ in keys}),
                Serial.serial_number.in_({s for _, s in keys}),
            )
        )
        return {
            (item, number): SerialFacts(item, number, cost, location, label)
            for item, number, cost, location, label in rows
            if (item, number) in keys
        }

    async def settings(self) -> JournalSettings:
        burden, tax = aliased(GlAccount), aliased(GlAccount)
        row = (
            await self.session.execute(
                select(
                    JournalSettingsTable.serialized_additions_allowed,
                    JournalSettingsTable.wizard_defaults_quantity_billable,
                    burden.code,
                    tax.code,
                )
                .outerjoin(burden, burden.id == JournalSettingsTable.burden_income_account_id)
                .outerjoin(tax, tax.id == JournalSettingsTable.use_tax_liability_account_id)
                .where(JournalSettingsTable.id == 1)
            )
        ).first()
        if row is None:
            return JournalSettings()
        return JournalSettings(bool(row[0]), bool(row[1]), row[2], row[3])
