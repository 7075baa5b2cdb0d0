"""server.db.direct's parameters: the rows' values in the statement's order, through the
bind processors, a value every row shares (the same object) processed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from server.db.direct import _ordered, _params


def counting(calls: list[Any]) -> Any:
    def process(value: Any) -> Any:
        calls.append(value)
        return f"<{value}>"

    return process


def test_a_value_every_row_shares_is_processed_once() -> None:
    at = datetime(2026, 12, 7, 12, tzinfo=UTC)
    rows = [{"n": n, "at": at, "kind": "journal_transaction"} for n in range(5)]
    calls: list[Any] = []
    values = _params(("kind", "at", "n"), (None, counting(calls), None), rows)
    assert values == [("journal_transaction", f"<{at}>", n) for n in range(5)]
    assert calls == [at]


def test_equal_values_that_are_not_the_same_object_are_each_processed() -> None:
    """Equal is not enough: the same instant in two zones is equal, yet a processor may
    write each its own way. Distinct values, and a column whose first value recurs only
    in some rows, are processed row by row, in order."""
    at = datetime(2026, 12, 7, 12, tzinfo=UTC)
    east = at.astimezone(timezone(timedelta(hours=2)))
    one, same_one = Decimal("1.0"), Decimal("1.00")
    rows = [{"at": at, "q": one}, {"at": east, "q": same_one}, {"at": at, "q": one}]
    at_calls: list[Any] = []
    q_calls: list[Any] = []
    values = _params(("at", "q"), (counting(at_calls), counting(q_calls)), rows)
    assert at_calls == [at, east, at]
    assert q_calls == [one, same_one, one]
    assert values == [(f"<{at}>", "<1.0>"), (f"<{east}>", "<1.00>"), (f"<{at}>", "<1.0>")]


def test_no_rows_and_no_processors_give_the_values_as_they_are() -> None:
    assert _params(("a",), (counting([]),), []) == []
    assert _params(("a", "b"), (None, None), [{"a": 1, "b": 2}]) == [(1, 2)]
    assert _params(("a",), (None,), [{"a": 1}, {"a": 2}]) == [(1,), (2,)]


def test_tuples_are_put_in_the_statements_order() -> None:
    rows = [(1, "a", None), (2, "b", None)]
    assert _ordered(("x", "y", "z"), ("x", "y", "z"), rows) is rows
    assert _ordered(("z", "x", "y"), ("x", "y", "z"), rows) == [(None, 1, "a"), (None, 2, "b")]
    assert _ordered(("y",), ("x", "y", "z"), rows) == [("a",), ("b",)]
