"""What the sign-in, user and device use cases need from persistence (`server.auth.sql`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.domain.auth import PinVerifier
from server.domain.masterdata import Role
from server.domain.throttle import ThrottlePolicy, ThrottleState
from server.ports import AuditTrail, CodeLookup, Transaction


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    role: Role
    active: bool


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    id: int
    name: str
    location_id: int
    location_code: str
    status: str
    app_version: str
    enrolled_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class EnrollmentCodeRecord:
    id: int
    location_id: int
    expires_at: datetime
    used_at: datetime | None


class UserRepository(Protocol):
    async def add(self, username: str, password_hash: str, role: Role, now: datetime) -> int: ...
    async def by_username(self, username: str) -> UserRecord | None: ...
    async def by_id(self, user_id: int) -> UserRecord | None: ...
    async def page(self, after: int, limit: int) -> Sequence[UserRecord]: ...
    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...
    async def add_token(
        self, user_id: int, token_hash: str, now: datetime, expires_at: datetime
    ) -> None: ...
    async def by_token(self, token_hash: str) -> tuple[UserRecord, datetime] | None: ...
    async def remove_token(self, token_hash: str) -> None: ...
    async def remove_tokens_of(self, user_id: int) -> int: ...


class DeviceRepository(Protocol):
    async def add_enrollment_code(
        self, code_hash: str, location_id: int, created_by: int, now: datetime, expires_at: datetime
    ) -> None: ...
    async def claim_enrollment_code(
        self, code_hash: str, now: datetime
    ) -> EnrollmentCodeRecord | None: ...
    async def add(
        self, name: str, location_id: int, credential_hash: str, app_version: str, now: datetime
    ) -> int: ...
    async def link_enrollment_code(self, code_id: int, device_id: int) -> None: ...
    async def by_id(self, device_id: int) -> DeviceRecord | None: ...
    async def by_credential(self, credential_hash: str) -> DeviceRecord | None: ...
    async def page(
        self, after: int, limit: int, location_id: int | None
    ) -> Sequence[DeviceRecord]: ...
    async def revoke(self, device_id: int, now: datetime) -> bool: ...
    async def touch(self, device_id: int, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class CounterEntry:
    """One user who counts, as the Counters page lists them (never the PIN's verifier)."""

    username: str
    role: Role
    active: bool
    pin_set_at: datetime | None  # None: no PIN, they cannot sign in on a device
    sites: list[str]  # the location codes whose devices they may count on


class CounterRepository(Protocol):
    """Counters' PINs (their verifiers) and the sites they count at."""

    async def roster(self) -> list[CounterEntry]: ...  # counters, and anyone with a PIN

    async def set_pin(
        self,
        user_id: int,
        verifier: PinVerifier,
        location_ids: Sequence[int],
        by: int,
        now: datetime,
    ) -> None: ...
    async def set_active(self, user_id: int, active: bool, now: datetime) -> None: ...


class ThrottleRepository(Protocol):
    """Failed attempts in a row per key; shared by every process on the database."""

    async def states(self, keys: Sequence[str]) -> list[ThrottleState]: ...
    async def record_failure(
        self, key: str, now: datetime, policy: ThrottlePolicy
    ) -> ThrottleState: ...
    async def clear(self, keys: Sequence[str]) -> None: ...


class AuthUnitOfWork(Transaction, Protocol):
    @property
    def counters(self) -> CounterRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def devices(self) -> DeviceRepository: ...
    @property
    def codes(self) -> CodeLookup: ...
    @property
    def throttle(self) -> ThrottleRepository: ...
    @property
    def audit(self) -> AuditTrail: ...
