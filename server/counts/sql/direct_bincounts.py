"""A lot of bin counts written on SQLite's driver connection in one hand-over.

Through SQLAlchemy a lot of 500 bin counts is about ten statements, each three or four
hand-overs to the aiosqlite connection's thread and an execution context that runs the
bind processors of some 2,000 parameter sets one by one (server.db.direct tells the same
of the journal). Here the lot's statements are compiled once (`server.db.direct.plan`:
the SQL, the order of its parameters and SQLAlchemy's own bind processors, so the stored
values are identical), their values processed on the way in, and the whole write runs in
one call on the connection's thread: the count's highest bin count id before, the headers'
executemany, their new ids (in order: an executemany takes its ids in order, and the count's
row is claimed by the caller), then the serials, the quantities and the bins' rows, each
one executemany. The engine's before/after_cursor_execute events see each statement, and
a driver error is raised as SQLAlchemy would raise it (`sqlalchemy.exc.IntegrityError` ...
with the sqlite3 error as its cause), as in server.db.direct.

`write_bin_counts` returns None where it does not apply (PostgreSQL, a connection that is
not aiosqlite's, no open transaction, a statement whose parameters are not the rows'): the
caller then writes through SQLAlchemy as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, case, exc, false, insert, null, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.counts import tables as _tables  # noqa: F401  (defines the tables named below)
from server.counts.ports import NewBinCount, SerialsById
from server.db import direct
from server.db.session import Connection
from server.db.writes import table

_HEADER_KEYS = (
    "count_id",
    "bin_id",
    "counter_id",
    "device_id",
    "counter",
    "started_at",
    "finished_at",
    "submitted_at",
)
_QUANTITY_KEYS = ("bin_count_id", "item_id", "lot", "quantity")
_BIN_KEYS = ("b_count", "b_bin", "b_started")

_HEADERS = insert(table("bin_count"))
_QUANTITIES = insert(table("bin_count_quantity"))
_count_bin = table("count_bin")
_ordered = _count_bin.c.recount_ordered_at
# The bin has a count that stands unless a recount ordered after this count's start waits
# for another; a new count also drops the supervisor's pick (as SqlBinCounts.add_bin_count).
_BINS = (
    update(_count_bin)
    .where(_count_bin.c.count_id == bindparam("b_count"), _count_bin.c.bin_id == bindparam("b_bin"))
    .values(
        picked_bin_count_id=null(),  # constants in the SQL: the rows hold only the keys
        awaiting_count=case(
            (or_(_ordered.is_(None), _ordered <= bindparam("b_started")), false()),
            else_=_count_bin.c.awaiting_count,
        ),
    )
)
_BEFORE = "SELECT max(id) FROM bin_count WHERE count_id = ?"
_NEW_IDS = "SELECT id FROM bin_count WHERE count_id = ? AND id > ? ORDER BY id"
_SERIALS = "INSERT INTO bin_count_serial (bin_count_id, item_id, serial_number) VALUES (?, ?, ?)"

_Processors = tuple[Callable[[Any], Any] | None, ...]


def _processed(
    names: tuple[str, ...],
    processors: _Processors,
    rows: Sequence[dict[str, Any]],
    ready: Collection[str] = (),
) -> list[tuple[Any, ...]]:
    """The rows' values in the statement's order, through the bind processors; `ready`:
    keys whose values are processed already."""
    steps = [(n, None if n in ready else p) for n, p in zip(names, processors, strict=True)]
    return [tuple(row[n] if p is None else p(row[n]) for n, p in steps) for row in rows]


def _processed_value(names: tuple[str, ...], processors: _Processors, name: str, value: Any) -> Any:
    p = processors[names.index(name)]
    return value if p is None else p(value)


async def write_bin_counts(
    conn: Connection, new: Sequence[NewBinCount], now: datetime
) -> list[int] | None:
    """The ids of `new`'s headers in order, all of `new` written in the open transaction;
    None (nothing written) where the direct path does not apply."""
    sync = conn.sync_connection if isinstance(conn, AsyncConnection) else None
    if conn.dialect.name != "sqlite" or sync is None or not sync.in_transaction():
        return None
    dbapi = sync._dbapi_connection
    driver = dbapi.driver_connection if dbapi is not None else None
    if driver is None or not hasattr(driver, "_execute"):
        return None
    dialect = conn.dialect
    headers = direct.plan(_HEADERS, dialect, _HEADER_KEYS)
    quantities = direct.plan(_QUANTITIES, dialect, _QUANTITY_KEYS)
    bins = direct.plan(_BINS, dialect, _BIN_KEYS)
    if headers is None or quantities is None or bins is None:
        return None
    q_sql, q_names, q_processors = quantities
    if q_names != _QUANTITY_KEYS or any(q_processors[:3]):
        return None  # the quantities' rows are made on the thread, ids first, as plain values
    to_quantity = q_processors[3] or (lambda q: q)
    count_id = new[0].count_id
    submitted_at = _processed_value(headers[1], headers[2], "submitted_at", now)  # once
    header_rows = _processed(
        headers[1],
        headers[2],
        [header_row(n, submitted_at) for n in new],
        ready=("submitted_at",),
    )
    latest: dict[int, datetime] = {}
    for n in new:
        if n.bin_id not in latest or latest[n.bin_id] < n.started_at:
            latest[n.bin_id] = n.started_at
    bin_rows = _processed(
        bins[1],
        bins[2],
        [{"b_count": count_id, "b_bin": b, "b_started": at} for b, at in latest.items()],
    )
    lines = [
        (n.serials, [(item, lot, to_quantity(q)) for (item, lot), q in n.quantities.items()])
        for n in new
    ]
    work = _Lot(count_id, headers[0], header_rows, lines, q_sql, bins[0], bin_rows)
    work.keep = bool(sync._has_events or sync.engine._has_events)
    # aiosqlite's own queue to its thread (what its executemany uses): one hand-over.
    failed = await driver._execute(work.run, driver._conn)
    # The engine's events on this thread, as SQLAlchemy's would run, once the lot is sent
    # (the serials' and quantities' rows are made on the connection's thread).
    for sql, params in work.executed:
        many = isinstance(params, list)
        sync.dispatch.before_cursor_execute(sync, None, sql, params, None, many)
        sync.dispatch.after_cursor_execute(sync, None, sql, params, None, many)
    if isinstance(failed, tuple):
        sql, params, error = failed
        raise exc.DBAPIError.instance(sql, params, error, sqlite3.Error) from error
    ids: list[int] = failed
    return ids


def header_row(n: NewBinCount, submitted_at: Any) -> dict[str, Any]:
    """A bin count's bin_count row, as both ways of writing a lot write it."""
    return {
        "count_id": n.count_id,
        "bin_id": n.bin_id,
        "counter_id": n.counter_id,
        "device_id": n.device_id,
        "counter": n.counter,
        "started_at": n.started_at,
        "finished_at": n.finished_at,
        "submitted_at": submitted_at,
    }


def serial_rows(
    ids: Sequence[int], serials: Sequence[Collection[tuple[int, str]]]
) -> list[tuple[int, int, str]]:
    """(bin count id, item id, serial number) of each bin count's serials (each row made
    once, in C, from a `SerialsById`)."""
    return list(
        chain.from_iterable(
            lines.rows(i) if isinstance(lines, SerialsById) else ((i, item, s) for item, s in lines)
            for i, lines in zip(ids, serials, strict=True)
        )
    )


class _Lot:
    """The lot's statements, run on the connection's thread by `run`."""

    def __init__(
        self,
        count_id: int,
        header_sql: str,
        header_rows: list[tuple[Any, ...]],
        lines: list[tuple[Any, list[tuple[int, str, Any]]]],
        quantity_sql: str,
        bin_sql: str,
        bin_rows: list[tuple[Any, ...]],
    ) -> None:
        self.count_id = count_id
        self.header_sql = header_sql
        self.header_rows = header_rows
        self.lines = lines
        self.quantity_sql = quantity_sql
        self.bin_sql = bin_sql
        self.bin_rows = bin_rows
        self.keep = False  # whether to keep what ran, for the engine's events
        self.executed: list[tuple[str, Any]] = []

    def run(self, raw: sqlite3.Connection) -> list[int] | tuple[str, Any, sqlite3.Error]:
        """The ids written, or the failed statement, its parameters and the error."""
        count_id = self.count_id
        statement: tuple[str, Any] = (_BEFORE, (count_id,))
        try:
            (before,) = self._one(raw, *statement, many=False)[0]
            statement = (self.header_sql, self.header_rows)
            self._one(raw, *statement, many=True)
            statement = (_NEW_IDS, (count_id, before or 0))
            ids = [int(i) for (i,) in self._one(raw, *statement, many=False)]
            if len(ids) != len(self.header_rows):
                raise RuntimeError(f"wrote {len(self.header_rows)} bin counts, found {len(ids)}")
            rows = serial_rows(ids, [lines for lines, _ in self.lines])
            if rows:
                statement = (_SERIALS, rows)
                self._one(raw, *statement, many=True)
            quantities = [
                (i, item, lot, q)
                for i, (_, lines) in zip(ids, self.lines, strict=True)
                for item, lot, q in lines
            ]
            if quantities:
                statement = (self.quantity_sql, quantities)
                self._one(raw, *statement, many=True)
            statement = (self.bin_sql, self.bin_rows)
            self._one(raw, *statement, many=True)
        except sqlite3.Error as error:
            return statement[0], statement[1], error
        return ids

    def _one(self, raw: sqlite3.Connection, sql: str, params: Any, *, many: bool) -> list[Any]:
        if many:
            raw.executemany(sql, params)
            rows: list[Any] = []
        else:
            rows = raw.execute(sql, params).fetchall()
        if self.keep:
            self.executed.append((sql, params))
        return rows
