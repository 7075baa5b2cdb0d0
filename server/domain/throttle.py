"""Throttling of failed sign-ins: how long a key (a user, a client address) must wait.

A key may fail `free` times in a row with no wait; each further failure doubles the wait,
from `first_wait` up to `longest_wait`. A success clears the key's failures. Pure: the
failures and the clock come in, the moment the key may try again goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from server.domain.errors import TooManyAttempts


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free: int = 5
    first_wait: timedelta = timedelta(seconds=2)
    longest_wait: timedelta = timedelta(minutes=15)

    def wait_after(self, failures: int) -> timedelta:
        """The wait that the `failures`-th failure in a row imposes (zero while free)."""
        if failures <= self.free:
            return timedelta(0)
        doublings = min(failures - self.free - 1, 30)  # 2**30 seconds already exceeds any cap
        wait: timedelta = self.first_wait * (2**doublings)
        return min(wait, self.longest_wait)


# Per user and per enrollment attempt a few mistakes are normal; one client address may be
# a shared gateway (a warehouse's NAT), so it gets more before its waits begin.
USER_POLICY = ThrottlePolicy(free=5)
ADDRESS_POLICY = ThrottlePolicy(free=20)
# Enrollment codes and device credentials are never typed twice by a person: per address.
CREDENTIAL_POLICY = ThrottlePolicy(free=10)


@dataclass(frozen=True, slots=True)
class ThrottleState:
    key: str
    failures: int
    locked_until: datetime | None


def check_not_throttled(states: list[ThrottleState], now: datetime, what: str) -> None:
    """Refuse (TooManyAttempts) while any of the keys must still wait."""
    waits = [s.locked_until for s in states if s.locked_until is not None and s.locked_until > now]
    if waits:
        seconds = max(1, ceil((max(waits) - now).total_seconds()))
        raise TooManyAttempts(
            f"too many failed {what}: try again in {seconds} seconds", retry_after=seconds
        )
