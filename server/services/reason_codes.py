"""The managed list of reason codes: list, create, change (description, kinds, active).

A code created here goes through the importer (`importer.store`) as an import of one row,
as the other master data of the API does: files and the API accept and refuse the same
codes. There is no delete: approvals name a code by its text for ever, so a code that is
no longer wanted is deactivated (it stays readable on the approvals that used it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.domain.counting import ReasonCode, new_reason_code
from server.domain.errors import NotFound
from server.domain.masterdata_import import ReasonCodeRow
from server.services.import_sources import Source
from server.services.importer import store
from server.services.ports import UnitOfWork


async def list_reason_codes(uow: UnitOfWork, active: bool | None = None) -> list[ReasonCode]:
    async with uow:
        codes = await uow.counts.reason_codes()
    return [c for c in codes.values() if active is None or c.active is active]


async def get_reason_code(uow: UnitOfWork, code: str) -> ReasonCode:
    async with uow:
        found = (await uow.counts.reason_codes([code])).get(code)
    if found is None:
        raise NotFound(f"reason code {code} does not exist")
    return found


async def create_reason_code(uow: UnitOfWork, record: Mapping[str, object]) -> ReasonCode:
    """Store one code (fields as in the import format: code, description, kinds, active).
    Raises ValidationFailed (422) or Conflict (409: it exists) naming the field."""
    async with uow:
        stored = await store(
            uow,
            [Source("", {"reason_codes": [dict(record)]})],
            refused="the reason code was not created",
        )
        row = stored.records[0][1]
        assert isinstance(row, ReasonCodeRow)
        code = row.code
        found = (await uow.counts.reason_codes([code]))[code]
        await uow.commit()
    return found


async def change_reason_code(
    uow: UnitOfWork,
    code: str,
    *,
    description: str | None = None,
    kinds: Sequence[str] | None = None,
    active: bool | None = None,
) -> ReasonCode:
    """Change what is given (None: kept). Approvals already made keep their code."""
    async with uow:
        found = (await uow.counts.reason_codes([code])).get(code)
        if found is None:
            raise NotFound(f"reason code {code} does not exist")
        changed = new_reason_code(
            found.code,
            found.description if description is None else description,
            found.kind_values if kinds is None else kinds,
            found.active if active is None else active,
        )
        await uow.counts.update_reason_code(changed)
        await uow.commit()
    return changed
