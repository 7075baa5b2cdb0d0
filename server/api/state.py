"""What the app holds for its lifetime: settings, engine, the unit-of-work factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.uow import SqlUnitOfWork
from server.services.sync_group import PushGroups
from server.settings import Settings

# Any: Litestar's connection generics (user, auth, state) are not ours to pin down.
AnyConnection = ASGIConnection[Any, Any, Any, Any]
AnyRequest = Request[Any, Any, Any]


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # SQLite's group writer of pushes (None on PostgreSQL, where each push is its own
    # transaction and they run side by side).
    push_groups: PushGroups | None = None

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessionmaker)

    @staticmethod
    def of(connection: AnyConnection) -> AppState:
        state = connection.app.state.get("stockcount")
        assert isinstance(state, AppState), "create the app with server.api.app.create_app"
        return state
