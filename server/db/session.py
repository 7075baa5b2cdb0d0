"""The session the SQL repositories are written against.

Two sessions stand behind it: SQLAlchemy's AsyncSession (the app's engine, either database)
and `server.db.blocking.BlockingSession` (SQLite's writer thread, a blocking connection).
The repositories are typed against these protocols, not against AsyncSession, so that mypy
checks that the blocking session has every method a repository calls: a method a
repository starts to use that the blocking session lacks is a type error, not an
AttributeError on the SQLite push path.

The protocols hold exactly what the repositories call (server/*/sql*, server/db/*), with
the arguments they pass; widen them when a repository needs more, and give the blocking
session the same.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sqlalchemy import Connection as SyncConnection
from sqlalchemy import CursorResult, Dialect, Engine, Executable, PoolProxiedConnection, Result
from sqlalchemy.engine import ScalarResult


class Connection(Protocol):
    """The Core connection under a session, for statements without ORM result handling
    and for the driver's own calls (COPY on PostgreSQL)."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(
        self, statement: Executable, parameters: Any = None, /
    ) -> CursorResult[*tuple[Any, ...]]: ...

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, /
    ) -> CursorResult[*tuple[Any, ...]]: ...

    async def get_raw_connection(self) -> PoolProxiedConnection: ...


class Session(Protocol):
    """One transaction's session: what the SQL repositories and the unit of work call."""

    @property
    def info(self) -> dict[Any, Any]: ...

    def get_bind(self) -> Engine | SyncConnection: ...

    async def connection(self) -> Connection: ...

    async def execute(
        self, statement: Executable, params: Any = None, /
    ) -> Result[*tuple[Any, ...]]: ...

    async def scalar(self, statement: Executable, params: Any = None, /) -> Any: ...

    async def scalars(self, statement: Executable, params: Any = None, /) -> ScalarResult[Any]: ...

    def add(self, instance: object, /) -> None: ...

    async def flush(self) -> None: ...

    def begin_nested(self) -> AbstractAsyncContextManager[object]: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...
