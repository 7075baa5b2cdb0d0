"""The one posting and costing engine: count finalize and the Inventory Adjustment Journal.

A `PostingDocument` (a QuantityAdjustment, a StockTransfer, a JournalTransaction) is a list
of `PostingLine`s, each with a From/Adjust side and an optional To side, as the journal
of seed 004 has them. `post` turns it into what persistence writes, all or nothing:

- stock movements (inventory history at a location and bin, job history at a job),
- serial effects (moved between bins, left stock, entered stock, generated),
- average costs per item and location, recomputed on every receipt,
- double-entry GL lines, one signed amount each (debit positive, credit negative).

Quantities follow the journal (seed 004):
- TRANSFER: a positive quantity leaves the From side and enters the To side; a negative
  one goes the other way.
- ADJUSTMENT: the stock changes on the From/Adjust side only. At a location a positive
  quantity adds stock. At a job a positive quantity takes costs off the job ("To take
  Inventory costs off (-) a progress Job - enter a POSITIVE quantity and complete the Job
  information on the From/Adjust line"). The To side of an adjustment carries only the GL
  account the seed's average-cost example debits.

GL (seed 004): the line's value is quantity x unit cost rounded half-up to the cent. The
From/Adjust side's account is credited with it and the To side's account debited; a
negative quantity flips both, because a minus credit is a debit. Both accounts blank: no GL.
One blank: refused, one-sided GL entries are not allowed. Both sides on the same account
and entity (a transfer between bins of one GL entity): nothing is posted, value unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from server.domain.errors import Conflict, FieldProblem, ValidationFailed
from server.domain.money import (
    ZERO,
    average_after_receipt,
    check_cost,
    check_quantity,
    extend,
)


class DocumentKind(StrEnum):
    QUANTITY_ADJUSTMENT = "quantity_adjustment"
    STOCK_TRANSFER = "stock_transfer"
    JOURNAL_TRANSACTION = "journal_transaction"


class LineAction(StrEnum):
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"


@dataclass(frozen=True, slots=True)
class LocationSide:
    """A side at a stock location; `bin` None means the location's default place."""

    location: str
    bin: str | None = None
    gl_account: str | None = None
    gl_entity: str | None = None


@dataclass(frozen=True, slots=True)
class JobSide:
    """A side at a job (or a work order of a job)."""

    job: str
    cost_code: str = ""
    cost_category: str = ""
    bill_item: str = ""
    work_order: str = ""
    equipment: str = ""
    gl_account: str | None = None
    gl_entity: str | None = None


Side = LocationSide | JobSide


@dataclass(frozen=True, slots=True)
class ExtraPosting:
    """A further balanced GL pair of a line that stock does not carry (burden, use tax):
    the journal computes the amount, the engine posts it with the line."""

    debit_account: str
    credit_account: str
    amount: Decimal
    debit_entity: str | None = None
    credit_entity: str | None = None


@dataclass(frozen=True, slots=True)
class PostingLine:
    line_no: int
    action: LineAction
    item: str
    quantity: Decimal
    unit_cost: Decimal
    from_side: Side
    to_side: Side | None = None
    lot: str = ""
    serial: str = ""
    # An auto-serialized item's units entering stock without serials: `post` generates one
    # serial per unit at the line's unit cost (the average cost, seed 000).
    generate_serials: bool = False
    extra: tuple[ExtraPosting, ...] = ()


@dataclass(frozen=True, slots=True)
class PostingDocument:
    kind: DocumentKind
    reference: str
    lines: tuple[PostingLine, ...]


@dataclass(frozen=True, slots=True)
class Position:
    """An item's on-hand quantity and perpetual average cost at a location."""

    on_hand: Decimal
    average_cost: Decimal


PositionKey = tuple[str, str]  # (item, location)
_NOTHING_ON_HAND = Position(ZERO, ZERO)


@dataclass(frozen=True, slots=True)
class StockMovement:
    """A quantity delta at a place: inventory history at a location, job history at a job."""

    line_no: int
    item: str
    place: Side
    lot: str
    serial: str
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class SerialEffect:
    """A serial's new place. `source` None: it enters stock (gained, returned from a job,
    generated); `target` None: it leaves stock (written off, issued to a job)."""

    line_no: int
    item: str
    serial: str
    source: LocationSide | None
    target: LocationSide | None
    actual_cost: Decimal
    generated: bool = False


@dataclass(frozen=True, slots=True)
class GlLine:
    line_no: int
    account: str
    entity: str | None
    amount: Decimal  # debit positive, credit negative

    @property
    def debit(self) -> Decimal:
        return self.amount if self.amount > ZERO else ZERO

    @property
    def credit(self) -> Decimal:
        return -self.amount if self.amount < ZERO else ZERO


@dataclass(frozen=True, slots=True)
class PostingResult:
    document: PostingDocument
    movements: tuple[StockMovement, ...]
    serial_effects: tuple[SerialEffect, ...]
    positions: Mapping[PositionKey, Position]  # the final position of every item touched
    gl_lines: tuple[GlLine, ...]

    @property
    def total_debit(self) -> Decimal:
        return sum((g.debit for g in self.gl_lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((g.credit for g in self.gl_lines), ZERO)


def _account(side: Side | None) -> str | None:
    if side is None or side.gl_account is None or not side.gl_account.strip():
        return None
    return side.gl_account.strip()


def _problem(line: PostingLine, message: str, where: str = "") -> ValidationFailed:
    suffix = f"/{where}" if where else ""
    return ValidationFailed(
        "the document cannot be posted", [FieldProblem(f"lines/{line.line_no}{suffix}", message)]
    )


class _Poster:
    def __init__(
        self,
        positions: Mapping[PositionKey, Position],
        new_serial: Callable[[str], str] | None,
        frozen_bins: Mapping[tuple[str, str], str],
    ) -> None:
        self.positions: dict[PositionKey, Position] = {}
        self.start = positions
        self.new_serial = new_serial
        self.frozen_bins = frozen_bins
        self.frozen_locations = {location for location, _ in frozen_bins}
        self.movements: list[StockMovement] = []
        self.serials: list[SerialEffect] = []
        self.gl: list[GlLine] = []

    def position(self, key: PositionKey) -> Position:
        if key not in self.positions:
            self.positions[key] = self.start.get(key, _NOTHING_ON_HAND)
        return self.positions[key]

    def check_frozen(self, line: PostingLine, side: Side) -> None:
        if not isinstance(side, LocationSide):
            return
        if side.bin is None:
            if side.location in self.frozen_locations:
                counts = sorted(
                    ref for (loc, _), ref in self.frozen_bins.items() if loc == side.location
                )
                raise Conflict(
                    f"location {side.location} has bins frozen by stock count {counts[0]}: "
                    "name the bin, or wait until the count is completed",
                    [FieldProblem(f"lines/{line.line_no}", "location has counted bins")],
                    code="bins-frozen",
                )
            return
        frozen_by = self.frozen_bins.get((side.location, side.bin))
        if frozen_by is not None:
            raise Conflict(
                f"bin {side.bin} is being counted by stock count {frozen_by}: no postings until "
                "the count is completed or cancelled",
                [FieldProblem(f"lines/{line.line_no}", f"bin {side.bin} is frozen")],
                code="bins-frozen",
            )

    def move(self, line: PostingLine, side: Side, quantity: Decimal) -> None:
        """Record a stock delta at a side (positions are kept by `reposition`)."""
        self.check_frozen(line, side)
        self.movements.append(
            StockMovement(
                line_no=line.line_no,
                item=line.item,
                place=side,
                lot=line.lot,
                serial=line.serial,
                quantity=quantity,
                unit_cost=line.unit_cost,
                value=extend(quantity, line.unit_cost),
            )
        )

    def reposition(self, line: PostingLine, side: Side, quantity: Decimal) -> None:
        if not isinstance(side, LocationSide):
            return
        key = (line.item, side.location)
        before = self.position(key)
        average = average_after_receipt(
            before.on_hand, before.average_cost, quantity, line.unit_cost
        )
        self.positions[key] = Position(before.on_hand + quantity, average)

    def gl_pair(self, line: PostingLine) -> None:
        credit_account = _account(line.from_side)
        debit_account = _account(line.to_side)
        if credit_account is None and debit_account is None:
            return
        if credit_account is None or debit_account is None:
            blank = "from_side" if credit_account is None else "to_side"
            raise ValidationFailed(
                "one-sided GL entries are not allowed: give both GL accounts or blank both",
                [FieldProblem(f"lines/{line.line_no}/{blank}/gl_account", "blank")],
                code="one-sided-gl",
            )
        credit_entity = line.from_side.gl_entity
        debit_entity = line.to_side.gl_entity if line.to_side is not None else None
        amount = extend(line.quantity, line.unit_cost)
        if amount == ZERO or (credit_account, credit_entity) == (debit_account, debit_entity):
            return
        self.gl.append(GlLine(line.line_no, credit_account, credit_entity, -amount))
        self.gl.append(GlLine(line.line_no, debit_account, debit_entity, amount))

    def extras(self, line: PostingLine) -> None:
        for extra in line.extra:
            if not extra.debit_account.strip() or not extra.credit_account.strip():
                raise _problem(line, "a further GL posting needs both accounts", "extra")
            self.gl.append(
                GlLine(line.line_no, extra.credit_account, extra.credit_entity, -extra.amount)
            )
            self.gl.append(
                GlLine(line.line_no, extra.debit_account, extra.debit_entity, extra.amount)
            )


def _validate(line: PostingLine) -> None:
    try:
        check_quantity(line.quantity)
        check_cost(line.unit_cost, "unit cost")
        for extra in line.extra:
            if extra.amount != extend(Decimal(1), extra.amount):
                raise ValueError(f"amount {extra.amount} has more than 2 decimal places")
    except ValueError as exc:
        raise _problem(line, str(exc)) from None
    if line.quantity == ZERO:
        raise _problem(line, "quantity is zero", "quantity")
    if line.unit_cost < ZERO:
        raise _problem(line, "unit cost must not be negative", "unit_cost")
    if line.action is LineAction.TRANSFER and line.to_side is None:
        raise _problem(line, "a transfer needs a To side", "to_side")
    if line.serial and abs(line.quantity) != 1:
        raise _problem(line, "a serialized quantity is only +1 or -1", "quantity")
    if line.generate_serials:
        if line.serial or line.action is not LineAction.ADJUSTMENT:
            raise _problem(line, "serials are generated only by an adjustment without serial")
        if not isinstance(line.from_side, LocationSide):
            raise _problem(line, "serials are generated only at a location", "from_side")
        if line.quantity < ZERO or line.quantity != line.quantity.to_integral_value():
            raise _problem(line, "generated serials need a positive whole quantity", "quantity")


def post(
    document: PostingDocument,
    positions: Mapping[PositionKey, Position],
    *,
    new_serial: Callable[[str], str] | None = None,
    frozen_bins: Mapping[tuple[str, str], str] | None = None,
) -> PostingResult:
    """Post a document against the current positions; nothing is changed in place.

    `positions` holds (item, location) -> on hand and average cost before the document;
    items not in it start at zero. Lines are applied in order, so the seed's average-cost
    adjustment (-14 at the old cost, then +14 at the new) ends at the new cost.
    `new_serial(item)` gives a fresh serial number for generated serials. `frozen_bins`
    maps (location, bin) to the stock count freezing it; a posting there is refused.
    """
    poster = _Poster(positions, new_serial, frozen_bins or {})
    for line in document.lines:
        _validate(line)
        _post_line(poster, line)
    balance = sum((g.amount for g in poster.gl), ZERO)
    if balance != ZERO:  # pragma: no cover - every pair above is balanced by construction
        raise AssertionError(f"document {document.reference} GL is out of balance by {balance}")
    return PostingResult(
        document=document,
        movements=tuple(poster.movements),
        serial_effects=tuple(poster.serials),
        positions=dict(poster.positions),
        gl_lines=tuple(poster.gl),
    )


def _post_line(poster: _Poster, line: PostingLine) -> None:
    source, q = line.from_side, line.quantity
    if line.action is LineAction.ADJUSTMENT:
        # At a job a positive quantity takes costs off it (seed 004's tip).
        delta = q if isinstance(source, LocationSide) else -q
        poster.move(line, source, delta)
        poster.reposition(line, source, delta)
        if isinstance(source, LocationSide):
            _adjust_serials(poster, line, source, delta)
    else:
        target = line.to_side
        assert target is not None  # checked by _validate
        poster.move(line, source, -q)
        poster.move(line, target, q)
        same_location = (
            isinstance(source, LocationSide)
            and isinstance(target, LocationSide)
            and source.location == target.location
        )
        # A move inside one location changes neither its on-hand nor its average cost;
        # the issue is applied before the receipt, as stock must leave before it arrives.
        if not same_location:
            out, into = (source, target) if q > ZERO else (target, source)
            poster.reposition(line, out, -abs(q))
            poster.reposition(line, into, abs(q))
        if line.serial:
            _transfer_serial(poster, line, source, target)
    poster.gl_pair(line)
    poster.extras(line)


def _adjust_serials(
    poster: _Poster, line: PostingLine, place: LocationSide, delta: Decimal
) -> None:
    if line.serial:
        source, target = (None, place) if delta > ZERO else (place, None)
        poster.serials.append(
            SerialEffect(line.line_no, line.item, line.serial, source, target, line.unit_cost)
        )
        return
    if not line.generate_serials:
        return
    if poster.new_serial is None:
        raise _problem(line, "no serial number generator for an auto-serialized item")
    for _ in range(int(delta)):
        serial = poster.new_serial(line.item)
        poster.serials.append(
            SerialEffect(line.line_no, line.item, serial, None, place, line.unit_cost, True)
        )


def _transfer_serial(poster: _Poster, line: PostingLine, source: Side, target: Side) -> None:
    if line.quantity < ZERO:
        source, target = target, source
    src = source if isinstance(source, LocationSide) else None
    dst = target if isinstance(target, LocationSide) else None
    if src is None and dst is None:
        return  # job to job: the serial is in no stock location
    poster.serials.append(
        SerialEffect(line.line_no, line.item, line.serial, src, dst, line.unit_cost)
    )


def gl_totals(lines: Sequence[GlLine]) -> dict[tuple[str, str | None], Decimal]:
    """Net amount per (account, entity): the document's GL as a ledger shows it."""
    totals: dict[tuple[str, str | None], Decimal] = {}
    for g in lines:
        key = (g.account, g.entity)
        totals[key] = totals.get(key, ZERO) + g.amount
    return totals


# -- what the writer checks against the database's facts before it writes -------------

B = TypeVar("B")  # how the writer names a bin (its database id)


def require_bins(result: PostingResult) -> None:
    """stock_balance is per bin: a movement at a location names its bin."""
    for m in result.movements:
        if isinstance(m.place, LocationSide) and m.place.bin is None:
            raise ValidationFailed(
                "a posting at a location names the bin the stock is in",
                [FieldProblem(f"lines/{m.line_no}", "bin required")],
                code="bin-required",
            )


def refuse_frozen_bins(frozen: Sequence[tuple[str, str]]) -> None:
    """Refuse a result that touches bins a stock count in process froze. `frozen`: (bin
    label, number of the count freezing it), in the writer's order (by bin id)."""
    if not frozen:
        return
    problems = [FieldProblem(f"bins/{label}", f"frozen by stock count {n}") for label, n in frozen]
    numbers = ", ".join(sorted({n for _, n in frozen}))
    raise Conflict(
        f"bin {frozen[0][0]} is being counted by stock count {numbers}: no postings until "
        "the count is completed or cancelled",
        problems[:100],
        code="bins-frozen",
    )


def refuse_misplaced_serials(
    effects: Sequence[SerialEffect],
    current: Mapping[tuple[str, str], B | None],
    bin_of: Callable[[LocationSide], B],
) -> None:
    """Every serial is where its effect says it is. `current`: (item, serial) -> the bin it
    is in, None when it exists out of stock; absent when it does not exist. A serial
    entering stock must not be in stock already; one leaving a bin must be in that bin."""
    problems: list[FieldProblem] = []
    for e in effects:
        key = (e.item, e.serial)
        where = f"lines/{e.line_no}/serial"
        if e.source is None:
            if current.get(key) is not None:
                problems.append(FieldProblem(where, f"serial {e.serial} is already in stock"))
        elif key not in current or current[key] != bin_of(e.source):
            problems.append(FieldProblem(where, f"serial {e.serial} is not in bin {e.source.bin}"))
    if problems:
        raise Conflict("the serials are not where the document says", problems[:100])
