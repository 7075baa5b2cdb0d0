"""A serialized item's average cost at a location: the rule and its fallback order."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from server.domain.costing import SerialCosts, serialized_average_cost

D = Decimal


def costs(*actual: str) -> SerialCosts:
    return SerialCosts(len(actual), sum((D(c) for c in actual), D(0)))


def test_the_average_of_the_serials_at_the_location() -> None:
    # The example: the last cost (40) plays no part while the location holds some.
    here = {"MAIN": costs("30.00", "36.50"), "WEST": costs("1000")}
    assert serialized_average_cost("MAIN", here, D(40)) == D("33.25")


def test_none_at_the_location_the_other_locations_weighted_by_serial() -> None:
    # 2 serials at 20 and 25 in WEST, 1 at 40 in EAST: (20 + 25 + 40) / 3, not (22.5 + 40) / 2.
    elsewhere = {"WEST": costs("20", "25"), "EAST": costs("40")}
    assert serialized_average_cost("MAIN", elsewhere, D(7)) == D("28.333333")
    empty_here = {"MAIN": SerialCosts(), **elsewhere}
    assert serialized_average_cost("MAIN", empty_here, D(7)) == D("28.333333")


def test_none_anywhere_the_last_cost() -> None:
    assert serialized_average_cost("MAIN", {}, D("7.5")) == D("7.5")
    assert serialized_average_cost("MAIN", {"MAIN": SerialCosts()}, D(0)) == D(0)


def test_rounded_half_even_to_six_places() -> None:
    assert costs("1.00", "1.00", "2.00").average == D("1.333333")
    assert costs("10.000002", "10.000003").average == D("10.000002")  # 10.0000025
    assert costs("10.000003", "10.000004").average == D("10.000004")  # 10.0000035
    assert costs("2", "2", "2", "3").average == D("2.25")  # exact, not a float's 2.2499...
    assert SerialCosts().average == D(0)


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=30))
def test_exact_whatever_the_costs(scaled: list[int]) -> None:
    """The average of costs with 6 places is within half a millionth of the exact one."""
    actual = [D(n).scaleb(-6) for n in scaled]
    average = SerialCosts(len(actual), sum(actual, D(0))).average
    exact = sum(actual, D(0)) / len(actual)
    assert abs(average - exact) <= D("0.0000005")
    assert average == average.quantize(D("0.000001"))
    assert min(actual) <= average <= max(actual)
