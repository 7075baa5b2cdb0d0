"""Users, tokens, devices and enrollment on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.common import Code, Name

RoleName = Literal["admin", "supervisor", "counter", "finance"]
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


class LoginRequest(msgspec.Struct, kw_only=True):
    username: str
    password: str


class User(msgspec.Struct, kw_only=True):
    username: Username
    role: RoleName
    active: bool = True


class NewUser(msgspec.Struct, kw_only=True):
    username: Username
    password: Password
    role: RoleName


class UserPage(msgspec.Struct, kw_only=True):
    items: list[User]
    next_cursor: str | None = None


class RevokedTokens(msgspec.Struct, kw_only=True):
    """An admin revoked a user's tokens: how many stopped working."""

    username: str
    revoked: int


class Token(msgspec.Struct, kw_only=True):
    token: str
    expires_at: datetime
    user: User


class EnrollmentCodeRequest(msgspec.Struct, kw_only=True):
    location: Code
    ttl_minutes: Annotated[int, msgspec.Meta(ge=1, le=7 * 24 * 60)] | None = None


class EnrollmentCode(msgspec.Struct, kw_only=True):
    code: str
    location: Code
    expires_at: datetime


class EnrollRequest(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Name
    app_version: Annotated[str, msgspec.Meta(max_length=64)] = ""
    protocol_version: int = 1


class Enrollment(msgspec.Struct, kw_only=True):
    """The device's own credential: shown once, stored only as a hash on the server."""

    device_id: int
    credential: str
    location: Code
    protocol_version: int


DeviceStatus = Literal["active", "revoked"]


class Device(msgspec.Struct, kw_only=True):
    id: int
    name: str
    location: Code
    status: DeviceStatus
    app_version: str
    enrolled_at: datetime
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None


class DevicePage(msgspec.Struct, kw_only=True):
    items: list[Device]
    next_cursor: str | None = None


class Caller(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who the server takes the caller for."""

    kind: Literal["user", "device"]
    name: str
    role: RoleName | None = None
    device_id: int | None = None
    location: Code | None = None


class CounterPinRequest(msgspec.Struct, kw_only=True):
    """`PUT /api/users/{username}/pin`: the PIN a counter signs in with on the devices of
    `locations` (4 to 12 digits; not their password). The server keeps and sends devices
    only a slow salted hash of it."""

    pin: str
    locations: list[Code]


class CounterPin(msgspec.Struct, kw_only=True):
    username: Username
    locations: list[Code]
    set_at: datetime


class UserChange(msgspec.Struct, kw_only=True):
    """`PATCH /api/users/{username}`: deactivate (or reactivate) a user. A device's scans
    by a counter after their deactivation are refused (kept as rejected events)."""

    active: bool
