"""Seed 004's validation of a journal transaction, after its defaults are applied.

`validate` collects every problem of the transaction and raises one `ValidationFailed`
naming each field (`lines/2/to_side/cost_category`), or returns the warnings that do not
stop a save (an effective date after a job's date closed).

Choices where the seed leaves room, and why:
- Transfers take positive quantities (the seed: "enter the quantity (as a positive
  number)"); a transfer the other way is the opposite transaction type. So a serialized
  transfer moves exactly 1, and an adjustment +1 or -1.
- The serial on hand at the From location is checked for Loc-to-Loc and Loc-to-Job, as the
  seed says, and also for an adjustment of -1 at a location: a serial that is not there
  cannot be removed from there. Not for jobs ("it does not test for its presence in the To
  Job or the From Job").
- "Serialized items can be added if enabled via registry": an adjustment of +1 at a
  location creates a serial in stock and needs the setting; moving and removing serials
  does not. A serial that is in stock already cannot be added again.
- Two forms add a serialized item. The From/Adjust form: +1 with the location on the
  From/Adjust line (and a To line for the GL debit). The seed's To-line form ("with the
  Location on the 'To' line completed", `adds_on_to_line`): the location and bin on the
  To line, the From/Adjust line blank but for its GL account and entity. The To-line form
  only adds (+1) a serialized item: other adjustments, and removing a serial, are made on
  the From/Adjust line, as the seed says of that line. With intercompany on, the To line
  of this form needs its GL entity (the seed), even when no GL account is given.
- Work orders: the seed lists the field for Loc-to-Job, Job-to-Job and Job-to-Loc only.
- A location side that moves stock (any side of a transfer, the From/Adjust side of an
  adjustment, the To side of the To-line form) names its bin: stock is kept per bin and a
  location has no default bin, so guessing one would put stock where nobody counts it. A
  serial leaving a location defaults to its own bin. Otherwise an adjustment's To side
  only carries GL and needs none.
- Closed periods are refused: a finance user never wants postings in a closed period.
- When a line posts GL, its burden and use tax post too, so the settings must name the
  burden income and use tax liability accounts; otherwise job history and GL would differ.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.journal.defaults import job_sides, side_kind
from server.domain.journal.facts import JOURNAL_COST_TYPES, JournalFacts
from server.domain.journal.model import (
    SIDE_RULES,
    JournalLine,
    JournalSide,
    JournalTransaction,
    JournalWarning,
    LineOrigin,
    SideKind,
    TransactionType,
    adds_on_to_line,
)
from server.domain.masterdata import Tracking
from server.domain.money import ZERO, check_cost, check_quantity, round_value

DESCRIPTION_MAX = 200
WORK_ORDER_TYPES = frozenset(
    {TransactionType.LOC_TO_JOB, TransactionType.JOB_TO_JOB, TransactionType.JOB_TO_LOC}
)
SERIAL_CHECKED_TYPES = frozenset({TransactionType.LOC_TO_LOC, TransactionType.LOC_TO_JOB})
_TYPE_NAMES = {
    TransactionType.LOC_TO_LOC: "Loc-to-Loc",
    TransactionType.LOC_TO_JOB: "Loc-to-Job",
    TransactionType.JOB_TO_JOB: "Job-to-Job",
    TransactionType.JOB_TO_LOC: "Job-to-Loc",
    TransactionType.ADJUSTMENT: "Adjustment",
}


class _Check:
    def __init__(self, transaction: JournalTransaction, facts: JournalFacts) -> None:
        self.tx = transaction
        self.facts = facts
        self.problems: list[FieldProblem] = []
        self.warnings: list[JournalWarning] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(FieldProblem(where, message))


def check_input(transaction: JournalTransaction) -> None:
    """What only the entered transaction shows: a manual line may not carry the fields
    the system computes (burden unit cost, use tax rate)."""
    problems = []
    for line in transaction.lines:
        if line.origin is not LineOrigin.MANUAL:
            continue
        where = f"lines/{line.line_no}"
        if line.burden_unit_cost is not None:
            problems.append(
                FieldProblem(f"{where}/burden_unit_cost", "display-only: computed by the system")
            )
        for name, side in line.sides():
            if side.billing.use_tax_rate is not None:
                problems.append(
                    FieldProblem(
                        f"{where}/{name}/billing/use_tax_rate",
                        "comes from the job: computed by the system",
                    )
                )
    if transaction.transaction_id is not None:
        problems.append(FieldProblem("transaction_id", "generated when the transaction is saved"))
    if problems:
        raise ValidationFailed("the journal transaction is not valid", problems)


def validate(transaction: JournalTransaction, facts: JournalFacts) -> tuple[JournalWarning, ...]:
    check = _Check(transaction, facts)
    _header(check)
    for line in transaction.lines:
        _line(check, line)
    _serials_into_locations(check)
    if check.problems:
        raise ValidationFailed("the journal transaction is not valid", check.problems)
    return tuple(check.warnings)


def _header(check: _Check) -> None:
    tx, facts = check.tx, check.facts
    if len(tx.description) > DESCRIPTION_MAX:
        check.fail("description", f"is longer than {DESCRIPTION_MAX} characters")
    if not tx.lines:
        check.fail("lines", "a transaction needs at least one line")
    numbers = Counter(line.line_no for line in tx.lines)
    for number, times in sorted(numbers.items()):
        if times > 1:
            check.fail(f"lines/{number}", "line number used more than once")
    if tx.period is None:
        if tx.has_gl:
            check.fail("period", "required when GL accounts are given")
        return
    period = facts.periods.get(tx.period)
    if period is None:
        check.fail("period", f"unknown accounting period {tx.period!r}")
        return
    if not period.starts <= tx.effective_date <= period.ends:
        check.fail(
            "effective_date",
            f"{tx.effective_date} is outside period {period.code} "
            f"({period.starts} to {period.ends})",
        )
    if period.closed:
        check.fail("period", f"period {period.code} is closed")


def _line(check: _Check, line: JournalLine) -> None:
    where = f"lines/{line.line_no}"
    tx_type = check.tx.transaction_type
    item = check.facts.items.get(line.item)
    if item is None:
        check.fail(f"{where}/item", f"unknown item {line.item!r}")
    _quantity_and_cost(check, line, where)
    _sides(check, line, where)
    if item is not None:
        _tracking(check, line, item.tracking, where)
        if adds_on_to_line(tx_type, line):
            _to_line_addition(check, line, item.tracking, where)
    _gl(check, line, where)
    for name in job_sides(tx_type, line):
        _billing(check, getattr(line, name), f"{where}/{name}/billing")


def _to_line_addition(check: _Check, line: JournalLine, tracking: Tracking, where: str) -> None:
    if tracking is not Tracking.SERIAL:
        check.fail(
            f"{where}/from_side",
            "give a location or a job: only a serialized item is added on the To line; "
            f"adjust item {line.item} on the From/Adjust line",
        )
    elif line.quantity < ZERO:
        check.fail(
            f"{where}/quantity",
            "the To line adds a serialized item (+1); remove one with -1 on the From/Adjust line",
        )


def _quantity_and_cost(check: _Check, line: JournalLine, where: str) -> None:
    try:
        check_quantity(line.quantity)
        if line.quantity == ZERO:
            check.fail(f"{where}/quantity", "quantity is zero")
        elif check.tx.transaction_type.is_transfer and line.quantity < ZERO:
            check.fail(
                f"{where}/quantity",
                "a transfer takes a positive quantity: it leaves the From side for the To side",
            )
    except ValueError as exc:
        check.fail(f"{where}/quantity", str(exc))
    if line.unit_cost is None:
        check.fail(f"{where}/unit_cost", "required: no location or item cost to default from")
        return
    try:
        check_cost(line.unit_cost, "unit cost")
        if line.unit_cost < ZERO:
            check.fail(f"{where}/unit_cost", "must not be negative")
        if line.burden_unit_cost is not None:
            check_cost(line.burden_unit_cost, "burden unit cost")
    except ValueError as exc:
        check.fail(f"{where}/unit_cost", str(exc))


def _sides(check: _Check, line: JournalLine, where: str) -> None:
    tx_type = check.tx.transaction_type
    rules = SIDE_RULES[tx_type]
    name = _TYPE_NAMES[tx_type]
    if tx_type.is_transfer and line.to_side is None:
        check.fail(f"{where}/to_side", f"a {name} transfer needs a To side")
    on_to_line = adds_on_to_line(tx_type, line)
    for side_name, side in line.sides():
        at = f"{where}/{side_name}"
        rule = rules[1 if side_name == "to_side" else 0]
        if on_to_line and side_name == "from_side":
            continue  # names no place: it carries the GL account credited
        # Each read once (`side.kind` would read both again).
        job, location = side.has_job_fields, side.has_location_fields
        if tx_type is TransactionType.LOC_TO_LOC and job:
            check.fail(at, "a Loc-to-Loc transfer takes no job data")
            continue
        if location and job:
            check.fail(
                at,
                "location and job fields are exclusive: blank the location, or the job, "
                "cost code, bill item, cost category, work order and equipment",
            )
            continue
        kind = SideKind.JOB if job else SideKind.LOCATION if location else None
        if kind is None:
            check.fail(at, "give a location or a job")
            continue
        if rule is not None and kind is not rule:
            check.fail(at, f"a {name} transfer needs a {rule.value} on this side")
            continue
        if kind is SideKind.LOCATION:
            _location_side(check, side, at)
            moves_stock = tx_type.is_transfer or (side_name == "to_side") == on_to_line
            if moves_stock and side.location and side.bin is None:
                # Stock is kept per bin; a location has no default bin to guess.
                check.fail(f"{at}/bin", "required: stock is kept per bin, name the bin")
        else:
            _job_side(check, side, at)
    if (
        tx_type is TransactionType.LOC_TO_LOC
        and line.to_side is not None
        and (line.from_side.location, line.from_side.bin)
        == (line.to_side.location, line.to_side.bin)
    ):
        check.fail(f"{where}/to_side", "the To side is the From side: nothing moves")


def _location_side(check: _Check, side: JournalSide, at: str) -> None:
    facts = check.facts
    if not side.location:
        check.fail(f"{at}/location", "required with a bin")
    elif side.location not in facts.locations:
        check.fail(f"{at}/location", f"unknown location {side.location!r}")
    elif side.bin is not None and (side.location, side.bin) not in facts.bins:
        check.fail(f"{at}/bin", f"unknown bin {side.bin!r} in location {side.location!r}")


def _job_side(check: _Check, side: JournalSide, at: str) -> None:
    facts, tx = check.facts, check.tx
    if side.work_order:
        order = facts.work_orders.get(side.work_order)
        if tx.transaction_type not in WORK_ORDER_TYPES:
            check.fail(
                f"{at}/work_order", "work orders are for Loc-to-Job, Job-to-Job and Job-to-Loc"
            )
        elif order is None:
            check.fail(f"{at}/work_order", f"unknown work order {side.work_order!r}")
        elif order.job != side.job:
            check.fail(f"{at}/work_order", f"work order {order.code} belongs to job {order.job}")
    if side.equipment and side.equipment not in facts.equipment:
        check.fail(f"{at}/equipment", f"unknown equipment {side.equipment!r}")
    if not side.job:
        check.fail(f"{at}/job", "required")
        return
    job = facts.jobs.get(side.job)
    if job is None:
        check.fail(f"{at}/job", f"unknown job {side.job!r}")
        return
    if job.date_closed is not None and tx.effective_date > job.date_closed:
        check.warnings.append(
            JournalWarning(
                f"{at}/job",
                f"the effective date {tx.effective_date} is after job {job.code}'s "
                f"date closed {job.date_closed}",
            )
        )
    if not side.cost_code:
        check.fail(f"{at}/cost_code", "required")
        cost_code = None
    else:
        cost_code = facts.cost_codes.get((side.job, side.cost_code))
        if cost_code is None:
            check.fail(f"{at}/cost_code", f"job {side.job} has no cost code {side.cost_code!r}")
    if not side.cost_category:
        check.fail(f"{at}/cost_category", "required")
        return
    category = facts.cost_categories.get(side.cost_category)
    if category is None:
        check.fail(f"{at}/cost_category", f"unknown cost category {side.cost_category!r}")
        return
    if category.selection_cost_type not in JOURNAL_COST_TYPES:
        check.fail(
            f"{at}/cost_category",
            f"cost category {category.code} has selection cost type "
            f"{category.selection_cost_type.value}: only Equipment or Material are allowed",
        )
    if (
        cost_code is not None
        and cost_code.allowed_categories
        and category.code not in cost_code.allowed_categories
    ):
        check.fail(
            f"{at}/cost_category",
            f"cost code {cost_code.code}'s usage filter does not allow cost category "
            f"{category.code}",
        )


def _tracking(check: _Check, line: JournalLine, tracking: Tracking, where: str) -> None:
    if tracking is Tracking.SERIAL:
        if not line.serial:
            check.fail(f"{where}/serial", f"required: item {line.item} is serialized")
        if line.lot:
            check.fail(f"{where}/lot", f"item {line.item} is serialized: it has no lots")
    elif tracking is Tracking.LOT:
        if not line.lot:
            check.fail(f"{where}/lot", f"required: item {line.item} is lot-controlled")
        if line.serial:
            check.fail(f"{where}/serial", f"item {line.item} is lot-controlled: no serials")
    else:
        for name, value in (("serial", line.serial), ("lot", line.lot)):
            if value:
                check.fail(f"{where}/{name}", f"item {line.item} is tracked by neither")
    if tracking is Tracking.SERIAL and line.serial:
        _serial(check, line, where)


def _serial(check: _Check, line: JournalLine, where: str) -> None:
    facts, tx_type = check.facts, check.tx.transaction_type
    if abs(line.quantity) != 1:
        check.fail(
            f"{where}/quantity", "for serialized items the only valid quantities are 1 and -1"
        )
        return
    known = facts.serials.get((line.item, line.serial))
    source = line.from_side
    at_location = side_kind(tx_type, source, False) is SideKind.LOCATION
    adjustment = tx_type is TransactionType.ADJUSTMENT
    adding = adjustment and at_location and line.quantity > ZERO
    if adding or (adds_on_to_line(tx_type, line) and line.quantity > ZERO):
        if not facts.settings.serialized_additions_allowed:
            check.fail(
                f"{where}/serial",
                "adding serialized items in the journal is not enabled in the settings",
            )
        elif known is not None and known.location is not None:
            check.fail(
                f"{where}/serial",
                f"serial {line.serial} is already on hand at {known.location}",
            )
        return
    removing = adjustment and at_location and line.quantity < ZERO
    if tx_type in SERIAL_CHECKED_TYPES or removing:
        if known is None or known.location != source.location:
            check.fail(
                f"{where}/serial", f"serial {line.serial} is not on hand at {source.location}"
            )
        elif source.bin is not None and known.bin != source.bin:
            check.fail(
                f"{where}/serial",
                f"serial {line.serial} is in bin {known.bin}, not {source.bin}",
            )
    if (
        tx_type.is_transfer
        and known is not None
        and line.unit_cost is not None
        and line.unit_cost != known.actual_cost
    ):
        check.fail(
            f"{where}/unit_cost",
            f"a serial moves at its actual cost {known.actual_cost}, not {line.unit_cost}",
        )


def _serials_into_locations(check: _Check) -> None:
    """No more than one of a serial from a job into a location."""
    if check.tx.transaction_type is not TransactionType.JOB_TO_LOC:
        return
    seen: Counter[tuple[str, str]] = Counter()
    for line in check.tx.lines:
        if not line.serial:
            continue
        key = (line.item, line.serial)
        seen[key] += 1
        where = f"lines/{line.line_no}/serial"
        if seen[key] == 2:
            check.fail(where, f"serial {line.serial} comes into a location more than once")
        known = check.facts.serials.get(key)
        if known is not None and known.location is not None:
            check.fail(where, f"serial {line.serial} is already on hand at {known.location}")


def _gl(check: _Check, line: JournalLine, where: str) -> None:
    facts = check.facts
    credit = line.from_side.account
    debit = line.to_side.account if line.to_side is not None else None
    if (credit is None) != (debit is None):
        blank = "from_side" if credit is None else "to_side"
        check.fail(
            f"{where}/{blank}/gl_account",
            "one-sided GL entries are not allowed: give both GL accounts or blank both",
        )
    on_to_line = adds_on_to_line(check.tx.transaction_type, line)
    for name, side in line.sides():
        at = f"{where}/{name}"
        account, entity = side.account, side.entity
        if account is not None and account not in facts.gl_accounts:
            check.fail(f"{at}/gl_account", f"unknown GL account {account!r}")
        if entity is not None and entity not in facts.gl_entities:
            check.fail(f"{at}/gl_entity", f"unknown GL entity {entity!r}")
            continue
        # The From/Adjust side of the To-line form is at the To side's location.
        place = line.to_side if on_to_line and line.to_side is not None else side
        company = facts.company_of_side(place.location, place.job)
        if company is None or not facts.intercompany.get(company, False):
            continue
        if entity is None:
            if on_to_line and name == "to_side":
                check.fail(
                    f"{at}/gl_entity",
                    "required on the To line that adds a serialized item: intercompany is enabled",
                )
            elif account is not None:
                check.fail(f"{at}/gl_entity", "required: intercompany is enabled")
        elif facts.gl_entities[entity] != company:
            check.fail(
                f"{at}/gl_entity",
                f"GL entity {entity} belongs to company {facts.gl_entities[entity]}, "
                f"not {company} of this line's {'job' if place.job else 'location'}",
            )
    if credit is None or debit is None:
        return
    settings = check.facts.settings
    sides = job_sides(check.tx.transaction_type, line)
    burden = (line.burden_unit_cost or ZERO) != ZERO
    if sides and burden and not settings.burden_income_account:
        check.fail(
            f"{where}/burden_unit_cost",
            "burden posts to GL: set the burden income account in the journal settings",
        )
    for name in sides:
        job_side: JournalSide = getattr(line, name)
        if (
            job_side.billing.use_tax_rate or ZERO
        ) != ZERO and not settings.use_tax_liability_account:
            check.fail(
                f"{where}/{name}/job",
                "use tax posts to GL: set the use tax liability account in the journal settings",
            )


def _billing(check: _Check, side: JournalSide, at: str) -> None:
    billing = side.billing
    values: tuple[tuple[str, Decimal | None, str], ...] = (
        ("quantity_billable", billing.quantity_billable, "quantity"),
        ("revenue_rate", billing.revenue_rate, "cost"),
        ("unit_price", billing.unit_price, "cost"),
        ("amount_revenue", billing.amount_revenue, "value"),
        ("use_tax_rate", billing.use_tax_rate, "cost"),
    )
    for name, value, scale in values:
        if value is None:
            continue
        try:
            if scale == "quantity":
                check_quantity(value, name)
            elif scale == "cost":
                check_cost(value, name)
            elif value != round_value(value):
                raise ValueError(f"{name} {value} has more than 2 decimal places")
        except ValueError as exc:
            check.fail(f"{at}/{name}", str(exc))
