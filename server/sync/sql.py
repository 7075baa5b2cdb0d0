"""SQL implementation of the SyncRepository port (server/sync/ports.py).

Ingest is set-based and spends few statements: one upsert of the install rows that also
reads the epoch, one query for the counts and bins the events name, multi-row INSERTs for
the events through the driver, one update of the high-water marks (for a whole group of
pushes when they share a transaction). The dialect's own INSERT (PostgreSQL or SQLite)
gives ON CONFLICT for the upserts on both backends.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from functools import cache
from itertools import repeat
from typing import Any

from sqlalchemy import Dialect, bindparam, case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.session import Connection, Session
from server.db.tables import (
    Base,
    Bin,
    CounterPin,
    CounterSite,
    Device,
    Item,
    ItemBarcode,
    Location,
    User,
)
from server.db.writes import LOOKUP_CHUNK, chunks
from server.domain import sync as domain
from server.sync.ports import (
    EventBinder,
    EventVerdict,
    InstallMarks,
    InstallSeen,
    InstallStatus,
    NewEvents,
    RefBin,
    RefItem,
    RefRecord,
    StoredEvent,
)
from server.sync.tables import (
    DeviceSettingsRow,
    SyncBinCount,
    SyncEvent,
    SyncInstall,
    SyncPullMark,
    SyncRef,
    SyncScope,
    SyncServer,
)

_EVENT_COLUMNS = (
    SyncEvent.id,
    SyncEvent.device_id,
    SyncEvent.install_id,
    SyncEvent.seq,
    SyncEvent.kind,
    SyncEvent.count_number,
    SyncEvent.bin_seq,
    SyncEvent.body,
    SyncEvent.device_time,
    SyncEvent.received_at,
    SyncEvent.outcome,
    SyncEvent.reason,
    SyncEvent.detail,
)


# Push statements, built once: a push runs each of them, and a prebuilt statement keeps
# its cache key (no per-call construction, no cache-key walk).
_INSTALL = Base.metadata.tables[SyncInstall.__tablename__]
_DEVICE = Base.metadata.tables[Device.__tablename__]
_SET_HIGH_WATER = update(_INSTALL).where(
    _INSTALL.c.device_id == bindparam("b_device_id"),
    _INSTALL.c.install_id == bindparam("b_install_id"),
)
_TOUCH_DEVICES = update(_DEVICE).where(_DEVICE.c.id.in_(bindparam("b_ids", expanding=True)))
# sync_event's columns as an insert binds them: device_id, install_id, a SyncEvent's seq,
# kind, count_number, bin_seq and body, device_time, received_at, then an EventVerdict
# (server/sync/ports.py).
_EVENT_NAMES = tuple(c.name for c in SyncEvent.__table__.c if c.name != "id")
if _EVENT_NAMES[7:9] != ("device_time", "received_at") or len(_EVENT_NAMES) != 12:
    raise RuntimeError("sync_event's columns must be as _bound_rows binds them")


@cache
def _install_upsert(dialect: str) -> Any:
    """Insert the install rows or, where they exist, update their status: the statement
    that locks them (PostgreSQL: row locks; SQLite: the write lock) and returns their
    high-water marks and the server's epoch. An empty app version keeps the stored one.
    Executed with a list of rows: one multi-row INSERT (insertmanyvalues)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_INSTALL)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["device_id", "install_id"],
        set_={
            "last_seen_at": excluded.last_seen_at,
            "queue_depth": excluded.queue_depth,
            "clock_skew_ms": excluded.clock_skew_ms,
            "app_version": case(
                (excluded.app_version == "", _INSTALL.c.app_version),
                else_=excluded.app_version,
            ),
        },
    ).returning(
        _INSTALL.c.device_id,
        _INSTALL.c.install_id,
        _INSTALL.c.high_water,
        select(SyncServer.epoch).scalar_subquery(),
    )


_Processor = Callable[[Any], Any]
_TIME_PROCESSORS: dict[type[Dialect], tuple[_Processor, _Processor]] = {}


def _time_processors(dialect: Dialect) -> tuple[_Processor, _Processor]:
    """The bind processors of sync_event's device_time and received_at on this dialect
    (the same for every engine of a dialect class)."""
    found = _TIME_PROCESSORS.get(type(dialect))
    if found is None:
        device_time, received_at = (
            SyncEvent.__table__.c[name].type.dialect_impl(dialect).bind_processor(dialect) or _same
            for name in ("device_time", "received_at")
        )
        found = _TIME_PROCESSORS[type(dialect)] = (device_time, received_at)
    return found


def _same(value: Any) -> Any:
    return value


_APPLIED_VERDICT: EventVerdict = ("applied", "", "")


def _bound_rows(
    device_id: int,
    install_id: str,
    events: Sequence[domain.SyncEvent],
    at: datetime,
    verdicts: Iterable[EventVerdict],
    dialect: Dialect,
) -> list[tuple[Any, ...]]:
    """The events' whole rows as the driver takes them: the times through their columns'
    bind processors."""
    device_time, received_at = _time_processors(dialect)
    bound_at = received_at(at)
    return [
        (device_id, install_id, seq, kind, count, bin_seq, body, device_time(t), bound_at, *v)
        for (seq, kind, count, _, bin_seq, t, body, _), v in zip(events, verdicts, strict=True)
    ]


@cache
def _max_parameters(dialect: str) -> int:
    """Bound parameters one statement may hold: PostgreSQL 32,767; SQLite 32,766 since
    3.32 (999 before)."""
    if dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 32, 0):
        return 999
    return 32_766


@cache
def _event_insert_sql(paramstyle: str, rows: int) -> str:
    names = _EVENT_NAMES
    if paramstyle == "qmark":
        one = "(" + ", ".join("?" for _ in names) + ")"
        groups = [one] * rows
    elif paramstyle == "numeric_dollar":
        width = len(names)
        groups = [
            "(" + ", ".join(f"${r * width + i + 1}" for i in range(width)) + ")"
            for r in range(rows)
        ]
    else:  # pragma: no cover - the two dialects the app supports
        raise RuntimeError(f"no event insert for paramstyle {paramstyle}")
    # Column names and placeholders only: every value is bound.
    return f"INSERT INTO sync_event ({', '.join(names)}) VALUES {', '.join(groups)}"  # noqa: S608


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(*row)


def new_epoch() -> str:
    return uuid.uuid4().hex


class SqlSync:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self.session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        return self.session.begin_nested()

    # -- the epoch ---------------------------------------------------------------------

    async def epoch(self) -> str:
        return str((await self.session.execute(select(SyncServer.epoch))).scalar_one())

    async def renew_epoch(self) -> str:
        epoch = new_epoch()
        await self.session.execute(
            update(SyncServer).values(epoch=epoch, generation=SyncServer.generation + 1)
        )
        return epoch

    # -- push --------------------------------------------------------------------------

    async def lock_installs(self, installs: Sequence[InstallSeen]) -> InstallMarks:
        """One upsert for every install (the last status of each wins), in key order."""
        last = {(i.device_id, i.install_id): i for i in installs}
        conn = await self.session.connection()
        rows = await conn.execute(
            _install_upsert(conn.dialect.name),
            [
                {
                    "device_id": i.device_id,
                    "install_id": i.install_id,
                    "high_water": 0,
                    "first_seen_at": i.seen_at,
                    "last_seen_at": i.seen_at,
                    "queue_depth": i.queue_depth,
                    "app_version": i.app_version,
                    "clock_skew_ms": i.clock_skew_ms,
                }
                for _, i in sorted(last.items())
            ],
        )
        marks: dict[tuple[int, str], int] = {}
        epochs: set[str] = set()
        for device_id, install_id, high_water, epoch in rows:
            marks[(int(device_id), str(install_id))] = int(high_water)
            epochs.add(str(epoch))
        (epoch,) = epochs  # one statement: one epoch
        return InstallMarks(marks, epoch)

    async def set_high_waters(self, marks: Mapping[tuple[int, str], int]) -> None:
        if not marks:
            return
        conn = await self.session.connection()
        await conn.execute(
            _SET_HIGH_WATER,
            [
                {"b_device_id": device_id, "b_install_id": install_id, "high_water": mark}
                for (device_id, install_id), mark in sorted(marks.items())
            ],
        )

    async def touch_devices(self, device_ids: Collection[int], now: datetime) -> None:
        conn = await self.session.connection()
        await conn.execute(_TOUCH_DEVICES, {"b_ids": sorted(device_ids), "last_seen_at": now})

    async def stored(
        self, device_id: int, install_id: str, seqs: Collection[int]
    ) -> dict[int, StoredEvent]:
        found: dict[int, StoredEvent] = {}
        for batch in chunks(seqs, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(*_EVENT_COLUMNS).where(
                    SyncEvent.device_id == device_id,
                    SyncEvent.install_id == install_id,
                    SyncEvent.seq.in_(batch),
                )
            )
            for row in rows:
                event = _stored(row)
                found[event.seq] = event
        return found

    async def insert_events(self, pushes: Sequence[NewEvents]) -> None:
        """The events as multi-row `INSERT ... VALUES (...), (...)` statements (500 events:
        one statement) through the driver, the times bound by their columns' own
        SQLAlchemy bind processors (so stored exactly as a Core insert stores them).

        Not an executemany: the sqlite3 module releases and retakes the GIL around every
        row's step, and while the event loop is busy each retake waits up to the switch
        interval, so a 500-row executemany on aiosqlite's thread took 30-100 ms beside a
        busy loop against about 4 ms alone. One statement is one step.

        The install row's lock and its contiguous high-water mark guarantee that no seq
        above it is stored, so a conflict here is a bug: it raises and the whole batch
        rolls back (never doubled)."""
        conn = await self.session.connection()
        dialect = conn.dialect
        width = len(_EVENT_NAMES)
        values: list[Any] = []
        for push in pushes:
            rows = push.bound or _bound_rows(
                push.device_id,
                push.install_id,
                push.events,
                push.received_at,
                push.verdicts,
                dialect,
            )
            for row in rows:
                values += row
        step = _max_parameters(dialect.name) // width
        for first in range(0, len(values) // width, step):
            await self._insert_rows(conn, values[first * width : (first + step) * width])

    @staticmethod
    def binder(dialect: Dialect) -> EventBinder:
        """The EventBinder of this dialect: the rows insert_events stores for applied
        events, made before the transaction."""

        def bind(
            device_id: int, install_id: str, events: Sequence[domain.SyncEvent], at: datetime
        ) -> list[tuple[Any, ...]]:
            verdicts = repeat(_APPLIED_VERDICT, len(events))
            return _bound_rows(device_id, install_id, events, at, verdicts, dialect)

        return bind

    @staticmethod
    async def prime(conn: AsyncConnection) -> None:
        """Prepare a full push's event INSERT (MAX_PUSH_EVENTS rows, 6,000 parameters) on
        a connection of the app's pool before the server serves, in the statement cache
        the driver adapter keeps per connection, where `insert_events` finds it. The one
        statement of the push path whose preparation is dear: ~7 ms of PostgreSQL and ~5 ms
        of the event loop, paid on each connection's first full push. Prepared only, never
        run: nothing is written and no id is drawn.

        PostgreSQL (asyncpg) only: SQLite's pushes go through the writer's own connection,
        and sqlite3 prepares in microseconds. The adapter's cache is SQLAlchemy's, not a
        public API: an adapter without it is left alone (prepared on first use, as before;
        tests/integration/test_sync_prime.py fails then)."""
        if conn.dialect.name != "postgresql":
            return
        adapted = (await conn.get_raw_connection()).dbapi_connection
        prepare = getattr(adapted, "_prepare", None)
        if prepare is None:  # pragma: no cover - another driver or SQLAlchemy version
            return
        sql = _event_insert_sql(conn.dialect.paramstyle, domain.MAX_PUSH_EVENTS)
        await prepare(sql, getattr(adapted, "_invalidate_schema_cache_asof", 0))

    @staticmethod
    async def _insert_rows(conn: Connection, values: list[Any]) -> None:
        rows = len(values) // len(_EVENT_NAMES)
        await conn.exec_driver_sql(_event_insert_sql(conn.dialect.paramstyle, rows), tuple(values))

    async def bin_events(
        self, device_id: int, install_id: str, bin_seqs: Collection[int]
    ) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        for batch in chunks(bin_seqs, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(*_EVENT_COLUMNS)
                .where(
                    SyncEvent.device_id == device_id,
                    SyncEvent.install_id == install_id,
                    SyncEvent.bin_seq.in_(batch),
                )
                .order_by(SyncEvent.seq)
            )
            found.extend(_stored(r) for r in rows)
        return found

    async def bin_count_source(self, device_id: int, install_id: str, bin_seq: int) -> bool:
        found = await self.session.execute(
            select(SyncBinCount.bin_count_id).where(
                SyncBinCount.device_id == device_id,
                SyncBinCount.install_id == install_id,
                SyncBinCount.bin_seq == bin_seq,
            )
        )
        return found.first() is not None

    async def add_bin_count_source(
        self, device_id: int, install_id: str, bin_seq: int, bin_count_id: int
    ) -> None:
        await self.session.execute(
            self._insert(SyncBinCount).values(
                device_id=device_id,
                install_id=install_id,
                bin_seq=bin_seq,
                bin_count_id=bin_count_id,
            )
        )

    # -- supervisors -------------------------------------------------------------------

    async def installs(self, location_id: int | None) -> list[InstallStatus]:
        devices = select(Device.id, Device.name, Location.code, Device.status).join(
            Location, Location.id == Device.location_id
        )
        if location_id is not None:
            devices = devices.where(Device.location_id == location_id)
        found = list(await self.session.execute(devices.order_by(Device.id)))
        latest: dict[int, Any] = {}
        ids = [int(r[0]) for r in found]
        for batch in chunks(ids, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(
                    SyncInstall.device_id,
                    SyncInstall.install_id,
                    SyncInstall.last_seen_at,
                    SyncInstall.high_water,
                    SyncInstall.queue_depth,
                    SyncInstall.app_version,
                    SyncInstall.clock_skew_ms,
                ).where(SyncInstall.device_id.in_(batch))
            )
            for row in rows:
                kept = latest.get(int(row[0]))
                if kept is None or row[2] > kept[2]:
                    latest[int(row[0])] = row
        result: list[InstallStatus] = []
        for device_id, name, location, status in found:
            last = latest.get(int(device_id))
            if last is None:
                result.append(
                    InstallStatus(int(device_id), name, location, status, None, None, 0, 0, "", 0)
                )
            else:
                result.append(
                    InstallStatus(
                        int(device_id),
                        name,
                        location,
                        status,
                        last[1],
                        last[2],
                        int(last[3]),
                        int(last[4]),
                        last[5],
                        int(last[6]),
                    )
                )
        return result

    async def rejected(
        self, after: int, limit: int, device_id: int | None, count: str | None
    ) -> list[StoredEvent]:
        query = select(*_EVENT_COLUMNS).where(SyncEvent.outcome == "rejected", SyncEvent.id > after)
        if device_id is not None:
            query = query.where(SyncEvent.device_id == device_id)
        if count is not None:
            query = query.where(SyncEvent.count_number == count)
        rows = await self.session.execute(query.order_by(SyncEvent.id).limit(limit))
        return [_stored(r) for r in rows]

    # -- pull --------------------------------------------------------------------------

    async def lock_scope(self, location_id: int) -> int:
        stmt = self._insert(SyncScope).values(location_id=location_id, change_seq=0)
        stmt = stmt.on_conflict_do_update(
            index_elements=["location_id"], set_={"change_seq": SyncScope.change_seq}
        ).returning(SyncScope.change_seq)
        return int((await self.session.execute(stmt)).scalar_one())

    async def pulled_mark(self, device_id: int) -> int:
        found = await self.session.scalar(
            select(SyncPullMark.change_seq).where(SyncPullMark.device_id == device_id)
        )
        return int(found or 0)

    async def set_pulled_mark(self, device_id: int, change_seq: int) -> None:
        stmt = self._insert(SyncPullMark).values(device_id=device_id, change_seq=change_seq)
        stmt = stmt.on_conflict_do_update(
            index_elements=["device_id"], set_={"change_seq": stmt.excluded.change_seq}
        )
        await self.session.execute(stmt)

    async def set_scope(self, location_id: int, change_seq: int) -> None:
        await self.session.execute(
            update(SyncScope)
            .where(SyncScope.location_id == location_id)
            .values(change_seq=change_seq)
        )

    async def ref_digests(self, location_id: int) -> dict[tuple[str, str], str]:
        rows = await self.session.execute(
            select(SyncRef.kind, SyncRef.ref_key, SyncRef.digest).where(
                SyncRef.location_id == location_id
            )
        )
        return {(str(k), str(key)): str(d) for k, key, d in rows}

    async def upsert_refs(self, location_id: int, rows: Sequence[RefRecord]) -> None:
        stmt = self._insert(SyncRef)
        stmt = stmt.on_conflict_do_update(
            index_elements=["location_id", "kind", "ref_key"],
            set_={
                "digest": stmt.excluded.digest,
                "change_seq": stmt.excluded.change_seq,
                "body": stmt.excluded.body,
            },
        )
        await self.session.execute(
            stmt,
            [
                {
                    "location_id": location_id,
                    "kind": r.kind,
                    "ref_key": r.ref_key,
                    "digest": r.digest,
                    "change_seq": r.change_seq,
                    "body": r.body,
                }
                for r in rows
            ],
        )

    async def ref_page(self, location_id: int, after: int, limit: int) -> list[RefRecord]:
        rows = await self.session.execute(
            select(SyncRef.kind, SyncRef.ref_key, SyncRef.digest, SyncRef.change_seq, SyncRef.body)
            .where(SyncRef.location_id == location_id, SyncRef.change_seq > after)
            .order_by(SyncRef.change_seq)
            .limit(limit)
        )
        return [RefRecord(str(k), str(key), str(d), int(s), str(b)) for k, key, d, s, b in rows]

    async def ref_bins(self, location_id: int) -> list[RefBin]:
        rows = await self.session.execute(
            select(Location.code, Bin.label, Bin.kind)
            .join(Location, Location.id == Bin.location_id)
            .where(Bin.location_id == location_id)
        )
        return [RefBin(str(loc), str(label), str(kind)) for loc, label, kind in rows]

    async def ref_items(self) -> list[RefItem]:
        barcodes: dict[int, list[str]] = {}
        for item_id, barcode in await self.session.execute(
            select(ItemBarcode.item_id, ItemBarcode.barcode)
        ):
            barcodes.setdefault(int(item_id), []).append(str(barcode))
        rows = await self.session.execute(
            select(
                Item.id,
                Item.code,
                Item.name,
                Item.tracking,
                Item.auto_serialized,
                Item.uom,
                Item.count_mode,
            )
        )
        return [
            RefItem(
                str(code),
                str(name),
                str(tracking),
                bool(auto),
                str(uom),
                barcodes.get(i, []),
                str(mode),
            )
            for i, code, name, tracking, auto, uom, mode in rows
        ]

    # -- counters and the site's device settings

    async def counters(self, usernames: Collection[str]) -> dict[str, domain.CounterFacts]:
        """The users named who have a PIN, with their sites and deactivation."""
        if not usernames:
            return {}
        sites: dict[int, set[int]] = {}
        found: dict[str, tuple[int, bool, datetime | None]] = {}
        rows = await self.session.execute(
            select(
                User.id, User.username, User.active, User.deactivated_at, CounterSite.location_id
            )
            .join(CounterPin, CounterPin.user_id == User.id)
            .outerjoin(CounterSite, CounterSite.user_id == User.id)
            .where(User.username.in_(sorted(usernames)))
        )
        for user_id, name, active, deactivated_at, location_id in rows:
            found[str(name)] = (int(user_id), bool(active), deactivated_at)
            if location_id is not None:
                sites.setdefault(int(user_id), set()).add(int(location_id))
        return {
            name: domain.CounterFacts(
                name,
                user_id,
                frozenset(sites.get(user_id, ())),
                # An inactive user with no time recorded: refused whenever they scanned.
                None if active else (deactivated_at or datetime.min.replace(tzinfo=UTC)),
            )
            for name, (user_id, active, deactivated_at) in found.items()
        }

    async def site_counters(self, location_id: int) -> list[domain.CounterRef]:
        rows = await self.session.execute(
            select(
                User.username,
                CounterPin.salt,
                CounterPin.hash,
                CounterPin.n,
                CounterPin.r,
                CounterPin.p,
                CounterPin.length,
            )
            .join(CounterPin, CounterPin.user_id == User.id)
            .join(CounterSite, CounterSite.user_id == User.id)
            .where(CounterSite.location_id == location_id, User.active.is_(True))
            .order_by(User.username)
        )
        return [
            domain.CounterRef(
                str(name), domain.VerifierRef(str(salt), str(h), int(n), int(r), int(p), int(k))
            )
            for name, salt, h, n, r, p, k in rows
        ]

    async def device_settings(self, location_id: int) -> domain.DeviceSettings:
        row = (
            await self.session.execute(
                select(
                    DeviceSettingsRow.bin_pattern,
                    DeviceSettingsRow.gs_replacement,
                    DeviceSettingsRow.aim_prefixes,
                    DeviceSettingsRow.idle_sign_out_minutes,
                    DeviceSettingsRow.pin_attempts,
                ).where(DeviceSettingsRow.location_id == location_id)
            )
        ).first()
        if row is None:
            return domain.DeviceSettings()
        return domain.DeviceSettings(
            str(row[0]), str(row[1]), bool(row[2]), int(row[3]), int(row[4])
        )

    async def set_device_settings(
        self, location_id: int, settings: domain.DeviceSettings, by: int | None, now: datetime
    ) -> None:
        values = {
            "bin_pattern": settings.bin_pattern,
            "gs_replacement": settings.gs_replacement,
            "aim_prefixes": settings.aim_prefixes,
            "idle_sign_out_minutes": settings.idle_sign_out_minutes,
            "pin_attempts": settings.pin_attempts,
            "updated_at": now,
            "updated_by": by,
        }
        done = await self.session.execute(
            update(DeviceSettingsRow)
            .where(DeviceSettingsRow.location_id == location_id)
            .values(**values)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            await self.session.execute(
                insert(DeviceSettingsRow).values(location_id=location_id, **values)
            )
