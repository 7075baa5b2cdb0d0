"""Users, tokens, enrollment codes and devices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.auth.passwords import hash_password, needs_rehash, verify_password
from server.auth.ports import AuthUnitOfWork, CounterEntry, DeviceRecord, UserRecord
from server.domain.auth import (
    DEVICE_TOKEN_PREFIX,
    USER_TOKEN_PREFIX,
    Caller,
    CallerKind,
    check_not_expired,
    new_device_credential,
    new_enrollment_code,
    new_user_token,
    normalize_enrollment_code,
    pin_problem,
    pin_verifier,
    secret_hash,
)
from server.domain.errors import (
    Conflict,
    FieldProblem,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from server.domain.masterdata import Role
from server.domain.throttle import (
    ADDRESS_POLICY,
    CREDENTIAL_POLICY,
    USER_POLICY,
    ThrottlePolicy,
    check_not_throttled,
)
from server.ports import AuditAction, AuditEntry

log = logging.getLogger("stockcount.auth")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: UserRecord


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    location_code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    device_id: int
    credential: str
    location_code: str


async def create_user(
    uow: AuthUnitOfWork, username: str, password: str, role: Role, now: datetime
) -> UserRecord:
    async with uow:
        if await uow.users.by_username(username) is not None:
            raise Conflict(f"user {username!r} already exists")
        user_id = await uow.users.add(username, hash_password(password), role, now)
        await uow.commit()
    return UserRecord(user_id, username, "", role, True)


async def list_users(uow: AuthUnitOfWork, after: int, limit: int) -> Sequence[UserRecord]:
    async with uow:
        return await uow.users.page(after, limit)


def _user_key(username: str) -> str:
    return f"user:{username.strip().casefold()[:200]}"


def _address_key(kind: str, client: str) -> str:
    return f"{kind}:{client[:200]}"


async def _record_failures(
    uow: AuthUnitOfWork, keys: Sequence[tuple[str, ThrottlePolicy]], now: datetime, what: str
) -> None:
    """Count one failure against each key, committed although the attempt is refused."""
    for key, policy in keys:
        state = await uow.throttle.record_failure(key, now, policy)
        if state.locked_until is not None:
            log.warning(
                "throttled %s: %d failures in a row for %s, next try at %s",
                what,
                state.failures,
                key,
                state.locked_until.isoformat(),
            )
        else:
            log.info("failed %s: %d in a row for %s", what, state.failures, key)
    await uow.commit()


async def login(
    uow: AuthUnitOfWork,
    username: str,
    password: str,
    now: datetime,
    ttl: timedelta,
    client: str = "",
) -> IssuedToken:
    """A token for a right username and password. Failed logins are counted per user and
    per client address (`client`); past a few, each further one doubles the wait
    (TooManyAttempts, whichever process of the site is asked)."""
    keys = [(_user_key(username), USER_POLICY), (_address_key("address", client), ADDRESS_POLICY)]
    async with uow:
        check_not_throttled(await uow.throttle.states([k for k, _ in keys]), now, "logins")
        user = await uow.users.by_username(username)
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.active:
            await _record_failures(uow, keys, now, "login")
            raise NotAuthenticated("wrong username or password")
        if needs_rehash(user.password_hash):
            await uow.users.set_password_hash(user.id, hash_password(password))
        token = new_user_token()
        expires_at = now + ttl
        await uow.users.add_token(user.id, secret_hash(token), now, expires_at)
        await uow.throttle.clear([keys[0][0]])
        await uow.commit()
    return IssuedToken(token, expires_at, user)


async def revoke_user_tokens(
    uow: AuthUnitOfWork, caller: Caller, username: str, now: datetime
) -> int:
    """Every token of the user stops working at once (an admin's act); how many there were."""
    async with uow:
        user = await uow.users.by_username(username)
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        removed = await uow.users.remove_tokens_of(user.id)
        await uow.audit.record(
            AuditEntry(
                AuditAction.REVOKE_TOKENS,
                caller.user_id,
                now,
                subject=username,
                detail=f"{removed} token(s)",
            )
        )
        await uow.commit()
    log.info("revoked %d tokens of user %r", removed, username)
    return removed


async def logout(uow: AuthUnitOfWork, token: str) -> None:
    """The token stops working at once (signing out of the web pages)."""
    async with uow:
        await uow.users.remove_token(secret_hash(token))
        await uow.commit()


async def authenticate(uow: AuthUnitOfWork, bearer: str, now: datetime, client: str = "") -> Caller:
    """The caller behind a bearer token or device credential, or NotAuthenticated.

    Unknown tokens and credentials count against the client address; a known one is not
    held up by the throttle (every request authenticates: the hot path reads nothing more,
    and a guess at 256 random bits that hits is not a risk a wait would lower)."""
    async with uow:
        if bearer.startswith(USER_TOKEN_PREFIX):
            found = await uow.users.by_token(secret_hash(bearer))
            if found is None:
                await _refuse_unknown(uow, client, now)
                raise NotAuthenticated("unknown token: log in again")
            user, expires_at = found
            check_not_expired(expires_at, now, "token")
            if not user.active:
                raise NotAuthenticated(f"user {user.username!r} is deactivated")
            return Caller(CallerKind.USER, user.username, user_id=user.id, role=user.role)
        if bearer.startswith(DEVICE_TOKEN_PREFIX):
            device = await uow.devices.by_credential(secret_hash(bearer))
            if device is None:
                await _refuse_unknown(uow, client, now)
                raise NotAuthenticated("unknown device credential: enroll the device again")
            if device.status != "active":
                raise NotAuthenticated(
                    f"device {device.name!r} was revoked: ask an admin for a new enrollment code"
                )
            return Caller(
                CallerKind.DEVICE,
                device.name,
                device_id=device.id,
                location_id=device.location_id,
                location_code=device.location_code,
            )
    raise NotAuthenticated("unrecognised credential: send 'Authorization: Bearer <token>'")


async def _refuse_unknown(uow: AuthUnitOfWork, client: str, now: datetime) -> None:
    """Count an unknown token or credential; TooManyAttempts once the address must wait."""
    key = _address_key("credential", client)
    check_not_throttled(await uow.throttle.states([key]), now, "credentials")
    await _record_failures(uow, [(key, CREDENTIAL_POLICY)], now, "credential")


async def create_enrollment_code(
    uow: AuthUnitOfWork, caller: Caller, location_code: str, now: datetime, ttl: timedelta
) -> IssuedCode:
    assert caller.user_id is not None
    async with uow:
        location_id = await uow.codes.location_id(location_code)
        if location_id is None:
            raise NotFound(f"location {location_code!r} does not exist")
        code = new_enrollment_code()
        expires_at = now + ttl
        await uow.devices.add_enrollment_code(
            secret_hash(code), location_id, caller.user_id, now, expires_at
        )
        await uow.commit()
    return IssuedCode(code, location_code, expires_at)


async def enroll_device(
    uow: AuthUnitOfWork,
    code: str,
    name: str,
    app_version: str,
    now: datetime,
    client: str = "",
) -> IssuedCredential:
    """Exchange a one-time code for the device's own credential. A code works once. Wrong
    codes count against the client address, as failed logins do."""
    normalized = normalize_enrollment_code(code)
    if not normalized:
        raise ValidationFailed("the enrollment code is empty")
    key = _address_key("enrollment", client)
    async with uow:
        check_not_throttled(await uow.throttle.states([key]), now, "enrollment codes")
        claimed = await uow.devices.claim_enrollment_code(secret_hash(normalized), now)
        if claimed is None:
            await _record_failures(uow, [(key, CREDENTIAL_POLICY)], now, "enrollment")
            raise NotAuthenticated(
                "this enrollment code is unknown, already used or expired: "
                "ask an admin for a new one"
            )
        credential = new_device_credential()
        device_id = await uow.devices.add(
            name, claimed.location_id, secret_hash(credential), app_version, now
        )
        await uow.devices.link_enrollment_code(claimed.id, device_id)
        device = await uow.devices.by_id(device_id)
        assert device is not None
        await uow.commit()
    return IssuedCredential(device_id, credential, device.location_code)


async def revoke_device(
    uow: AuthUnitOfWork, caller: Caller, device_id: int, now: datetime
) -> DeviceRecord:
    async with uow:
        if not await uow.devices.revoke(device_id, now):
            raise NotFound(f"device {device_id} does not exist")
        device = await uow.devices.by_id(device_id)
        assert device is not None
        await uow.audit.record(
            AuditEntry(
                AuditAction.REVOKE_DEVICE,
                caller.user_id,
                now,
                subject=device.name,
                detail=f"device {device_id} of {device.location_code}",
            )
        )
        await uow.commit()
    return device


async def get_device(uow: AuthUnitOfWork, device_id: int) -> DeviceRecord:
    async with uow:
        device = await uow.devices.by_id(device_id)
    if device is None:
        raise NotFound(f"device {device_id} does not exist")
    return device


async def touch_device(uow: AuthUnitOfWork, device_id: int, now: datetime) -> DeviceRecord:
    async with uow:
        await uow.devices.touch(device_id, now)
        device = await uow.devices.by_id(device_id)
        assert device is not None
        await uow.commit()
    return device


async def list_devices(
    uow: AuthUnitOfWork, after: int, limit: int, location_code: str | None
) -> Sequence[DeviceRecord]:
    async with uow:
        location_id = None
        if location_code is not None:
            location_id = await uow.codes.location_id(location_code)
            if location_id is None:
                raise NotFound(f"location {location_code!r} does not exist")
        return await uow.devices.page(after, limit, location_id)


# -- counters: a PIN to sign in on devices, and deactivation --------------------------------


@dataclass(frozen=True, slots=True)
class PinSet:
    username: str
    locations: list[str]
    set_at: datetime


async def set_counter_pin(
    uow: AuthUnitOfWork,
    caller: Caller,
    username: str,
    pin: str,
    locations: Sequence[str],
    now: datetime,
) -> PinSet:
    """Set the PIN a user signs in with on the devices of `locations` (replacing the
    earlier PIN and sites). Admins set anyone's; supervisors a counter's or their own.
    Only the PIN's verifier is kept (a slow salted hash), and devices pull only that."""
    assert caller.user_id is not None
    problems = []
    if (why := pin_problem(pin)) is not None:
        problems.append(FieldProblem("pin", why))
    if not locations:
        problems.append(FieldProblem("locations", "name at least one location"))
    if problems:
        raise ValidationFailed("the PIN cannot be set", problems)
    async with uow:
        user = await uow.users.by_username(username)
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        if (
            caller.role is Role.SUPERVISOR
            and user.role is not Role.COUNTER
            and user.id != caller.user_id
        ):
            raise PermissionDenied(
                f"a supervisor sets the PINs of counters; {username} is {user.role.value}: "
                "ask an admin"
            )
        if not user.active:
            raise Conflict(f"user {username!r} is deactivated: reactivate them first")
        ids: list[int] = []
        unknown: list[FieldProblem] = []
        for i, code in enumerate(locations):
            location_id = await uow.codes.location_id(code)
            if location_id is None:
                unknown.append(FieldProblem(f"locations/{i}", f"no location {code!r}"))
            else:
                ids.append(location_id)
        if unknown:
            raise ValidationFailed("unknown locations", unknown)
        await uow.counters.set_pin(user.id, pin_verifier(pin), ids, caller.user_id, now)
        await uow.commit()
    return PinSet(username, sorted(set(locations)), now)


async def counter_roster(uow: AuthUnitOfWork) -> list[CounterEntry]:
    """The users who count: their sites, whether a PIN is set, active or not."""
    async with uow:
        return await uow.counters.roster()


async def set_user_active(
    uow: AuthUnitOfWork, username: str, active: bool, now: datetime
) -> UserRecord:
    """Deactivate (or reactivate) a user: a deactivated user cannot log in, their
    PIN goes to no device at the next pull, and a device's scans by them made after now
    are refused."""
    async with uow:
        user = await uow.users.by_username(username)
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        await uow.counters.set_active(user.id, active, now)
        await uow.commit()
    return UserRecord(user.id, user.username, "", user.role, active)
