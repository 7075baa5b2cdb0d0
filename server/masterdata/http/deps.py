"""The unit of work this feature's controllers ask for.

Litestar checks a dependency with isinstance, which a protocol cannot answer, so the
annotation is Any; the controllers hand it straight to the use cases, whose parameters
name the ports they need (the comment names them here)."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar.di import NamedDependency

Uow: TypeAlias = NamedDependency[Any]  # MasterDataUnitOfWork
ReasonCodesUow: TypeAlias = NamedDependency[Any]  # ReasonCodesUnitOfWork
