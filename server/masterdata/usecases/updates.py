"""Update imports: a row whose key exists updates that record, logged field by field.

The importer (server.masterdata.usecases.importer) runs this beside its Resolver when an import is
an update (`stockcount import --update`, `POST /api/imports?mode=update`); rows with new
keys are created as in any import. In the import's one transaction:

1. load: lock the stored records that the import updates (server.db: FOR UPDATE on
   PostgreSQL, the write lock on SQLite), then read them once per kind and compare them
   field by field with the rows (only the fields a row gives; server.domain.masterdata.updates);
2. refuse what would break history (masterdata_update.refusal): Conflict `update-refused`
   naming file, row and field of every refusal; nothing is written;
3. write: barcodes that updated items give up are released before new records are
   created (a new item may take them); after the creations, the changed fields, the
   barcodes added and one change log row (masterdata_change) per changed field.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from server.domain.errors import Conflict
from server.domain.masterdata.imports import ItemRow, Row, key_of
from server.domain.masterdata.updates import (
    FROZEN_BY_COUNT,
    NEEDS_NO_STOCK,
    UPDATABLE_KINDS,
    FieldChange,
    changes,
    check_merged,
    merged,
    refusal,
)
from server.masterdata.ports import MasterDataUnitOfWork
from server.masterdata.usecases.sources import Batch, Problems, rows_of
from server.ports import MasterDataChangeRecord

# Fields that name another record by code, and the column and kind of its id.
_REFERENCES = {
    "inventory_account": ("inventory_account_id", "gl_accounts"),
    "adjustment_account": ("adjustment_account_id", "gl_accounts"),
    "gl_entity": ("gl_entity_id", "gl_entities"),
    "inventory_group": ("inventory_group_id", "inventory_groups"),
}

if TYPE_CHECKING:
    from server.masterdata.usecases.importer import Resolver


@dataclass(frozen=True, slots=True)
class Updating:
    """An update import: who makes it and when (the change log's who and when)."""

    by: str
    at: datetime
    import_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class _Update:
    kind: str
    record_id: int
    batch: Batch
    index: int
    stored: Row
    record: Row  # the stored record with the row's fields
    changes: list[FieldChange]


class Updater:
    def __init__(self, uow: MasterDataUnitOfWork, resolver: Resolver, updating: Updating) -> None:
        self.repo = uow.masterdata
        self.uow = uow
        self.resolver = resolver
        self.updating = updating
        self.updates: list[_Update] = []
        self.updated: dict[str, int] = {}
        self.unchanged: dict[str, int] = {}

    @classmethod
    async def load(
        cls, uow: MasterDataUnitOfWork, resolver: Resolver, updating: Updating, refused: str
    ) -> Updater:
        """Lock, read and compare the stored records; raises Conflict on any refusal."""
        self = cls(uow, resolver, updating)
        existing = {k: v for k, v in resolver.existing.items() if v and k in UPDATABLE_KINDS}
        for kind in UPDATABLE_KINDS:
            if kind in existing and kind != "serials":  # serials change nothing: no lock
                await self.repo.lock_records(kind, [self._id(kind, k) for k in existing[kind]])
        updated: Counter[str] = Counter()
        unchanged: Counter[str] = Counter()
        for kind in UPDATABLE_KINDS:
            if kind not in existing:
                continue
            stored = await self.repo.records_by_key(kind, existing[kind])
            for batch, index, row in rows_of(resolver.batches, kind):
                key = key_of(kind, row)
                if key not in existing[kind]:
                    continue
                given = batch.fields_given(index)
                old = stored[key]
                found = changes(kind, old, row, given)
                if not found:
                    unchanged[kind] += 1
                    continue
                updated[kind] += 1
                record = merged(old, row, given)
                self.updates.append(
                    _Update(kind, self._id(kind, key), batch, index, old, record, found)
                )
        self.updated, self.unchanged = dict(updated), dict(unchanged)
        await self._refuse(refused)
        return self

    def _id(self, kind: str, key: tuple[str, ...]) -> int:
        r = self.resolver
        if kind == "items":
            return r.items[key[0]][0]
        if kind == "bins":
            return r.bins[(r.ids["locations"][key[0]], key[1])]
        if kind == "serials":
            return 0  # never written: every change of a serial is refused
        if kind == "reason_codes":
            return r.reason_codes[key[0]]
        return r.ids[kind][key[0]]

    async def _refuse(self, refused: str) -> None:
        def touching(kind: str, names: dict[str, tuple[str, ...]]) -> set[int]:
            return {
                u.record_id
                for u in self.updates
                if u.kind == kind and any(c.field in names.get(kind, ()) for c in u.changes)
            }

        stock_items = touching("items", NEEDS_NO_STOCK)
        with_stock = await self.repo.items_with_stock(stock_items) if stock_items else set()
        bins = touching("bins", FROZEN_BY_COUNT)
        frozen = await self.uow.postings.frozen_bin_ids(bins) if bins else {}
        problems = Problems()
        for u in self.updates:
            invalid = check_merged(u.record)
            if invalid is not None:
                problems.add(u.batch.where(u.index, invalid[0]), invalid[1])
            for change in u.changes:
                why = refusal(
                    u.kind,
                    change,
                    has_stock=u.kind == "items" and u.record_id in with_stock,
                    frozen_by=frozen.get(u.record_id) if u.kind == "bins" else None,
                )
                if why is not None:
                    problems.add(u.batch.where(u.index, change.field), why)
        if problems:
            raise Conflict(refused, problems.items, code="update-refused")

    # -- writes ----------------------------------------------------------------------

    def _barcodes(self, u: _Update) -> tuple[set[str], set[str]]:
        """(removed, added) barcodes of an updated item."""
        assert isinstance(u.stored, ItemRow) and isinstance(u.record, ItemRow)
        old, new = set(u.stored.barcodes), set(u.record.barcodes)
        return old - new, new - old

    async def release_barcodes(self) -> None:
        """Before records are created: the barcodes that updated items give up."""
        removed = {b for u in self.updates if u.kind == "items" for b in self._barcodes(u)[0]}
        if removed:
            await self.repo.remove_barcodes(removed)

    async def write(self) -> None:
        """After records are created (updates may name them): fields, barcodes, the log."""
        for kind in UPDATABLE_KINDS:
            # One statement per kind and set of changed columns.
            groups: dict[tuple[str, ...], list[tuple[int, Mapping[str, object]]]] = {}
            for u in self.updates:
                if u.kind == kind and (columns := self._columns(u)):
                    groups.setdefault(tuple(sorted(columns)), []).append((u.record_id, columns))
            for rows in groups.values():
                await self.repo.update_records(kind, rows)
        added = [
            (u.record_id, b)
            for u in self.updates
            if u.kind == "items"
            for b in sorted(self._barcodes(u)[1])
        ]
        if added:
            await self.repo.add_barcodes(added)
        await self.repo.add_changes(
            [self._logged(u, change) for u in self.updates for change in u.changes]
        )

    def _logged(self, u: _Update, change: FieldChange) -> MasterDataChangeRecord:
        key = key_of(u.kind, u.record)
        code, parent = (key[1], key[0]) if len(key) == 2 else (key[0], "")
        return MasterDataChangeRecord(
            kind=u.kind,
            code=code,
            parent_code=parent,
            field=change.field,
            old_value=change.old,
            new_value=change.new,
            changed_by=self.updating.by,
            changed_at=self.updating.at,
            import_id=self.updating.import_id,
            source=u.batch.where(u.index),
        )

    def _columns(self, u: _Update) -> dict[str, object]:
        """The columns of the fields an update changes (never a fixed field: refused)."""
        values: dict[str, object] = {}
        for change in u.changes:
            value = getattr(u.record, change.field)
            if change.field == "barcodes":
                continue  # a table of its own: written by write()
            if change.field in _REFERENCES:
                column, kind = _REFERENCES[change.field]
                values[column] = None if value is None else self.resolver.ids[kind][value]
            else:
                values[change.field] = value.value if isinstance(value, Enum) else value
        return values
