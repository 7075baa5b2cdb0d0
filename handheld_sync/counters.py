"""Counters sign in on the device with their user name and PIN, offline.

The device holds, for the counters of its site, the verifier it pulled (schemas.sync
`PinVerifier`: scrypt of the PIN with a salt and parameters of its own; never the PIN),
and checks a PIN against it with no network:

    sign_in = SignIn(store)                  # clock and limits injectable for tests
    sign_in.sign_in("ana", "4711")           # -> "ana", or raises SignInRefused/CounterLocked
    sign_in.current()                        # "ana", or None once idle too long
    sign_in.sign_out()

Rules: `attempts` wrong PINs in a row lock the counter on this device until a supervisor
sets a new PIN (the next pull brings a new verifier, which clears the count); a right PIN
clears it. A counter who did nothing for `idle` is signed out (checked whenever the
workflow asks who is signed in, so a device left on a shelf does not count for them).
A device that holds no counters (its server sends none) counts as the device alone.

State lives in the store (`meta`: who is signed in, their last activity), so every
command of the command line, a separate process, sees the same sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from handheld_sync.errors import CounterLocked, SignInRefused
from handheld_sync.store import Store
from schemas.sync import PinVerifier

SIGNED_IN = "counter"
ACTIVE_AT = "counter_active_at"
DEFAULT_IDLE = timedelta(minutes=15)
DEFAULT_ATTEMPTS = 5


def pin_matches(verifier: PinVerifier, pin: str) -> bool:
    """Whether `pin` is the PIN the verifier was made of (constant-time compare)."""
    digest = hashlib.scrypt(
        pin.encode(),
        salt=bytes.fromhex(verifier.salt),
        n=verifier.n,
        r=verifier.r,
        p=verifier.p,
        maxmem=129 * verifier.r * verifier.n * verifier.p + 1_048_576,
        dklen=verifier.length,
    )
    return hmac.compare_digest(digest.hex(), verifier.hash)


def make_verifier(pin: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> PinVerifier:
    """A verifier of `pin` with a new salt (tests and tools; the server makes its own)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=129 * r * n * p + 1_048_576, dklen=32
    )
    return PinVerifier(salt=salt.hex(), hash=digest.hex(), n=n, r=r, p=p, length=32)


class SignIn:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        idle: timedelta | None = None,
        attempts: int | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        settings = store.site_settings()
        self.idle = idle or (
            timedelta(minutes=settings.idle_sign_out_minutes) if settings else DEFAULT_IDLE
        )
        self.attempts = attempts or (settings.pin_attempts if settings else DEFAULT_ATTEMPTS)

    @property
    def required(self) -> bool:
        """Whether scanning needs a signed-in counter: the site has counters."""
        return self.store.has_counters()

    def sign_in(self, username: str, pin: str) -> str:
        found = self.store.counter_verifier(username)
        if found is None:
            raise SignInRefused(f"{username!r} is no counter of this site: check the name, or sync")
        verifier, failures = found
        if failures >= self.attempts:
            raise CounterLocked(
                f"{username} is locked after {failures} wrong PINs: ask a supervisor for a "
                "new PIN, then sync"
            )
        if not pin_matches(verifier, pin):
            failures += 1
            self.store.set_counter_failures(username, failures)
            left = self.attempts - failures
            if left <= 0:
                raise CounterLocked(
                    f"wrong PIN: {username} is now locked; ask a supervisor for a new PIN"
                )
            raise SignInRefused(f"wrong PIN for {username}: {left} attempt(s) left")
        with self.store.transaction():
            if failures:
                self.store.set_counter_failures(username, 0)
            self.store.set_setting(SIGNED_IN, username)
            self.store.set_setting(ACTIVE_AT, self.clock().isoformat())
        return username

    def sign_out(self) -> str | None:
        """Sign the counter out; returns who was signed in."""
        who = self.store.setting(SIGNED_IN)
        with self.store.transaction():
            self.store.set_setting(SIGNED_IN, None)
            self.store.set_setting(ACTIVE_AT, None)
        return who

    def current(self) -> str | None:
        """Who is signed in, or None; a counter idle for longer than `idle` is signed out."""
        who = self.store.setting(SIGNED_IN)
        if who is None:
            return None
        active = self.store.setting(ACTIVE_AT)
        if active is None or self.clock() - datetime.fromisoformat(active) > self.idle:
            self.sign_out()
            return None
        return who

    def touch(self) -> None:
        """The counter did something: the idle time starts again. Call inside the
        transaction of what they did (no commit of its own then)."""
        if self.store.setting(SIGNED_IN) is not None:
            self.store.set_setting(ACTIVE_AT, self.clock().isoformat())
