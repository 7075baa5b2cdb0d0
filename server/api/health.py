"""Liveness and readiness, for process managers and load balancers."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

import schemas
from server.api.deps import State
from server.db.migrate import database_revision, head_revision


class Health(msgspec.Struct, kw_only=True):
    status: str
    database: str
    revision: str | None
    expected_revision: str
    protocol_version: int


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/", opt={"exclude_from_auth": True}, security=[])
    async def health(self, stockcount: State) -> Health:
        revision = await database_revision(stockcount.engine)
        head = head_revision()
        return Health(
            status="ok" if revision == head else "migration-needed",
            database=stockcount.engine.dialect.name,
            revision=revision,
            expected_revision=head,
            protocol_version=schemas.PROTOCOL_VERSION,
        )
