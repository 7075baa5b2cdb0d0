"""Exact arithmetic for quantities, unit costs and values.

No float ever enters this path. The scales are the database's column scales:

- Quantity: up to 4 decimal places (keyed quantities of weighed or measured goods).
- Unit cost: up to 6 decimal places. The seeds use 3 (55.232); the 3 extra places keep
  a recomputed average cost from drifting. An average is rounded half-even to 6 places.
- Value (quantity x cost, document lines, GL amounts): 2 decimal places, rounded
  half-up per line. Document totals and GL postings are sums of rounded line values,
  so a document and its GL postings agree to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

QUANTITY_PLACES = 4
COST_PLACES = 6
VALUE_PLACES = 2
# Integer digits the database columns hold (NUMERIC(18+places, places)).
MAX_INTEGER_DIGITS = 14

_QUANTUM = {
    QUANTITY_PLACES: Decimal(1).scaleb(-QUANTITY_PLACES),
    COST_PLACES: Decimal(1).scaleb(-COST_PLACES),
    VALUE_PLACES: Decimal(1).scaleb(-VALUE_PLACES),
}
ZERO = Decimal(0)


def _check_scale(value: Decimal, places: int, what: str) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}")
    # Size first: quantizing 1e400 to 4 places is past the context's precision.
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"{what} {value} is too large")
    # The rounding is given by position: by keyword it costs twice as much (some fifty
    # checks a journal save). Any rounding would do: only an exact quantize is equal.
    if value != value.quantize(_QUANTUM[places], ROUND_HALF_EVEN):
        raise ValueError(f"{what} {value} has more than {places} decimal places")
    return value


def parse_decimal(text: str | int | Decimal, what: str = "number") -> Decimal:
    """Parse user input exactly ('55.232', 14). Raises ValueError with a readable message."""
    if isinstance(text, Decimal):
        return text
    if isinstance(text, bool):
        raise ValueError(f"{what} must be a number, not {text!r}")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, not {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {text!r}")
    return value


def check_quantity(value: Decimal, what: str = "quantity") -> Decimal:
    return _check_scale(value, QUANTITY_PLACES, what)


def check_cost(value: Decimal, what: str = "cost") -> Decimal:
    return _check_scale(value, COST_PLACES, what)


def round_value(value: Decimal) -> Decimal:
    """A money amount as it is posted: 2 places, half-up."""
    return value.quantize(_QUANTUM[VALUE_PLACES], ROUND_HALF_UP)


def round_cost(value: Decimal) -> Decimal:
    """A computed unit cost (an average): 6 places, half-even."""
    return value.quantize(_QUANTUM[COST_PLACES], ROUND_HALF_EVEN)


def extend(quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """Quantity x unit cost as a posted value."""
    return round_value(quantity * unit_cost)


def weighted_average(pairs: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Weighted average unit cost of (quantity, unit cost) pairs; ZERO when there are none."""
    total_qty = sum((q for q, _ in pairs), ZERO)
    if total_qty == ZERO:
        return ZERO
    return round_cost(sum((q * c for q, c in pairs), ZERO) / total_qty)


def average_after_receipt(
    on_hand: Decimal, average: Decimal, received: Decimal, unit_cost: Decimal
) -> Decimal:
    """Perpetual average cost after a receipt. Stock at or below zero carries no cost."""
    if received <= ZERO:
        return average
    if on_hand <= ZERO:
        return round_cost(unit_cost)
    return round_cost((on_hand * average + received * unit_cost) / (on_hand + received))
