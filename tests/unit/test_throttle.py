"""The throttle's waits: free failures, then doubling up to the cap; the refusal's seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.errors import TooManyAttempts
from server.domain.throttle import ThrottlePolicy, ThrottleState, check_not_throttled

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_waits_begin_after_the_free_failures_and_double_up_to_the_cap() -> None:
    policy = ThrottlePolicy(
        free=3, first_wait=timedelta(seconds=2), longest_wait=timedelta(seconds=30)
    )
    waits = [policy.wait_after(n).total_seconds() for n in range(1, 10)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 30, 30]
    assert policy.wait_after(10_000) == timedelta(seconds=30)


def test_a_key_that_must_wait_is_refused_with_the_longest_wait_in_seconds() -> None:
    states = [
        ThrottleState("user:a", 6, NOW + timedelta(seconds=1, milliseconds=200)),
        ThrottleState("address:x", 25, NOW + timedelta(seconds=9)),
        ThrottleState("address:y", 2, None),
    ]
    with pytest.raises(TooManyAttempts) as refused:
        check_not_throttled(states, NOW, "logins")
    assert refused.value.retry_after == 9
    assert refused.value.message == "too many failed logins: try again in 9 seconds"


def test_a_wait_that_has_passed_refuses_nothing() -> None:
    check_not_throttled([ThrottleState("user:a", 9, NOW)], NOW, "logins")
    check_not_throttled([ThrottleState("user:a", 2, None)], NOW, "logins")
