"""Who may do what. Callers are users (with a role) or enrolled devices (with a site)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from server.domain.errors import NotAuthenticated, PermissionDenied
from server.domain.masterdata import Role

USER_TOKEN_PREFIX = "sct_u_"  # noqa: S105 - a prefix, not a secret
DEVICE_TOKEN_PREFIX = "sct_d_"  # noqa: S105
# Codes are typed on a handheld by a person: no 0/O/1/I/L to misread.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ENROLLMENT_CODE_LENGTH = 10


class CallerKind(StrEnum):
    USER = "user"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class Caller:
    kind: CallerKind
    name: str
    user_id: int | None = None
    role: Role | None = None
    device_id: int | None = None
    location_id: int | None = None
    location_code: str | None = None


def new_user_token() -> str:
    return USER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_device_credential() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_enrollment_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(ENROLLMENT_CODE_LENGTH))


def normalize_enrollment_code(code: str) -> str:
    """People type codes with spaces, dashes and lower case: accept those."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def secret_hash(secret: str) -> str:
    """Tokens and codes carry enough randomness that a plain SHA-256 is the right store."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Who may read what, beyond the writes each route names (admins may do everything): the
# API's guards and the web pages take these same sets, so both refuse alike.
READ_DOCUMENTS = frozenset({Role.SUPERVISOR, Role.FINANCE})  # a count's documents
# the journal's transactions with their GL and job history, and Inventory History
READ_BOOKS = frozenset({Role.COUNTER, Role.SUPERVISOR, Role.FINANCE})


def require_role(caller: Caller, allowed: frozenset[Role]) -> None:
    """Admins may do everything; otherwise the caller's role must be among `allowed`."""
    if caller.kind is not CallerKind.USER or caller.role is None:
        raise PermissionDenied("this needs a user's login, not a device credential")
    if caller.role is Role.ADMIN or caller.role in allowed:
        return
    names = ", ".join(sorted(r.value for r in allowed | {Role.ADMIN}))
    raise PermissionDenied(f"this needs the role {names}; {caller.name} is {caller.role.value}")


def require_device(caller: Caller) -> None:
    if caller.kind is not CallerKind.DEVICE:
        raise PermissionDenied("this is for enrolled devices only")


def check_not_expired(expires_at: datetime, now: datetime, what: str) -> None:
    if expires_at <= now:
        raise NotAuthenticated(f"the {what} has expired: log in again")


# -- counters' PINs: signing in on a device, offline ---------------------------------------
# A device holds, for the counters of its site, a verifier of each PIN and checks a PIN
# against it with no network. A PIN is short, so the verifier is a slow, salted hash
# (scrypt, 16 MiB and some 50 ms a try) with a salt of its own: a stolen device gives no
# PIN back cheaply, and a counter is locked on the device after a few wrong PINs.
PIN_SCRYPT_N = 2**14
PIN_SCRYPT_R = 8
PIN_SCRYPT_P = 1
PIN_HASH_LENGTH = 32
PIN_LENGTHS = range(4, 13)


@dataclass(frozen=True, slots=True)
class PinVerifier:
    salt: str  # hex
    hash: str  # hex: scrypt(PIN, salt, n, r, p, length)
    n: int
    r: int
    p: int
    length: int


def pin_problem(pin: str) -> str | None:
    """Why `pin` is no PIN, or None: 4 to 12 digits (a keypad in gloves)."""
    if not pin.isascii() or not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        return "a PIN is 4 to 12 digits"
    return None


def pin_verifier(pin: str, salt: bytes | None = None) -> PinVerifier:
    """The verifier of `pin` with a new random salt (or the one given)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    n, r, p = PIN_SCRYPT_N, PIN_SCRYPT_R, PIN_SCRYPT_P
    digest = hashlib.scrypt(
        pin.encode(),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=129 * r * n * p + 1_048_576,
        dklen=PIN_HASH_LENGTH,
    )
    return PinVerifier(salt.hex(), digest.hex(), n, r, p, PIN_HASH_LENGTH)
