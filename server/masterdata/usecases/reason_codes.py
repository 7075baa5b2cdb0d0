"""The managed list of reason codes: list, create, change (description, kinds, active).

A code created here goes through the importer (`importer.store`) as an import of one row,
as the other master data of the API does: files and the API accept and refuse the same
codes. There is no delete: approvals name a code by its text for ever, so a code that is
no longer wanted is deactivated (it stays readable on the approvals that used it).
A change is logged field by field in the master data change log, as an update import's
(`reason_codes` is an updatable kind: server.masterdata.usecases.updates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.domain.counting import ReasonCode, new_reason_code
from server.domain.errors import NotFound
from server.domain.masterdata.imports import ReasonCodeRow
from server.domain.masterdata.updates import changes
from server.masterdata.ports import ReasonCodesUnitOfWork
from server.masterdata.usecases.importer import store
from server.masterdata.usecases.sources import Source
from server.masterdata.usecases.updates import Updating
from server.ports import MasterDataChangeRecord

# The fields a change may give (the code is the key).
_CHANGEABLE = frozenset({"description", "kinds", "active"})


async def list_reason_codes(
    uow: ReasonCodesUnitOfWork, active: bool | None = None
) -> list[ReasonCode]:
    async with uow:
        codes = await uow.reason_codes.reason_codes()
    return [c for c in codes.values() if active is None or c.active is active]


async def get_reason_code(uow: ReasonCodesUnitOfWork, code: str) -> ReasonCode:
    async with uow:
        found = (await uow.reason_codes.reason_codes([code])).get(code)
    if found is None:
        raise NotFound(f"reason code {code} does not exist")
    return found


async def create_reason_code(
    uow: ReasonCodesUnitOfWork, record: Mapping[str, object]
) -> ReasonCode:
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
        found = (await uow.reason_codes.reason_codes([code]))[code]
        await uow.commit()
    return found


async def change_reason_code(
    uow: ReasonCodesUnitOfWork,
    code: str,
    updating: Updating,
    *,
    description: str | None = None,
    kinds: Sequence[str] | None = None,
    active: bool | None = None,
) -> ReasonCode:
    """Change what is given (None: kept), logging each changed field with `updating`'s
    who and when. Approvals already made keep their code."""
    async with uow:
        ids = await uow.masterdata.ids_by_code("reason_codes", [code])
        if not ids:
            raise NotFound(f"reason code {code} does not exist")
        # Held until commit, as an update import holds it: two changes log one chain.
        await uow.masterdata.lock_records("reason_codes", ids.values())
        found = (await uow.reason_codes.reason_codes([code]))[code]
        changed = new_reason_code(
            found.code,
            found.description if description is None else description,
            found.kind_values if kinds is None else kinds,
            found.active if active is None else active,
        )
        logged = changes("reason_codes", _row(found), _row(changed), _CHANGEABLE)
        if logged:
            await uow.reason_codes.update_reason_code(changed)
            await uow.masterdata.add_changes(
                [
                    MasterDataChangeRecord(
                        kind="reason_codes",
                        code=code,
                        parent_code="",
                        field=c.field,
                        old_value=c.old,
                        new_value=c.new,
                        changed_by=updating.by,
                        changed_at=updating.at,
                        import_id=updating.import_id,
                        source=f"PATCH /api/reason-codes/{code}",
                    )
                    for c in logged
                ]
            )
        await uow.commit()
    return changed


def _row(code: ReasonCode) -> ReasonCodeRow:
    return ReasonCodeRow(code.code, code.description, code.kinds, code.active)
