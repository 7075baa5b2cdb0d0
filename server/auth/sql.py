"""SQL implementations of the service ports for users, tokens and devices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.auth.ports import CounterEntry, DeviceRecord, EnrollmentCodeRecord, UserRecord
from server.db.session import Session
from server.db.tables import (
    ApiToken,
    AuthThrottle,
    CounterPin,
    CounterSite,
    Device,
    EnrollmentCode,
    Location,
    User,
)
from server.domain.auth import PinVerifier
from server.domain.masterdata import Role
from server.domain.throttle import ThrottlePolicy, ThrottleState

_USER_COLUMNS = (User.id, User.username, User.password_hash, User.role, User.active)


def _user(row: Sequence[object]) -> UserRecord:
    return UserRecord(
        int(row[0]),  # type: ignore[call-overload]
        str(row[1]),
        str(row[2]),
        Role(str(row[3])),
        bool(row[4]),
    )


class SqlUsers:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(self, username: str, password_hash: str, role: Role, now: datetime) -> int:
        result = await self.session.execute(
            insert(User)
            .values(
                username=username,
                password_hash=password_hash,
                role=role.value,
                active=True,
                created_at=now,
            )
            .returning(User.id)
        )
        return int(result.scalar_one())

    async def by_username(self, username: str) -> UserRecord | None:
        row = (
            await self.session.execute(select(*_USER_COLUMNS).where(User.username == username))
        ).first()
        return _user(row) if row else None

    async def by_id(self, user_id: int) -> UserRecord | None:
        row = (await self.session.execute(select(*_USER_COLUMNS).where(User.id == user_id))).first()
        return _user(row) if row else None

    async def page(self, after: int, limit: int) -> Sequence[UserRecord]:
        rows = await self.session.execute(
            select(*_USER_COLUMNS).where(User.id > after).order_by(User.id).limit(limit)
        )
        return [_user(r) for r in rows]

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(password_hash=password_hash)
        )

    async def add_token(
        self, user_id: int, token_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        await self.session.execute(
            insert(ApiToken).values(
                user_id=user_id, token_hash=token_hash, created_at=now, expires_at=expires_at
            )
        )

    async def remove_token(self, token_hash: str) -> None:
        await self.session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash))

    async def remove_tokens_of(self, user_id: int) -> int:
        result = await self.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def by_token(self, token_hash: str) -> tuple[UserRecord, datetime] | None:
        row = (
            await self.session.execute(
                select(*_USER_COLUMNS, ApiToken.expires_at)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == token_hash)
            )
        ).first()
        if row is None:
            return None
        return _user(row), row[5]


_DEVICE_COLUMNS = (
    Device.id,
    Device.name,
    Device.location_id,
    Location.code,
    Device.status,
    Device.app_version,
    Device.enrolled_at,
    Device.revoked_at,
    Device.last_seen_at,
)

# The device behind a credential: every request of a device asks it (authentication), so
# the statement is built once (the compiled form is cached by SQLAlchemy either way) and
# run on the session's connection without the ORM's execution path. Never cached: a
# revoked device is refused at its very next request, whichever process revoked it.
_BY_CREDENTIAL = (
    select(*_DEVICE_COLUMNS)
    .join(Location, Location.id == Device.location_id)
    .where(Device.credential_hash == bindparam("credential_hash"))
)


class SqlDevices:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _select(
        self,
    ) -> Select[int, str, int, str, str, str, datetime, datetime | None, datetime | None]:
        return select(*_DEVICE_COLUMNS).join(Location, Location.id == Device.location_id)

    async def add_enrollment_code(
        self, code_hash: str, location_id: int, created_by: int, now: datetime, expires_at: datetime
    ) -> None:
        await self.session.execute(
            insert(EnrollmentCode).values(
                code_hash=code_hash,
                location_id=location_id,
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def claim_enrollment_code(
        self, code_hash: str, now: datetime
    ) -> EnrollmentCodeRecord | None:
        # One conditional UPDATE: of two devices racing with the same code, one wins.
        row = (
            await self.session.execute(
                update(EnrollmentCode)
                .where(
                    EnrollmentCode.code_hash == code_hash,
                    EnrollmentCode.used_at.is_(None),
                    EnrollmentCode.expires_at > now,
                )
                .values(used_at=now)
                .returning(
                    EnrollmentCode.id,
                    EnrollmentCode.location_id,
                    EnrollmentCode.expires_at,
                    EnrollmentCode.used_at,
                )
            )
        ).first()
        if row is None:
            return None
        return EnrollmentCodeRecord(int(row[0]), int(row[1]), row[2], row[3])

    async def add(
        self, name: str, location_id: int, credential_hash: str, app_version: str, now: datetime
    ) -> int:
        result = await self.session.execute(
            insert(Device)
            .values(
                name=name,
                location_id=location_id,
                credential_hash=credential_hash,
                status="active",
                app_version=app_version,
                enrolled_at=now,
            )
            .returning(Device.id)
        )
        return int(result.scalar_one())

    async def link_enrollment_code(self, code_id: int, device_id: int) -> None:
        await self.session.execute(
            update(EnrollmentCode).where(EnrollmentCode.id == code_id).values(device_id=device_id)
        )

    async def by_id(self, device_id: int) -> DeviceRecord | None:
        row = (await self.session.execute(self._select().where(Device.id == device_id))).first()
        return DeviceRecord(*row) if row else None

    async def by_credential(self, credential_hash: str) -> DeviceRecord | None:
        connection = await self.session.connection()
        row = (
            await connection.execute(_BY_CREDENTIAL, {"credential_hash": credential_hash})
        ).first()
        return DeviceRecord(*row) if row else None

    async def page(self, after: int, limit: int, location_id: int | None) -> Sequence[DeviceRecord]:
        query = self._select().where(Device.id > after)
        if location_id is not None:
            query = query.where(Device.location_id == location_id)
        rows = await self.session.execute(query.order_by(Device.id).limit(limit))
        return [DeviceRecord(*r) for r in rows]

    async def revoke(self, device_id: int, now: datetime) -> bool:
        exists = await self.session.scalar(select(Device.id).where(Device.id == device_id))
        if exists is None:
            return False
        await self.session.execute(
            update(Device)
            .where(Device.id == device_id, Device.status == "active")
            .values(status="revoked", revoked_at=now)
        )
        return True

    async def touch(self, device_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Device).where(Device.id == device_id).values(last_seen_at=now)
        )


class SqlCodes:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def location_id(self, code: str) -> int | None:
        value = await self.session.scalar(select(Location.id).where(Location.code == code))
        return None if value is None else int(value)


class SqlCounters:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def roster(self) -> list[CounterEntry]:
        """Every counter, and every other user with a PIN, by name, with their sites."""
        users = (
            await self.session.execute(
                select(User.id, User.username, User.role, User.active, CounterPin.set_at)
                .outerjoin(CounterPin, CounterPin.user_id == User.id)
                .where((User.role == Role.COUNTER.value) | CounterPin.user_id.is_not(None))
                .order_by(User.username)
            )
        ).all()
        sites: dict[int, list[str]] = {}
        for user_id, code in await self.session.execute(
            select(CounterSite.user_id, Location.code)
            .join(Location, Location.id == CounterSite.location_id)
            .order_by(Location.code)
        ):
            sites.setdefault(int(user_id), []).append(str(code))
        return [
            CounterEntry(str(name), Role(str(role)), bool(active), set_at, sites.get(int(i), []))
            for i, name, role, active, set_at in users
        ]

    async def set_pin(
        self,
        user_id: int,
        verifier: PinVerifier,
        location_ids: Sequence[int],
        by: int,
        now: datetime,
    ) -> None:
        """The counter's verifier and sites, replacing what they had."""
        await self.session.execute(delete(CounterPin).where(CounterPin.user_id == user_id))
        await self.session.execute(delete(CounterSite).where(CounterSite.user_id == user_id))
        await self.session.execute(
            insert(CounterPin).values(
                user_id=user_id,
                salt=verifier.salt,
                hash=verifier.hash,
                n=verifier.n,
                r=verifier.r,
                p=verifier.p,
                length=verifier.length,
                set_by=by,
                set_at=now,
            )
        )
        await self.session.execute(
            insert(CounterSite),
            [{"user_id": user_id, "location_id": i} for i in sorted(set(location_ids))],
        )

    async def set_active(self, user_id: int, active: bool, now: datetime) -> None:
        values: dict[str, object] = {"active": active}
        if not active:
            values["deactivated_at"] = now
        await self.session.execute(
            update(User).where(User.id == user_id, User.active.is_(not active)).values(**values)
        )


class SqlThrottle:
    """Failed attempts per key, counted by the database itself (an upsert that adds one), so
    two processes that see failures of one key at once both count."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def states(self, keys: Sequence[str]) -> list[ThrottleState]:
        rows = await self.session.execute(
            select(AuthThrottle.key, AuthThrottle.failures, AuthThrottle.locked_until).where(
                AuthThrottle.key.in_(keys)
            )
        )
        return [ThrottleState(str(r[0]), int(r[1]), r[2]) for r in rows]

    async def record_failure(
        self, key: str, now: datetime, policy: ThrottlePolicy
    ) -> ThrottleState:
        dialect = self.session.get_bind().dialect.name
        stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(AuthThrottle)
        failures = (
            await self.session.execute(
                stmt.values(key=key, failures=1, last_failed_at=now, locked_until=None)
                .on_conflict_do_update(
                    index_elements=["key"],
                    set_={"failures": AuthThrottle.failures + 1, "last_failed_at": now},
                )
                .returning(AuthThrottle.failures)
            )
        ).scalar_one()
        wait = policy.wait_after(int(failures))
        locked_until = now + wait if wait else None
        await self.session.execute(
            update(AuthThrottle).where(AuthThrottle.key == key).values(locked_until=locked_until)
        )
        return ThrottleState(key, int(failures), locked_until)

    async def clear(self, keys: Sequence[str]) -> None:
        await self.session.execute(delete(AuthThrottle).where(AuthThrottle.key.in_(keys)))
