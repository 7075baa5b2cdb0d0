"""Exact arithmetic: the rounding rules the README states, and no float anywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.money import (
    average_after_receipt,
    check_cost,
    check_quantity,
    extend,
    parse_decimal,
    round_cost,
    round_value,
    weighted_average,
)

D = Decimal


def test_values_round_half_up_to_cents() -> None:
    assert extend(D(14), D("55.232")) == D("773.25")  # 773.248
    assert extend(D(-14), D("55.232")) == D("-773.25")
    assert round_value(D("0.005")) == D("0.01")
    assert round_value(D("-0.005")) == D("-0.01")
    assert round_value(D("2.675")) == D("2.68")  # a float would say 2.67


def test_costs_round_half_even_to_six_places() -> None:
    assert round_cost(D("1.0000005")) == D("1.000000")
    assert round_cost(D("1.0000015")) == D("1.000002")
    assert weighted_average([(D(1), D(100)), (D(2), D(0))]) == D("33.333333")


def test_weighted_average_of_serial_costs() -> None:
    assert weighted_average([(D(1), D("10.50")), (D(1), D("11.25"))]) == D("10.875")
    assert weighted_average([]) == D(0)


def test_seed_average_cost_example() -> None:
    """Seed 004: 14 at 55.232, take out 14, put back 14 at 57.000: average 57.000."""
    after_issue_qty = D(14) - D(14)
    assert average_after_receipt(after_issue_qty, D("55.232"), D(14), D("57.000")) == D("57")


def test_average_after_receipt_weights_old_and_new() -> None:
    assert average_after_receipt(D(10), D(5), D(10), D(7)) == D(6)
    # An issue does not change the average; nor does a receipt into negative stock keep it.
    assert average_after_receipt(D(10), D(5), D(-3), D(9)) == D(5)
    assert average_after_receipt(D(-2), D(5), D(4), D(9)) == D(9)


@pytest.mark.parametrize("text", ["abc", "", "1e", "NaN", "Infinity", "--1"])
def test_parse_decimal_refuses_non_numbers_with_a_readable_message(text: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        parse_decimal(text, "unit cost")


def test_parse_decimal_is_exact() -> None:
    assert parse_decimal("55.232") == D("55.232")
    assert parse_decimal(" 14 ") == D(14)
    with pytest.raises(ValueError, match="must be a number"):
        parse_decimal(True)  # type: ignore[arg-type]


def test_scale_limits() -> None:
    assert check_quantity(D("1.2345")) == D("1.2345")
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        check_quantity(D("1.23456"))
    with pytest.raises(ValueError, match="more than 6 decimal places"):
        check_cost(D("0.0000001"))
    with pytest.raises(ValueError, match="too large"):
        check_cost(D("1e15"))


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10_000).map(D),
            st.decimals(min_value=0, max_value=100_000, places=3),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_weighted_average_lies_between_min_and_max_cost(pairs: list[tuple[D, D]]) -> None:
    average = weighted_average(pairs)
    costs = [c for _, c in pairs]
    assert min(costs) - D("0.000001") <= average <= max(costs) + D("0.000001")
