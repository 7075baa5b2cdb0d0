"""The defaults seed 004 gives each field, applied before validation.

Only fields left `None` are defaulted; what the user entered is kept (validation judges
it). References that are unknown are left alone here and reported by validation.

Where the seed leaves a choice, the choice made and why:
- Period: when none is given, the period whose date range holds the effective date. The
  seed asks for a period whenever GL accounts are given, and transfers default their GL
  accounts, so a finance user would otherwise have to pick the obvious period each time.
- GL accounts of an Adjustment: with no To side there is nothing to balance the From
  side against, and a one-sided entry is refused, so neither side is defaulted (the
  adjustment leaves the GL unchanged, as the seed's second average-cost example). With a
  To side, the From/Adjust side at a location defaults to the inventory group's
  adjustment account (the seed's 50111: "inventory adj, restock or COS") and the To side
  to the inventory asset account (10150); both defaulting to the asset account would
  post nothing while the stock value changes.
- A serialized item added on the To line (`adds_on_to_line`): the From/Adjust side names
  no place, so its GL defaults as if it were at the To side's location, to the same
  accounts and entity as the equivalent From/Adjust form.
- Unit cost: the From side's location cost, else the To side's (Job-to-Loc), else the
  item's last cost; the last cost also when the location's cost is zero (the seed).
- Billing on a job side: defaults follow the line's Billing Rate (as entered, else from
  the item's Use Unit Prices flag), so a user who switches an item to markup gets a
  markup price. A job without a price level, or a level without the item, prices at 0.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from server.domain.journal.facts import JournalFacts
from server.domain.journal.model import (
    SIDE_RULES,
    BillingRate,
    JobBilling,
    JournalLine,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    SideKind,
    TransactionType,
    adds_on_to_line,
)
from server.domain.money import ZERO, extend, round_cost

HUNDRED = Decimal(100)
JOB_TRANSFERS = frozenset(
    {TransactionType.LOC_TO_JOB, TransactionType.JOB_TO_JOB, TransactionType.JOB_TO_LOC}
)


def apply_defaults(transaction: JournalTransaction, facts: JournalFacts) -> JournalTransaction:
    period = transaction.period
    if period is None:
        period = _period_of(transaction, facts)
    lines = tuple(_line(transaction, line, facts) for line in transaction.lines)
    return replace(transaction, period=period, lines=lines)


def _period_of(transaction: JournalTransaction, facts: JournalFacts) -> str | None:
    holding = [
        p.code for p in facts.periods.values() if p.starts <= transaction.effective_date <= p.ends
    ]
    return holding[0] if len(holding) == 1 else None


def side_kind(transaction_type: TransactionType, side: JournalSide, to: bool) -> SideKind | None:
    """The place a side is at: the type's rule for transfers, else what it holds."""
    rule = SIDE_RULES[transaction_type][1 if to else 0]
    return rule if rule is not None else side.kind


def job_sides(transaction_type: TransactionType, line: JournalLine) -> tuple[str, ...]:
    """The sides of a line that write job history: the job sides of a transfer, and the
    From/Adjust side of an adjustment at a job (an adjustment's To side only carries GL)."""
    found = _TRANSFER_JOB_SIDES.get(transaction_type)
    if found is None:  # an adjustment: its From/Adjust side, by what it holds
        return _FROM_SIDE if line.from_side.kind is SideKind.JOB else ()
    return found[line.to_side is not None]


def _transfer_job_sides(
    rules: tuple[SideKind | None, SideKind | None],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A transfer type's job sides: of a line without a To side, and of one with it."""
    without_to = ("from_side",) if rules[0] is SideKind.JOB else ()
    return without_to, without_to + (("to_side",) if rules[1] is SideKind.JOB else ())


_FROM_SIDE = ("from_side",)
# A transfer's job sides follow from its type (`SIDE_RULES`), by whether the line has a
# To side: `job_sides` is asked some four times a line.
_TRANSFER_JOB_SIDES: dict[TransactionType, tuple[tuple[str, ...], tuple[str, ...]]] = {
    t: _transfer_job_sides(rules) for t, rules in SIDE_RULES.items() if t.is_transfer
}


def _line(transaction: JournalTransaction, line: JournalLine, facts: JournalFacts) -> JournalLine:
    """The line with its defaults, each side and the line built once (the defaults read
    the line as defaulted so far: unit cost, then burden, then GL and billing)."""
    item = facts.items.get(line.item)
    tx_type = transaction.transaction_type
    from_side = _work_order_defaults(line.from_side, facts)
    to_side = _work_order_defaults(line.to_side, facts) if line.to_side else None
    from_side = _serial_bin(line, from_side, facts)
    if from_side is not line.from_side or to_side is not line.to_side:
        line = line.with_sides(from_side, to_side)
    uom = item.uom if line.uom is None and item is not None else line.uom
    unit_cost = line.unit_cost if line.unit_cost is not None else _unit_cost(line, facts)
    burden = line.burden_unit_cost
    if burden is None:
        burden = _burden(tx_type, line, unit_cost, facts)
    if (uom, unit_cost, burden) != (line.uom, line.unit_cost, line.burden_unit_cost):
        line = line.with_costs(uom, unit_cost, burden)
    billed = job_sides(tx_type, line)
    from_side = _side_defaults(tx_type, line, line.from_side, False, "from_side" in billed, facts)
    to_side = line.to_side
    if to_side is not None:
        to_side = _side_defaults(tx_type, line, to_side, True, "to_side" in billed, facts)
    return line.with_sides(from_side, to_side)


def _side_defaults(
    transaction_type: TransactionType,
    line: JournalLine,
    side: JournalSide,
    to: bool,
    billed: bool,
    facts: JournalFacts,
) -> JournalSide:
    """A side with its GL defaults and, on a side that writes job history, its billing."""
    account, entity = _gl_defaults(transaction_type, line, side, to, facts)
    billing = _billing_defaults(line, side, facts) if billed else None
    return side.with_gl(account, entity, billing)


def _work_order_defaults(side: JournalSide, facts: JournalFacts) -> JournalSide:
    """The job fields of a side default from its work order's header."""
    if not side.work_order:
        return side
    order = facts.work_orders.get(side.work_order)
    if order is None:
        return side
    return replace(
        side,
        job=side.job or order.job,
        equipment=side.equipment or order.equipment,
        cost_code=side.cost_code or order.cost_code,
        cost_category=side.cost_category or order.cost_category,
    )


def _serial_bin(line: JournalLine, side: JournalSide, facts: JournalFacts) -> JournalSide:
    """A serial leaving a location leaves the bin it is in."""
    if not line.serial or not side.location or side.bin is not None:
        return side
    known = facts.serials.get((line.item, line.serial))
    if known is None or known.location != side.location:
        return side
    return replace(side, bin=known.bin)


def _unit_cost(line: JournalLine, facts: JournalFacts) -> Decimal | None:
    if line.serial:
        known = facts.serials.get((line.item, line.serial))
        if known is not None:
            return known.actual_cost  # a serial always moves at its actual cost
    item = facts.items.get(line.item)
    if item is None:
        return None
    for side in (line.from_side, line.to_side):
        if side is not None and side.location:
            position = facts.positions.get((line.item, side.location))
            if position is not None and position.average_cost != ZERO:
                return position.average_cost
            break
    return item.last_cost


def burden_unit_cost(
    transaction_type: TransactionType, line: JournalLine, facts: JournalFacts
) -> Decimal:
    """Burden per unit on a job transfer: the item's burden rate, plus the location's when
    the item's inventory group applies location burden; a percent of the unit cost."""
    return _burden(transaction_type, line, line.unit_cost, facts)


def _burden(
    transaction_type: TransactionType,
    line: JournalLine,
    unit_cost: Decimal | None,
    facts: JournalFacts,
) -> Decimal:
    """`burden_unit_cost` of the line at `unit_cost` (the line's, or its default)."""
    if transaction_type not in JOB_TRANSFERS or unit_cost is None:
        return ZERO
    item = facts.items.get(line.item)
    if item is None:
        return ZERO
    rate = item.burden_rate
    group = facts.group_of(line.item)
    if group is not None and group.apply_location_burden:
        for side in (line.from_side, line.to_side):
            if side is not None and side.location in facts.locations:
                rate += facts.locations[side.location].burden_rate
    return round_cost(unit_cost * rate / HUNDRED)


def _gl_defaults(
    transaction_type: TransactionType,
    line: JournalLine,
    side: JournalSide,
    to: bool,
    facts: JournalFacts,
) -> tuple[str | None, str | None]:
    """A side's GL account and entity: as entered, else the default."""
    kind = side_kind(transaction_type, side, to)
    place = side
    if not to and line.to_side is not None and adds_on_to_line(transaction_type, line):
        # The From/Adjust side of a serialized item added on the To line defaults as the
        # From/Adjust side at the To side's location would: the adjustment account.
        kind, place = SideKind.LOCATION, replace(side, location=line.to_side.location)
    account = side.gl_account
    if account is None:
        account = _default_account(transaction_type, line, place, kind, to, facts)
    entity = side.gl_entity
    if entity is None:
        entity = _default_entity(line, place, kind, facts)
    return account, entity


def _default_account(
    transaction_type: TransactionType,
    line: JournalLine,
    side: JournalSide,
    kind: SideKind | None,
    to: bool,
    facts: JournalFacts,
) -> str | None:
    adjustment = transaction_type is TransactionType.ADJUSTMENT
    if adjustment and line.to_side is None:
        return None  # nothing to balance against: the adjustment posts no GL
    if kind is SideKind.JOB:
        category = facts.cost_categories.get(side.cost_category)
        return category.expense_account if category else None
    if kind is SideKind.LOCATION:
        group = facts.group_of(line.item)
        if group is None:
            return None
        if adjustment and not to:
            return group.adjustment_account
        return group.inventory_account
    return None


def _default_entity(
    line: JournalLine, side: JournalSide, kind: SideKind | None, facts: JournalFacts
) -> str | None:
    if kind is SideKind.JOB:
        code = facts.cost_codes.get((side.job, side.cost_code))
        return code.gl_entity if code else None
    if kind is SideKind.LOCATION:
        place = facts.locations.get(side.location)
        if place is not None and place.gl_entity:
            return place.gl_entity
        group = facts.group_of(line.item)
        return group.gl_entity if group else None
    return None


def _billing_defaults(
    line: JournalLine, side: JournalSide, facts: JournalFacts
) -> JobBilling | None:
    """A job side's billing with its defaults; None: left as it is (unknown item or job)."""
    item = facts.items.get(line.item)
    job = facts.jobs.get(side.job)
    billing = side.billing
    if item is None or job is None:
        return None
    rate = billing.billing_rate
    if rate is None:
        rate = BillingRate.UNIT_PRICE if item.use_unit_prices else BillingRate.MARKUP
    revenue_rate = billing.revenue_rate
    unit_price = billing.unit_price
    if rate is BillingRate.UNIT_PRICE:
        level = facts.price_levels.get(job.price_level or "", {})
        price = level.get(line.item, ZERO)
        if revenue_rate is None:
            revenue_rate = price
        if unit_price is None:
            unit_price = price
    else:
        if revenue_rate is None:
            revenue_rate = facts.rate_schedules.get(job.rate_schedule or "", ZERO)
        if unit_price is None:
            cost = line.unit_cost if line.unit_cost is not None else ZERO
            unit_price = round_cost(cost * (1 + revenue_rate / HUNDRED))
    quantity_billable = billing.quantity_billable
    if quantity_billable is None:
        from_quantity = (
            line.origin is LineOrigin.MANUAL or facts.settings.wizard_defaults_quantity_billable
        )
        quantity_billable = line.quantity if from_quantity else ZERO
    amount_revenue = billing.amount_revenue
    if amount_revenue is None:
        earns = billing.extra or not job.billing_type.bills_extras_only
        amount_revenue = extend(quantity_billable, unit_price) if earns else ZERO
    use_tax_rate = billing.use_tax_rate
    if use_tax_rate is None:
        use_tax_rate = job.use_tax_rate
    return JobBilling(
        quantity_billable=quantity_billable,
        extra=billing.extra,
        billing_rate=rate,
        revenue_rate=revenue_rate,
        unit_price=unit_price,
        amount_revenue=amount_revenue,
        use_tax_rate=use_tax_rate,
    )
