"""Fixed Core statements executed on SQLite's driver connection, in one hand-over each.

Through SQLAlchemy's aiosqlite adapter an executemany is three or four hand-overs to the
connection's thread (a cursor, the statement, closing the cursor), each a wake-up of the
event loop, and SQLAlchemy builds an execution context and runs the bind processors of
every value on the way. A journal save writes seven such statements and a count's
finalize a few dozen chunks. `executemany` sends a module-level statement to the driver
itself: compiled once per dialect and set of keys (the SQL string and the order of its
parameters), the values processed by the same bind processors SQLAlchemy would run (so
the stored values are identical: scaled integers, ISO dates and timestamps), then one
`executemany` on the aiosqlite connection, one hand-over. `Writes` sends several such
statements in one hand-over (the posting writer's writes of a result), `fetchall` reads
a SELECT (or a write's RETURNING rows) with its IN lists expanded as SQLAlchemy expands
them, and `insert_returning` sends an INSERT ... RETURNING for many rows as one
multi-row statement per page, as SQLAlchemy's insertmanyvalues does. `together` runs a
whole piece of work (a journal save before its commit) on the connection's thread, so
that all its statements, these and SQLAlchemy's own, make one hand-over between them.

It runs inside the session's open transaction (the statement goes to the connection the
transaction holds; SQLite's implicit BEGIN has been sent by an earlier statement, and
without one SQLAlchemy's own path is taken). The engine's before/after_cursor_execute
events see the statement as they would through SQLAlchemy, and a driver error is raised
as SQLAlchemy would raise it (`sqlalchemy.exc.IntegrityError` ... with the sqlite3 error
as its cause). Anything else (PostgreSQL, the blocking writer's connection, a statement
whose parameters are not all in the rows) goes through SQLAlchemy as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from itertools import repeat
from operator import is_, itemgetter
from typing import Any, TypeVar
from weakref import WeakSet

from sqlalchemy import Date, DateTime, Dialect, Engine, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.pool import Pool, QueuePool

from server.db.session import Connection, Session

T = TypeVar("T")

_Plan = tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]
# (id of the statement, dialect, keys) -> (the statement, kept alive so its id stays its
# own; its plan, or None when its parameters are not all in the rows)
_PLANS: dict[tuple[int, str, tuple[str, ...]], tuple[Any, _Plan | None]] = {}


_CONNECTION = "direct_connection"


async def connection(session: Session) -> Connection:
    """`session.connection()`, without its hand-over to a greenlet when the session's
    transaction already holds the connection: a save asks for it seven times.

    The connection is kept in `session.info` beside the session's transaction (public
    `get_transaction`): a transaction holds its connection until it ends, and a new
    transaction (after a commit or a rollback) is a new object, so the kept connection
    is only ever given back inside the transaction that checked it out."""
    if not isinstance(session, AsyncSession):
        return await session.connection()
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if (
        transaction is not None
        and kept is not None
        and kept[0] is transaction
        and transaction.is_active
        and kept[1].sync_connection.in_transaction()
    ):
        conn: Connection = kept[1]
        return conn
    found = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), found)
    return found


def _params(
    names: tuple[str, ...],
    processors: tuple[Callable[[Any], Any] | None, ...],
    rows: Sequence[Mapping[str, Any]],
) -> list[tuple[Any, ...]]:
    """The rows' values in the statement's order, through the bind processors."""
    return _processed_values(processors, _picked(rows, names))


def _ordered(
    names: tuple[str, ...], keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> Sequence[tuple[Any, ...]]:
    """Rows given as tuples in the order of `keys`, in the statement's order (`names`)."""
    if names == keys:
        return rows
    return _picked(rows, [keys.index(n) for n in names])


def _picked(rows: Sequence[Any], keys: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Each row's values at `keys` (names of a mapping, indexes of a tuple), as a tuple
    (itemgetter gives a bare value for one key)."""
    if len(keys) == 1:
        only = keys[0]
        return [(row[only],) for row in rows]
    return list(map(itemgetter(*keys), rows))


def _processed_values(
    processors: tuple[Callable[[Any], Any] | None, ...], values: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """`values` through the bind processors, column by column (a processor is looked up
    once per column, not once per value)."""
    processed = [(i, p) for i, p in enumerate(processors) if p is not None]
    if not processed or not values:
        return list(values)
    columns: list[Any] = list(zip(*values, strict=True))
    for i, p in processed:
        column = columns[i]
        first = column[0]
        # One object in every row (a document's number, date and time of posting, a
        # shared zero): processed once. The same object, not an equal one: equal
        # timestamps in two zones are written differently.
        if column.count(first) == len(column) and all(map(is_, column, repeat(first))):
            columns[i] = (p(first),) * len(column)
        else:
            columns[i] = map(p, column)
    return list(zip(*columns, strict=True))


def _bind_processor(processor: Callable[[Any], Any] | None, type_: Any) -> Any:
    """A date or time column's processor remembers its last values: the rows of one
    document carry the same dates and timestamps, each formatted by SQLAlchemy in a few
    microseconds. Keyed by the value and its tzinfo (equal aware values in one zone
    format alike); other types' processors as they are."""
    if processor is None or type_._type_affinity not in (Date, DateTime):
        return processor
    format_once = lru_cache(maxsize=64)(lambda key: processor(key[0]))

    def process(value: Any) -> Any:
        return format_once((value, getattr(value, "tzinfo", None)))

    return process


def plan(statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """The SQL, parameter names in order and their bind processors, compiled once."""
    key = (id(statement), dialect.name, keys)
    found = _PLANS.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    made: _Plan | None = None
    if set(names) <= set(keys) and not compiled.literal_execute_params:
        processors = compiled._bind_processors
        made = (
            compiled.string,
            names,
            tuple(_bind_processor(processors.get(n), compiled.binds[n].type) for n in names),
        )
    _PLANS[key] = (statement, made)
    return made


async def executemany(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute `statement` (a module-level INSERT or DML without RESULT rows) once per row,
    in the transaction `conn` is in."""
    writes = Writes(conn)
    await writes.add(statement, rows)
    await writes.flush()


# Rows held before a flush: a count's finalize writes hundreds of thousands.
_MOST_PENDING = 20_000


class Writes:
    """Writes sent together: on SQLite's aiosqlite connection, the statements added run
    in the order added, in one hand-over at `flush` (a statement `plan` refuses flushes
    those before it and goes through SQLAlchemy). Elsewhere each runs when added.
    Nothing added is sent until `flush`: the caller flushes before it reads or returns."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        sync = conn.sync_connection if isinstance(conn, AsyncConnection) else None
        self._dialect = conn.dialect
        self.dialect_name: str = self._dialect.name
        self._sync = sync if self.dialect_name == "sqlite" else None
        self._pending: list[tuple[str, list[tuple[Any, ...]]]] = []
        self._rows = 0

    async def add(self, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        found = self._plan(statement, tuple(rows[0]))
        if found is None:
            await self.flush()
            await self._conn.execute(statement, list(rows))
            return
        sql, names, processors = found
        await self._queue(sql, _params(names, processors, rows))

    async def add_tuples(
        self, statement: Any, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """As `add`, each row a tuple of its values in the order of `keys`: no mapping a
        row to make and read back (a posting's movements and GL lines, a journal line's
        sides)."""
        if not rows:
            return
        found = self._plan(statement, keys)
        if found is None:
            await self.flush()
            await self._conn.execute(statement, [dict(zip(keys, row, strict=True)) for row in rows])
            return
        sql, names, processors = found
        await self._queue(sql, _processed_values(processors, _ordered(names, keys, rows)))

    def _plan(self, statement: Any, keys: tuple[str, ...]) -> _Plan | None:
        sync = self._sync
        if sync is None or not sync.in_transaction():
            return None
        return plan(statement, self._dialect, keys)

    async def _queue(self, sql: str, params: list[tuple[Any, ...]]) -> None:
        self._pending.append((sql, params))
        self._rows += len(params)
        if self._rows >= _MOST_PENDING:
            await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        work, self._pending, self._rows = self._pending, [], 0
        sync = self._sync
        assert sync is not None and isinstance(self._conn, AsyncConnection)
        events = sync._has_events or sync.engine._has_events
        if events:
            for sql, params in work:
                sync.dispatch.before_cursor_execute(sync, None, sql, params, None, True)
        driver = await _driver(self._conn)
        # aiosqlite's own queue to its thread (what its executemany uses), with every
        # statement in one call: one hand-over for all.
        failed = await driver._execute(_run_all, driver._conn, work)
        if failed is not None:
            sql, params, error = failed
            raise exc.DBAPIError.instance(sql, params, error, sqlite3.Error) from error
        if events:
            for sql, params in work:
                sync.dispatch.after_cursor_execute(sync, None, sql, params, None, True)


def _sqlite_in_transaction(conn: Connection) -> Any:
    """The Connection under `conn` when it is SQLite's and in a transaction, else None
    (read from it: AsyncConnection's `dialect` is two properties deep)."""
    sync = conn.sync_connection if isinstance(conn, AsyncConnection) else None
    if sync is None or sync.dialect.name != "sqlite" or not sync.in_transaction():
        return None
    return sync


def sqlite_snapshot_engine(conn: Connection) -> Engine | None:
    """The engine of `conn` when it is SQLite's and SQLite itself has a transaction open
    on it (sqlite3 opens one only before a write: after `write_lock`, say), so that every
    read until it ends sees one snapshot of the database; else None."""
    sync = _sqlite_in_transaction(conn)
    if sync is None or sync._dbapi_connection is None:
        return None
    driver = sync._dbapi_connection.driver_connection
    sqlite = getattr(driver, "_conn", None)  # aiosqlite's sqlite3 connection
    if sqlite is None or not sqlite.in_transaction:
        return None
    engine: Engine = sync.engine
    return engine


async def _driver(conn: Connection) -> Any:
    """The aiosqlite connection under `conn`: the one its open transaction holds, else
    through SQLAlchemy (a hand-over to a greenlet, which may revalidate the connection)."""
    sync = conn.sync_connection if isinstance(conn, AsyncConnection) else None
    if sync is not None and sync._dbapi_connection is not None and sync.in_transaction():
        driver = sync._dbapi_connection.driver_connection
        assert driver is not None
        return driver
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


async def write_lock(conn: Connection) -> bool:
    """SQLite: take the database's write lock for the rest of this transaction, now,
    with `BEGIN IMMEDIATE`, when the driver has no transaction open yet; True once the
    lock is held (also when an earlier write of this transaction took it already: the
    driver opens its transaction only before a write). It waits for another writer as a
    write does (busy_timeout), and every read after it sees the database as that lock
    leaves it. False elsewhere (PostgreSQL, the blocking writer's connection): nothing
    sent, the caller locks its own way."""
    sync = _sqlite_in_transaction(conn)
    if sync is None:
        return False
    driver = await _driver(conn)
    # Read while the connection's thread runs this (inside `together`) or is idle: this
    # session holds the connection until it gives it back.
    if not driver._conn.in_transaction:
        await _fetch_all(sync, driver, "BEGIN IMMEDIATE", ())
    return True


def _run_all(
    raw: sqlite3.Connection, work: list[tuple[str, list[tuple[Any, ...]]]]
) -> tuple[str, list[tuple[Any, ...]], sqlite3.Error] | None:
    """On the connection's thread: each statement in turn, stopping at the first error."""
    for sql, params in work:
        try:
            raw.executemany(sql, params)
        except sqlite3.Error as error:
            return sql, params, error
    return None


# (id of the statement, dialect) -> (the statement, its compiled form, the result
# processors of its columns)
_READS: dict[tuple[int, str], tuple[Any, Any, tuple[Callable[[Any], Any] | None, ...]]] = {}


def _compiled_read(statement: Any, dialect: Dialect) -> tuple[Any, Any, tuple[Any, ...]]:
    key = (id(statement), dialect.name)
    found = _READS.get(key)
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        results = tuple(
            c.type._cached_result_processor(dialect, None) for c in compiled._result_columns
        )
        found = _READS[key] = (statement, compiled, results)
    return found


async def fetchall(conn: Connection, statement: Any, params: Mapping[str, Any]) -> list[Any]:
    """The rows of `statement` (a module-level SELECT, or a write with RETURNING, whose
    expanding IN parameters are expanded here as SQLAlchemy expands them), as tuples of
    the values SQLAlchemy would give: one hand-over on SQLite's aiosqlite connection."""
    sync = _sqlite_in_transaction(conn)
    if sync is None:
        return list(await conn.execute(statement, dict(params)))
    _, compiled, results = _compiled_read(statement, sync.dialect)
    sql, values = _expanded(statement, compiled, "sqlite", params)
    rows = await _fetch_all(sync, await _driver(conn), sql, values)
    return _processed(rows, results)


async def _fetch_all(sync: Any, driver: Any, sql: str, values: Sequence[Any]) -> Any:
    """`sql` run on the driver and its rows fetched, the engine's cursor events fired
    around it, a driver error raised as SQLAlchemy raises it."""
    events = sync._has_events or sync.engine._has_events
    if events:
        sync.dispatch.before_cursor_execute(sync, None, sql, values, None, False)
    try:
        # aiosqlite's `execute_fetchall` without its awaitable context-manager wrapper.
        rows = await driver._execute(driver._execute_fetchall, sql, values)
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(sql, values, error, sqlite3.Error) from error
    if events:
        sync.dispatch.after_cursor_execute(sync, None, sql, values, None, False)
    return rows


# (id of the statement, dialect, lengths of its IN lists) -> (the statement, the expanded
# SQL, and per positional parameter: its parameter's name (None for a value of the
# statement's own), its index in an IN list (or None), its bind processor, the statement's
# own value already processed); None when the values do not follow from the lengths alone.
_Step = tuple[str | None, int | None, Callable[[Any], Any] | None, Any]
_Recipe = tuple[str, tuple[_Step, ...]]
_EXPANSIONS: dict[tuple[Any, ...], tuple[Any, _Recipe | None]] = {}
_MOST_EXPANSIONS = 2_000


def _shape(params: Mapping[str, Any]) -> tuple[int, ...] | None:
    """Per parameter, the length of its list (or tuple), -1 for a single value; None when
    one is a set or frozenset (unordered)."""
    shape = []
    for value in params.values():
        if isinstance(value, (list, tuple)):
            shape.append(len(value))
        elif isinstance(value, (set, frozenset)):
            return None
        else:
            shape.append(-1)
    return tuple(shape)


def _expanded(
    statement: Any, compiled: Any, dialect: str, params: Mapping[str, Any]
) -> tuple[str, tuple[Any, ...]]:
    """The SQL with its IN lists expanded, and its positional values through the bind
    processors, as SQLAlchemy's `construct_expanded_state` makes them: made once per
    statement and lengths of its lists (a save's facts have the same shapes again and
    again), checked against SQLAlchemy's own on that first time."""
    shape = _shape(params)
    # A set's order is its own: looked up by index it could differ from SQLAlchemy's.
    ordered = shape is not None
    key = (id(statement), dialect, tuple(params), shape)
    found = _EXPANSIONS.get(key) if ordered else None
    if found is not None and found[0] is statement and found[1] is not None:
        sql, steps = found[1]
        found_values: list[Any] = []
        for name, index, processor, own in steps:  # inline: every value of every read
            if name is None:
                found_values.append(own)
                continue
            value = params[name] if index is None else params[name][index]
            found_values.append(value if processor is None else processor(value))
        return sql, tuple(found_values)
    expanded = compiled.construct_expanded_state(dict(params))
    # The compiled form's bind processors (the expanded state's own mapping leaves them
    # out), an expanded IN list's values taking their parameter's.
    processors = dict(compiled._bind_processors)
    source: dict[str, tuple[str, int | None]] = {}
    for name, names in expanded.parameter_expansion.items():
        if name in processors:
            processors.update(dict.fromkeys(names, processors[name]))
        source.update((n, (name, i)) for i, n in enumerate(names))
    sql = expanded.statement
    positions = expanded.positiontup or ()
    values = tuple(
        processors[k](v) if k in processors else v
        for k, v in zip(positions, expanded.positional_parameters, strict=True)
    )
    if compiled.literal_execute_params or found is not None or not ordered:
        return sql, values
    made: list[_Step] = []
    for k, value in zip(positions, values, strict=True):
        if k in source and source[k][0] in params:
            made.append((*source[k], processors.get(k), None))
        elif k in params:
            made.append((k, None, processors.get(k), None))
        else:
            made.append((None, None, None, value))
    if len(_EXPANSIONS) >= _MOST_EXPANSIONS:
        _EXPANSIONS.clear()  # shapes are few in practice; never an unbounded memo
    _EXPANSIONS[key] = (statement, (sql, tuple(made)))
    try:
        same = _expanded(statement, compiled, dialect, params) == (sql, values)
    except (LookupError, TypeError):
        same = False
    if not same:
        _EXPANSIONS[key] = (statement, None)  # not from the lengths alone: as here
    return sql, values


def _processed(rows: Any, results: tuple[Callable[[Any], Any] | None, ...]) -> list[Any]:
    """The driver's rows through the columns' result processors, as tuples (column by
    column, as the parameters are)."""
    if not any(results):
        return [tuple(r) for r in rows]
    return _processed_values(results, rows)


# Rows per multi-row INSERT: as SQLAlchemy's insertmanyvalues batches them, and within
# SQLite's limit of 32,766 parameters a statement.
_PAGE = 1000
_SQLITE_PARAMETERS = 32_766


async def insert_returning(
    conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """The RETURNING rows of `statement` (a module-level INSERT ... RETURNING) for `rows`:
    one multi-row INSERT per page, as SQLAlchemy's insertmanyvalues sends it, one
    hand-over each on SQLite's aiosqlite connection; the rows in no particular order."""
    if not rows:
        return []
    sync = _sqlite_in_transaction(conn)
    found = None if sync is None else plan(statement, sync.dialect, tuple(rows[0]))
    if found is None or sync is None:
        return list(await conn.execute(statement, list(rows)))
    sql, names, processors = found
    single = "(" + ", ".join("?" * len(names)) + ")"
    assert sql.count(f"VALUES {single}") == 1, sql
    _, _, results = _compiled_read(statement, sync.dialect)
    page = max(1, min(_PAGE, _SQLITE_PARAMETERS // max(1, len(names))))
    driver = await _driver(conn)
    out: list[Any] = []
    for start in range(0, len(rows), page):
        part = rows[start : start + page]
        many = sql.replace(f"VALUES {single}", "VALUES " + ", ".join([single] * len(part)))
        values = tuple(v for row in _params(names, processors, part) for v in row)
        out += _processed(await _fetch_all(sync, driver, many, values), results)
    return out


async def together(
    session: Session, work: Callable[[], Awaitable[T]], *, commit: bool = False
) -> T:
    """`await work()`, on SQLite's aiosqlite connection as ONE hand-over to its thread.

    Each statement through aiosqlite is a hand-over to the connection's thread and back,
    a wake-up of the event loop each (a journal save sent seven, and as many waits for
    the GIL under load). Here the session's connection is checked out and its transaction
    begun on the event loop, then `work` runs on the connection's thread from start to
    end: every statement it awaits, whether sent here (`fetchall`, `Writes`) or through
    SQLAlchemy's session, runs there at once (the connection's `_execute`, aiosqlite's
    hand-over, runs its function in place while `work` runs), so the coroutine never
    suspends and the event loop waits once. The event loop goes on with other requests
    meanwhile (this connection is this session's alone until it is given back).

    `work` must await nothing but this session's statements (no sleeps, locks, other
    connections, nor the session's commit: giving the connection back to the pool
    belongs on the event loop): a suspension is a RuntimeError, and the transaction is
    rolled back by its owner as for any error. Errors raised by `work` are raised here
    as they were. Elsewhere (PostgreSQL, the blocking writer's session, no transaction
    yet on SQLite's side) `work` is simply awaited.

    `commit=True`: on SQLite's thread, once `work` has returned, the COMMIT is sent there
    too (unless the session holds ORM changes not yet flushed: then it is left to the
    session's commit), and back on the event loop the session's transaction is ended and
    its connection given back. The caller still commits the session (SqlUnitOfWork's
    commit), which then has nothing left to do.
    A failed COMMIT is raised here as SQLAlchemy raises it (`OperationalError` ... with
    the sqlite3 error as its cause) and the transaction is rolled back by its owner.
    Elsewhere the flag does nothing: the session's commit commits."""
    if not isinstance(session, AsyncSession):
        return await work()
    sync = _sqlite_in_transaction(await connection(session))
    if sync is None or sync._dbapi_connection is None:
        return await work()
    driver = sync._dbapi_connection.driver_connection
    assert driver is not None
    orm = session.sync_session

    def then() -> None:
        if commit and not (orm.new or orm.dirty or orm.deleted):
            try:
                driver._conn.commit()
            except sqlite3.Error as error:
                raise exc.DBAPIError.instance(None, None, error, sqlite3.Error) from error

    result: T = await driver._execute(_drive, driver, work, then)
    if (
        commit
        and not driver._conn.in_transaction
        and not (orm.new or orm.dirty or orm.deleted)
        and _takes_back_in_place(sync.engine.pool)
    ):
        # Committed on the connection's thread: the session's transaction ends and its
        # connection goes back to the pool here, on the event loop, without the hand-over
        # to a greenlet of the session's async commit. Nothing in it awaits: with no
        # SQLite transaction open the dialect's COMMIT and the pool's reset send nothing
        # (server.db.engine: sqlite_commit, sqlite_reset), and the pool has room to keep
        # the connection (a full pool closes it, which awaits aiosqlite: that case takes
        # the session's own commit). The caller's commit finds nothing left to do
        # (SqlUnitOfWork.commit).
        orm.commit()
    return result


# The pools whose reset on return is server.db.engine's `sqlite_reset` (registered by
# `make_engine`): they send nothing when a connection comes back with no transaction open.
_RESET_IN_PLACE: WeakSet[Pool] = WeakSet()


def resets_in_place(pool: Pool) -> None:
    """Mark `pool` as one whose reset on return sends nothing without a transaction open
    (server.db.engine's `sqlite_reset`)."""
    _RESET_IN_PLACE.add(pool)


def _takes_back_in_place(pool: Pool) -> bool:
    """Whether a connection given back to `pool` now is kept without any I/O: a queue pool
    with room in its queue (a full one closes the connection) whose reset is ours. Read
    on the event loop, where every check-in happens, so nothing changes it meanwhile."""
    return (
        isinstance(pool, QueuePool) and pool in _RESET_IN_PLACE and pool.checkedin() < pool.size()
    )


async def _in_place(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """aiosqlite's `_execute` while `work` runs on the connection's own thread."""
    return fn(*args, **kwargs)


def _drive(driver: Any, work: Callable[[], Awaitable[T]], then: Callable[[], None]) -> T:
    """On the connection's thread: run `work` to its end without an event loop, then
    `then` (the COMMIT, when asked for)."""
    # An attribute of this connection object only, removed before the thread's next
    # job: the event loop does not use this connection meanwhile (it awaits this job).
    driver._execute = _in_place
    try:
        coroutine = work().__await__()
        try:
            coroutine.send(None)
        except StopIteration as done:
            value: T = done.value
        else:
            coroutine.close()
            raise RuntimeError(
                "work run on the SQLite connection's thread awaited something else than "
                "the connection's statements"
            )
        then()
        return value
    finally:
        del driver._execute
