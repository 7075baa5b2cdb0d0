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
