"""Unknown barcodes: what devices scanned in a count that matched no bin, item or serial
(or whose GS1 data did not parse). A push stores them (server.sync.usecases, through the
`UnknownBarcodes` port, in the push's transaction); the supervisor lists them here. They
are never counted and never lost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from server.counts.ports import UnknownBarcodeRecord, UnknownBarcodes
from server.domain.errors import NotFound
from server.ports import Transaction


class UnknownBarcodesUnitOfWork(Transaction, Protocol):
    @property
    def unknown_barcodes(self) -> UnknownBarcodes: ...


@dataclass(frozen=True, slots=True)
class UnknownBarcodePage:
    items: list[UnknownBarcodeRecord]
    next_cursor: str | None


async def unknown_barcodes(
    uow: UnknownBarcodesUnitOfWork, number: str, after: int, limit: int
) -> UnknownBarcodePage:
    """A page of the count's unknown barcodes, in the order they reached the server."""
    async with uow:
        rows = await uow.unknown_barcodes.page(number, after, limit)
    if rows is None:
        raise NotFound(f"stock count {number} does not exist")
    return UnknownBarcodePage(rows, str(rows[-1].id) if len(rows) == limit else None)
