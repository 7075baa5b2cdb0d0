"""Dependencies every controller may ask for by name: `uow`, `caller`, `settings`, `now`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar.di import NamedDependency, Provide

from server.api.security import caller_of
from server.api.state import AnyRequest, AppState, app_state
from server.domain.auth import Caller
from server.settings import Settings


async def provide_uow(request: AnyRequest) -> Any:
    return app_state(request).uow()


async def provide_caller(request: AnyRequest) -> Caller:
    return caller_of(request)


async def provide_settings(request: AnyRequest) -> Settings:
    return app_state(request).settings


async def provide_now() -> datetime:
    return datetime.now(UTC)


DEPENDENCIES = {
    "uow": Provide(provide_uow),
    "caller": Provide(provide_caller),
    "settings": Provide(provide_settings),
    "now": Provide(provide_now),
}


async def provide_state(request: AnyRequest) -> AppState:
    return app_state(request)


DEPENDENCIES["stockcount"] = Provide(provide_state)


# Annotations for controller parameters: `uow: Uow`, `caller: CurrentCaller`, ...
# Uow is Any: the unit of work is server.uow.SqlUnitOfWork, above this kernel, and Litestar
# checks a dependency with isinstance, which the features' unit-of-work Protocols cannot
# answer. The use cases the controllers hand it to name the ports they need.
Uow = NamedDependency[Any]
CurrentCaller = NamedDependency[Caller]
CurrentSettings = NamedDependency[Settings]
Now = NamedDependency[datetime]
State = NamedDependency[AppState]
