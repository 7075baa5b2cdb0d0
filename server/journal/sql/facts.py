"""Reads the master data and stock a journal transaction refers to, as `JournalFacts`.

One query per kind for the whole transaction, never per line: the codes the transaction
names are collected first (work orders before jobs, since a work order names its job),
then each kind is read with `IN` on those codes. Small tables the checks need whole (GL
entities with their companies, companies' intercompany flag, accounting periods) are
read whole. The GL accounts known to the rules are those the transaction names that
exist, plus every default account the loaded master data points at. On SQLite the
master-data rows of the last saves are kept while the database's master-data version
stays the same (server.journal.sql.kept): a save then reads only its stock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from server.db.costing import serialized_average_costs
from server.db.direct import connection, fetchall, sqlite_snapshot_engine
from server.db.ids import known_ids
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
from server.journal.sql.kept import VERSION, KeptRows, kept_rows
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


class _SideCodes:
    """The codes a transaction's sides name, by field, in one pass over its sides."""

    __slots__ = ("accounts", "bins", "categories", "equipment", "jobs", "locations", "work_orders")

    def __init__(self, transaction: JournalTransaction) -> None:
        self.locations: set[str] = set()
        self.bins: set[str] = set()
        self.accounts: set[str] = set()
        self.jobs: set[str] = set()
        self.categories: set[str] = set()
        self.work_orders: set[str] = set()
        self.equipment: set[str] = set()
        for line in transaction.lines:
            for side in (line.from_side, line.to_side):
                if side is None:
                    continue
                if side.location:
                    self.locations.add(side.location)
                if side.bin:
                    self.bins.add(side.bin)
                if side.gl_account:
                    self.accounts.add(side.gl_account)
                if side.job:
                    self.jobs.add(side.job)
                if side.cost_category:
                    self.categories.add(side.cost_category)
                if side.work_order:
                    self.work_orders.add(side.work_order)
                if side.equipment:
                    self.equipment.add(side.equipment)


class SqlJournalFacts:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def load(self, transaction: JournalTransaction) -> JournalFacts:
        named = _SideCodes(transaction)
        item_codes = codes_of(line.item for line in transaction.lines)
        location_codes = named.locations
        orders = await self._work_orders(named.work_orders)
        job_codes = named.jobs | {o.job for o in orders.values()}
        category_codes = named.categories | codes_of(o.cost_category for o in orders.values())
        serials = await self._serials(
            {(line.item, line.serial) for line in transaction.lines if line.serial}
        )
        # A serial leaving a location leaves the bin it is in (a default): its bin too.
        labels = named.bins | codes_of(s.bin for s in serials.values())
        by_kind = await self._facts_rows(
            items=list(item_codes), locations=list(location_codes), labels=list(labels)
        )
        items, groups = self._items(by_kind["i"])
        locations, bins = self._locations(by_kind["l"])
        settings, entities, intercompany, periods = self._small_tables(
            by_kind["s"], by_kind["e"], by_kind["r"]
        )
        jobs = await self._jobs(job_codes)
        categories = await self._categories(category_codes)
        named_accounts = named.accounts
        default_accounts = codes_of(
            [g.inventory_account for g in groups.values()]
            + [g.adjustment_account for g in groups.values()]
            + [c.expense_account for c in categories.values()]
            + [settings.burden_income_account, settings.use_tax_liability_account]
        )
        return JournalFacts(
            items=items,
            inventory_groups=groups,
            locations=locations,
            bins=bins,
            jobs=jobs,
            cost_codes=await self._cost_codes(set(jobs)),
            cost_categories=categories,
            work_orders=orders,
            equipment=await self._existing(
                Equipment.code,
                Equipment.id,
                named.equipment | codes_of(o.equipment for o in orders.values()),
            ),
            gl_accounts=await self._existing(GlAccount.code, GlAccount.id, named_accounts)
            | default_accounts,
            gl_entities=entities,
            intercompany=intercompany,
            periods=periods,
            price_levels=await self._price_levels(
                codes_of(j.price_level for j in jobs.values()), item_codes
            ),
            rate_schedules=await self._rate_schedules(
                codes_of(j.rate_schedule for j in jobs.values())
            ),
            positions=await self._positions(
                by_kind["q"],
                item_codes,
                location_codes,
                any(i.tracking is Tracking.SERIAL for i in items.values()),
            ),
            serials=serials,
            settings=settings,
        )

    async def _facts_rows(self, **params: Any) -> dict[str, list[Any]]:
        """The rows of each kind of _FACTS, each as its kind's own columns: on SQLite
        one statement a kind (the small tables' three kinds one), the master-data kinds
        only when their rows for these codes are not kept (server.journal.sql.kept);
        elsewhere the union in one round trip, cut apart here."""
        conn = await connection(self.session)
        by_kind: dict[str, list[Any]] = defaultdict(list)
        if conn.dialect.name == "sqlite":
            kept = await _kept(conn)
            by_kind["q"] = await fetchall(conn, _FACTS_ALONE["q"], params)
            items = kept.item_rows(params["items"])
            if items is None:
                items = await fetchall(conn, _FACTS_ALONE["i"], params)
                kept.keep_items(items)
            places = kept.location_rows(params["locations"], params["labels"])
            if places is None:
                places = await fetchall(conn, _FACTS_ALONE["l"], params)
                kept.keep_locations(places, params["labels"])
            if kept.small is None:
                kept.small = await fetchall(conn, _SMALL_TABLES, {})
            small = kept.small
            by_kind["i"], by_kind["l"] = items, places
            for row in small:
                by_kind[row[0]].append(row[1:])
            return by_kind
        for row in await fetchall(conn, _FACTS, params):
            by_kind[row[0]].append(row[_SLICES[_BRANCHES[row[0]][0]]])
        return by_kind

    async def _rows(self, statement: Any, **params: Any) -> list[Any]:
        """A module-level statement (compiled once per engine, then reused) on the
        session's connection: no ORM step between the statement and its rows (on SQLite
        sent to the driver itself, server.db.direct)."""
        return await fetchall(await connection(self.session), statement, params)

    async def _existing(
        self, column: InstrumentedAttribute[str], id_: InstrumentedAttribute[int], codes: set[str]
    ) -> frozenset[str]:
        if not codes:
            return frozenset()
        rows = await self.session.execute(select(column, id_).where(column.in_(codes)))
        known = known_ids(self.session).of(column.class_.__tablename__)
        found = set()
        for code, id_value in rows:
            known[str(code)] = int(id_value)
            found.add(str(code))
        return frozenset(found)

    def _items(
        self, rows: list[Any]
    ) -> tuple[dict[str, ItemFacts], dict[str, InventoryGroupFacts]]:
        """The items with their inventory groups (rows i of _FACTS); their ids are kept."""
        items: dict[str, ItemFacts] = {}
        groups: dict[str, InventoryGroupFacts] = {}
        known = known_ids(self.session)
        accounts = known.of("gl_account")
        for row in rows:
            (item_id, code, tracking, uom, last_cost, group, unit_prices, burden,
             asset_id, asset, adjustment_id, adjustment, entity, apply) = row  # fmt: skip
            items[code] = ItemFacts(
                code,
                Tracking(tracking),
                uom,
                last_cost,
                group,
                bool(unit_prices),
                burden if burden is not None else ZERO,
            )
            known.items[code] = int(item_id)
            known.tracking[code] = Tracking(tracking)
            if group is not None and group not in groups:  # a row per item of the group
                groups[group] = InventoryGroupFacts(group, asset, adjustment, entity, bool(apply))
            for account, account_id in ((asset, asset_id), (adjustment, adjustment_id)):
                if account is not None:
                    accounts[str(account)] = int(account_id)
        return items, groups

    def _locations(
        self, rows: list[Any]
    ) -> tuple[dict[str, LocationFacts], frozenset[tuple[str, str]]]:
        """The locations and those of their bins with the labels asked (rows l of
        _FACTS); their ids are kept."""
        locations: dict[str, LocationFacts] = {}
        bins: set[tuple[str, str]] = set()
        known = known_ids(self.session)
        for row in rows:
            location_id, code, company, entity, burden, bin_id, label = row
            if code not in locations:  # a row per bin asked for
                locations[code] = LocationFacts(
                    code, company, entity, burden if burden is not None else ZERO
                )
                known.locations[code] = int(location_id)
            if label is not None:
                bins.add((str(code), str(label)))
                known.bins[(str(code), str(label))] = int(bin_id)
        return locations, frozenset(bins)

    async def _work_orders(self, codes: set[str]) -> dict[str, WorkOrderFacts]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(
                WorkOrder.code, Job.code, Equipment.code, CostCode.code, CostCategory.code,
                WorkOrder.id,
            )
            .join(Job, Job.id == WorkOrder.job_id)
            .outerjoin(Equipment, Equipment.id == WorkOrder.equipment_id)
            .outerjoin(CostCode, CostCode.id == WorkOrder.cost_code_id)
            .outerjoin(CostCategory, CostCategory.id == WorkOrder.cost_category_id)
            .where(WorkOrder.code.in_(codes))
        )  # fmt: skip
        known = known_ids(self.session).of("work_order")
        found = {}
        for code, job, equipment, cost_code, category, order_id in rows:
            found[code] = WorkOrderFacts(
                code, job, equipment or "", cost_code or "", category or ""
            )
            known[str(code)] = int(order_id)
        return found

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
                Job.id,
            )
            .join(Company, Company.id == Job.company_id)
            .outerjoin(PriceLevel, PriceLevel.id == Job.price_level_id)
            .outerjoin(RateSchedule, RateSchedule.id == Job.rate_schedule_id)
            .where(Job.code.in_(codes))
        )
        known = known_ids(self.session).of("job")
        found = {}
        for code, company, billing, level, schedule, closed, tax, job_id in rows:
            found[code] = JobFacts(
                code, company, JobBillingType(billing), level, schedule, closed, tax
            )
            known[str(code)] = int(job_id)
        return found

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
            select(
                CostCategory.code,
                CostCategory.selection_cost_type,
                GlAccount.code,
                CostCategory.id,
                GlAccount.id,
            )
            .outerjoin(GlAccount, GlAccount.id == CostCategory.expense_account_id)
            .where(CostCategory.code.in_(codes))
        )
        known = known_ids(self.session)
        found = {}
        for code, kind, account, category_id, account_id in rows:
            found[code] = CostCategoryFacts(code, SelectionCostType(kind), account)
            known.of("cost_category")[str(code)] = int(category_id)
            if account is not None:
                known.of("gl_account")[str(account)] = int(account_id)
        return found

    def _small_tables(
        self, settings_rows: list[Any], entity_rows: list[Any], period_rows: list[Any]
    ) -> tuple[JournalSettings, dict[str, str], dict[str, bool], dict[str, PeriodFacts]]:
        """The small tables the checks need whole (rows s, e, r of _FACTS): the settings,
        the GL entities with their companies (and the companies' intercompany flag), the
        accounting periods. Their ids are kept."""
        settings = JournalSettings()
        entities: dict[str, str] = {}
        intercompany: dict[str, bool] = {}
        periods: dict[str, PeriodFacts] = {}
        known = known_ids(self.session)
        for row in settings_rows:  # the burden and use tax accounts, two flags
            burden, tax, additions, billable, _, _, burden_id, tax_id = row
            settings = JournalSettings(bool(additions), bool(billable), burden, tax)
            for account, account_id in ((burden, burden_id), (tax, tax_id)):
                if account is not None:
                    known.of("gl_account")[str(account)] = int(account_id)
        for row in entity_rows:  # a company and one of its entities
            company, entity, on, _, _, _, entity_id, _ = row
            intercompany[str(company)] = bool(on)
            if entity is not None:
                entities[str(entity)] = str(company)
                known.of("gl_entity")[str(entity)] = int(entity_id)
                known.entity_companies[str(entity)] = str(company)
        for row in period_rows:
            code, _, closed, _, starts, ends, period_id, _ = row
            periods[code] = PeriodFacts(code, starts, ends, bool(closed))
            known.of("accounting_period")[str(code)] = int(period_id)
        return settings, entities, intercompany, periods

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
        self, rows: list[Any], items: set[str], locations: set[str], serialized: bool = True
    ) -> dict[tuple[str, str], Position]:
        """On hand (balances plus serials in stock) and average cost per item and location:
        balances and costs from rows q of _FACTS, serials counted only when there are
        serialized items."""
        if not items or not locations:
            return {}
        on_hand: dict[tuple[str, str], Decimal] = {}
        average: dict[tuple[str, str], Decimal] = {}
        for row in rows:
            item, location, total, cost = row
            key = (str(item), str(location))
            if total is not None:
                on_hand[key] = total  # SUM keeps the scaled type
            if cost is not None:
                average[key] = cost
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
                key = (str(item), str(location))
                on_hand[key] = on_hand.get(key, ZERO) + Decimal(int(count))
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
        rows = await self._rows(_SETTINGS)
        if not rows:
            return JournalSettings()
        additions, billable, burden, tax, burden_id, tax_id = rows[0]
        accounts = known_ids(self.session).of("gl_account")
        for account, account_id in ((burden, burden_id), (tax, tax_id)):
            if account is not None:
                accounts[str(account)] = int(account_id)
        return JournalSettings(bool(additions), bool(billable), burden, tax)


async def _kept(conn: Any) -> KeptRows:
    """The master-data rows kept for this SQLite database at its version, read in this
    save's transaction (server.journal.sql.kept); outside an open SQLite transaction, or
    with no version row, an empty one of this save's own (what it keeps is dropped)."""
    engine = sqlite_snapshot_engine(conn)
    found = await fetchall(conn, VERSION, {}) if engine is not None else []
    if engine is None or not found:
        return KeptRows(None)
    return kept_rows(engine, int(found[0][0]))


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


def _none(type_: Any) -> Any:
    return cast(null(), type_)


# The statements of a save's facts, built once: each execution reuses its compiled form
# (the IN lists are expanding parameters) instead of building and compiling it again.
_burden, _tax = aliased(GlAccount), aliased(GlAccount)
# A save's facts, six kinds of rows. On PostgreSQL in one round trip: one UNION ALL whose
# rows say what they are (their first column) and carry their own columns in their own
# segment, typed NULLs elsewhere (so every branch has the same columns, typed by the
# first); on SQLite each kind alone (below):
# - i: an item with its inventory group (accounts, entity, burden flag) and its id;
# - l: a location (company, entity, burden rate) with each of its bins of the labels;
# - s, e, r: the small tables the checks need whole: the settings, the companies with
#   their GL entities, the accounting periods;
# - q: every (item, location) of the codes with its stock (the balances' sum, by the
#   item's index) and its average cost.
_asset, _adjustment = aliased(GlAccount), aliased(GlAccount)
# The item's balances first (the (item, bin, lot) key's index), each one's bin's location
# by its primary key: a handful of rows an item, whatever the location's size. Written as
# a join of balance and bin, PostgreSQL without statistics (a database just imported,
# before autovacuum) walked every bin of the location and probed its balances, for each
# item: 1,000 probes a save of ten lines at 100 bins a location (2.6 ms of its facts).
_bin_location = select(Bin.location_id).where(Bin.id == StockBalance.bin_id).scalar_subquery()
_on_hand = (
    select(func.sum(StockBalance.quantity))
    .where(StockBalance.item_id == Item.id, _bin_location == Location.id)
    .scalar_subquery()
)
_ITEM_COLUMNS = (
    Item.id,
    Item.code,
    Item.tracking,
    Item.uom,
    Item.last_cost,
    InventoryGroup.code,
    ItemJournal.use_unit_prices,
    ItemJournal.burden_rate,
    _asset.id,
    _asset.code,
    _adjustment.id,
    _adjustment.code,
    GlEntity.code,
    InventoryGroupJournal.apply_location_burden,
)
_LOCATION_COLUMNS = (
    Location.id,
    Location.code,
    Company.code,
    GlEntity.code,
    LocationJournal.burden_rate,
    Bin.id,
    Bin.label,
)
# Shared by s, e and r: text, text, flag, flag, date, date, id, id.
_SMALL_COLUMNS = (
    _burden.code,
    _tax.code,
    JournalSettingsTable.serialized_additions_allowed,
    JournalSettingsTable.wizard_defaults_quantity_billable,
    AccountingPeriod.starts,
    AccountingPeriod.ends,
    _burden.id,
    _tax.id,
)
_POSITION_COLUMNS = (Item.code, Location.code, _on_hand, ItemLocationCost.average_cost)
_SEGMENTS = {
    "i": _ITEM_COLUMNS,
    "l": _LOCATION_COLUMNS,
    "s": _SMALL_COLUMNS,
    "q": _POSITION_COLUMNS,
}
_SLICES: dict[str, slice] = {}
_start = 1
for _kind, _columns in _SEGMENTS.items():
    _SLICES[_kind] = slice(_start, _start + len(_columns))
    _start += len(_columns)


def _padded(kind: str, segment: str, columns: Sequence[Any]) -> list[Any]:
    """The branch's columns in its segment, typed NULLs in the others; labelled c<n> so
    that no two columns of a branch share a name."""
    out: list[Any] = [literal_column(f"'{kind}'").label("kind")]
    for name, typed in _SEGMENTS.items():
        if name == segment:
            assert len(columns) == len(typed)
            out += columns
        else:
            out += [_none(c.type) for c in typed]
    return [c.label(f"c{n}") for n, c in enumerate(out)]


def _items_of(columns: Sequence[Any]) -> Any:
    return (
        select(*columns)
        .select_from(Item)
        .outerjoin(InventoryGroup, InventoryGroup.id == Item.inventory_group_id)
        .outerjoin(ItemJournal, ItemJournal.item_id == Item.id)
        .outerjoin(_asset, _asset.id == InventoryGroup.inventory_account_id)
        .outerjoin(_adjustment, _adjustment.id == InventoryGroup.adjustment_account_id)
        .outerjoin(GlEntity, GlEntity.id == InventoryGroup.gl_entity_id)
        .outerjoin(
            InventoryGroupJournal, InventoryGroupJournal.inventory_group_id == InventoryGroup.id
        )
        .where(Item.code.in_(_in("items")))
    )


def _locations_of(columns: Sequence[Any]) -> Any:
    return (
        select(*columns)
        .select_from(Location)
        .join(Company, Company.id == Location.company_id)
        .outerjoin(GlEntity, GlEntity.id == Location.gl_entity_id)
        .outerjoin(LocationJournal, LocationJournal.location_id == Location.id)
        .outerjoin(Bin, and_(Bin.location_id == Location.id, Bin.label.in_(_in("labels"))))
        .where(Location.code.in_(_in("locations")))
    )


def _settings_of(columns: Sequence[Any]) -> Any:
    return (
        select(*columns)
        .select_from(JournalSettingsTable)
        .outerjoin(_burden, _burden.id == JournalSettingsTable.burden_income_account_id)
        .outerjoin(_tax, _tax.id == JournalSettingsTable.use_tax_liability_account_id)
        .where(JournalSettingsTable.id == 1)
    )


def _entities_of(columns: Sequence[Any]) -> Any:
    return (
        select(*columns).select_from(Company).outerjoin(GlEntity, GlEntity.company_id == Company.id)
    )


def _periods_of(columns: Sequence[Any]) -> Any:
    return select(*columns).select_from(AccountingPeriod)


def _positions_of(columns: Sequence[Any]) -> Any:
    return (
        select(*columns)
        .select_from(Item)
        .join(Location, true())
        .outerjoin(
            ItemLocationCost,
            and_(ItemLocationCost.item_id == Item.id, ItemLocationCost.location_id == Location.id),
        )
        .where(Item.code.in_(_in("items")), Location.code.in_(_in("locations")))
    )


# The settings alone (the settings page and the wizards).
_SETTINGS = _settings_of(
    (
        JournalSettingsTable.serialized_additions_allowed,
        JournalSettingsTable.wizard_defaults_quantity_billable,
        _burden.code,
        _tax.code,
        _burden.id,
        _tax.id,
    )
)


# kind -> (its segment, its columns, its statement for those columns)
_BRANCHES: dict[str, tuple[str, Sequence[Any], Any]] = {
    "i": ("i", _ITEM_COLUMNS, _items_of),
    "l": ("l", _LOCATION_COLUMNS, _locations_of),
    "s": ("s", (*_SMALL_COLUMNS[:4], _none(Date), _none(Date), *_SMALL_COLUMNS[6:]), _settings_of),
    "e": (
        "s",
        (
            Company.code,
            GlEntity.code,
            Company.intercompany,
            _none(Boolean),
            _none(Date),
            _none(Date),
            GlEntity.id,
            _none(BigInteger),
        ),
        _entities_of,
    ),
    "r": (
        "s",
        (
            AccountingPeriod.code,
            _none(String),
            AccountingPeriod.closed,
            _none(Boolean),
            AccountingPeriod.starts,
            AccountingPeriod.ends,
            AccountingPeriod.id,
            _none(BigInteger),
        ),
        _periods_of,
    ),
    "q": ("q", _POSITION_COLUMNS, _positions_of),
}
# PostgreSQL: one round trip, every kind's rows padded into one UNION ALL.
_FACTS = union_all(
    *(
        build(_padded(kind, segment, columns))
        for kind, (segment, columns, build) in _BRANCHES.items()
    )
)
# SQLite (no round trips: its statements run in place on the connection's thread): each
# kind alone, its own columns only. sqlite3 fetches a row column by column, handing the
# GIL back and forth for each; the union's padding made a save's facts some 1,500 values
# instead of about 400. The three small tables share one segment, so they are one union
# with no padding but their kind (a statement less is some 15 us a save less).
_SMALL_KINDS = ("s", "e", "r")
_FACTS_ALONE: dict[str, Any] = {
    kind: build([c.label(f"c{n}") for n, c in enumerate(columns)])
    for kind, (_, columns, build) in _BRANCHES.items()
    if kind not in _SMALL_KINDS
}
_SMALL_TABLES = union_all(
    *(
        build(
            [
                literal_column(f"'{kind}'").label("kind"),
                *(c.label(f"c{n}") for n, c in enumerate(columns)),
            ]
        )
        for kind, (_, columns, build) in _BRANCHES.items()
        if kind in _SMALL_KINDS
    )
)
