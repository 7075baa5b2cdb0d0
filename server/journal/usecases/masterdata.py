"""The journal's master data over the API: create one record, get one, list a page.

A record created here goes through the importer (`importer.store`) as an import of one
row, as the master data API does: files and the API accept and refuse the same records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from server.domain.errors import NotFound
from server.domain.masterdata.imports import SINGULAR, describe_key, key_of
from server.journal.ports import JournalMasterUnitOfWork, MasterRecord
from server.masterdata.usecases.importer import store
from server.masterdata.usecases.sources import Source

KINDS: Final = ("accounting_periods", "cost_categories", "jobs", "cost_codes", "work_orders")


async def create_record(
    uow: JournalMasterUnitOfWork, kind: str, record: Mapping[str, object]
) -> MasterRecord:
    """Store one record (fields as in the import format); answer it as stored.
    Raises ValidationFailed (422) or Conflict (409: it exists) naming the field."""
    async with uow:
        stored = await store(
            uow, [Source("", {kind: [record]})], refused=f"the {SINGULAR[kind]} was not created"
        )
        found = await uow.journal.master_get(kind, key_of(kind, stored.records[0][1]))
        assert found is not None, "a record just stored can be read back"
        await uow.commit()
    return found


async def get_record(uow: JournalMasterUnitOfWork, kind: str, key: tuple[str, ...]) -> MasterRecord:
    async with uow:
        found = await uow.journal.master_get(kind, key)
    if found is None:
        raise NotFound(f"{describe_key(kind, key)} does not exist")
    return found


async def list_records(
    uow: JournalMasterUnitOfWork, kind: str, after: int, limit: int, job: str | None = None
) -> Sequence[tuple[int, MasterRecord]]:
    """A keyset page after record id `after`; cost codes and work orders by job."""
    async with uow:
        return await uow.journal.master_page(kind, after, limit, job)
