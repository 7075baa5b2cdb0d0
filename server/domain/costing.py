"""The average cost of a serialized item at a location.

A serial is one unit with its own actual cost, so a serialized item's average cost at a
location is the weighted average (every serial weighs one unit) of the actual costs of
its serials on hand there: in a bin of the location, OUT bins included (released serials
are still in the books until they leave); serials written off or issued to a job are in
no bin and weigh nothing. When the location holds none of its serials, the average over
the item's serials on hand at its other locations; when no location holds one, the
item's last cost. The database gathers the counts and exact sums; this module decides.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from server.domain.money import ZERO, round_cost

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class SerialCosts:
    """Serials of an item on hand at a place: how many, and the exact sum of their costs."""

    count: int = 0
    total: Decimal = ZERO

    def __add__(self, other: SerialCosts) -> SerialCosts:
        return SerialCosts(self.count + other.count, self.total + other.total)

    @property
    def average(self) -> Decimal:
        """The weighted average, rounded half-even to 6 places; ZERO when there are none."""
        if self.count == 0:
            return ZERO
        return round_cost(self.total / self.count)


def serialized_average_cost(
    location: K, by_location: Mapping[K, SerialCosts], last_cost: Decimal
) -> Decimal:
    """A serialized item's average cost at `location`: its serials on hand there, else
    those at its other locations, else its last cost. `by_location` holds the item's
    serials on hand per location (a location may be left out when it holds none)."""
    here = by_location.get(location, SerialCosts())
    if here.count:
        return here.average
    elsewhere = sum(
        (costs for place, costs in by_location.items() if place != location), SerialCosts()
    )
    if elsewhere.count:
        return elsewhere.average
    return last_cost
