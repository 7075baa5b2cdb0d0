"""What a request may reach of the process: settings, engine, units of work.

`server.bootstrap.Runtime` is what the app keeps; the HTTP kernel knows it only by this
protocol, so that it stays below the features."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from litestar import Request
from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import Settings

# Any: Litestar's connection generics (user, auth, state) are not ours to pin down.
AnyConnection = ASGIConnection[Any, Any, Any, Any]
AnyRequest = Request[Any, Any, Any]

STATE_KEY = "stockcount"


@runtime_checkable
class AppState(Protocol):
    settings: Settings
    engine: AsyncEngine

    # Any: the one SqlUnitOfWork (server.uow) is above this kernel; each feature's HTTP
    # adapter names the ports it needs of it (its `Uow`).
    def uow(self) -> Any: ...


def state_of(connection: AnyConnection) -> Any:
    """The app's runtime (the object `server.app.create_app` put there)."""
    state = connection.app.state.get(STATE_KEY)
    assert state is not None, "create the app with server.app.create_app"
    return state


def app_state(connection: AnyConnection) -> AppState:
    state = state_of(connection)
    assert isinstance(state, AppState)
    return state


def client_address(connection: AnyConnection) -> str:
    """The peer's address, as the throttle of failed sign-ins counts it ('' if unknown)."""
    return connection.client.host if connection.client is not None else ""
