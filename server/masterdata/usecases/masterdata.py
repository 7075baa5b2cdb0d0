"""Master data use cases for the API: create one record, get one, list a page, stock.

A record created through the API goes through the importer (`importer.store`) as an
import of one row: one set of rules for files and for the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from server.domain.errors import NotFound, ValidationFailed
from server.domain.masterdata import BinKind, Tracking
from server.domain.masterdata.imports import KINDS, SINGULAR, Row, describe_key, key_of
from server.masterdata.ports import ChangeFilters, MasterDataUnitOfWork, StockBalanceRecord
from server.masterdata.usecases.importer import store
from server.masterdata.usecases.sources import Source
from server.ports import MasterDataChangeRecord

# The filters each list accepts (query parameter name = filter name).
LIST_FILTERS: Final[dict[str, tuple[str, ...]]] = {
    "companies": (),
    "gl_accounts": (),
    "gl_entities": ("company",),
    "inventory_groups": (),
    "locations": ("company",),
    "bins": ("location", "kind", "zone", "label_prefix"),
    "items": ("tracking", "inventory_group", "barcode"),
    "serials": ("item", "location", "bin"),
}
STOCK_FILTERS: Final = ("item", "location", "bin")
_CHOICES: Final = {("bins", "kind"): BinKind, ("items", "tracking"): Tracking}


async def create_record(uow: MasterDataUnitOfWork, kind: str, record: Mapping[str, object]) -> Row:
    """Store one record of `kind` (fields as in the import format); answer it as stored.

    Raises ValidationFailed (422) or Conflict (409, it exists already) naming the field.
    """
    async with uow:
        stored = await store(
            uow, [Source("", {kind: [record]})], refused=f"the {SINGULAR[kind]} was not created"
        )
        row = stored.records[0][1]
        if kind != "opening_stock":
            found = await uow.masterdata.get(kind, key_of(kind, row))
            assert found is not None, "a record just stored can be read back"
            row = found
        await uow.commit()
    return row


async def get_record(uow: MasterDataUnitOfWork, kind: str, key: tuple[str, ...]) -> Row:
    """One record by its key (code; bins: location, label; serials: item, serial number)."""
    async with uow:
        row = await uow.masterdata.get(kind, key)
    if row is None:
        raise NotFound(f"{describe_key(kind, key)} does not exist")
    return row


def _clean(kind: str, filters: Mapping[str, str | None], allowed: Sequence[str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for name, value in filters.items():
        if value is None or value == "":
            continue
        if name not in allowed:
            raise ValidationFailed(f"{kind} cannot be filtered by {name}")
        choice = _CHOICES.get((kind, name))
        if choice is not None and value not in {c.value for c in choice}:
            allowed_values = ", ".join(c.value for c in choice)
            raise ValidationFailed(f"{name} must be one of {allowed_values}, not {value!r}")
        clean[name] = value
    return clean


async def list_records(
    uow: MasterDataUnitOfWork, kind: str, after: int, limit: int, filters: Mapping[str, str | None]
) -> Sequence[tuple[int, Row]]:
    """A keyset page of `kind` after record id `after`, with the kind's filters applied."""
    clean = _clean(kind, filters, LIST_FILTERS[kind])
    async with uow:
        return await uow.masterdata.page(kind, after, limit, clean)


async def list_stock(
    uow: MasterDataUnitOfWork,
    after: tuple[int, int, str] | None,
    limit: int,
    filters: Mapping[str, str | None],
) -> Sequence[StockBalanceRecord]:
    """Stock balances by (item, bin, lot): untracked and lot items, serials counted per bin."""
    clean = _clean("stock", filters, STOCK_FILTERS)
    async with uow:
        return await uow.masterdata.stock_page(after, limit, clean)


async def list_changes(
    uow: MasterDataUnitOfWork, after: int, limit: int, filters: ChangeFilters
) -> Sequence[MasterDataChangeRecord]:
    """A keyset page of the change log of update imports, after change id `after`."""
    if filters.kind is not None and filters.kind not in KINDS:
        raise ValidationFailed(f"unknown kind {filters.kind!r}: use one of {', '.join(KINDS)}")
    if filters.since is not None and filters.since.tzinfo is None:
        raise ValidationFailed("since needs a time zone, e.g. 2026-12-01T00:00:00Z")
    async with uow:
        return await uow.masterdata.change_page(after, limit, filters)
