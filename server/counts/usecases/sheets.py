"""Count sheets: a count's bins on paper, for counting when a device fails, a bin range
and a page at a time (a count may have 10,000 bins), with what each bin should hold
unless the count is blind; and keying a paper count in (`counting.submit_bin_count`,
the API's bin count use case, with the supervisor as the counter).

Read only here. The facts come through the narrow `CountSheetReader` port
(`server.counts.sql.sheets`): the page's bins, then the snapshot's serials and balances
of those bins only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from server.counts.ports import CountRecord, CountsUnitOfWork
from server.counts.usecases.counting import check_site, load_count
from server.domain.auth import Caller

MAX_SHEET_BINS = 500  # bins on one printed sheet


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One thing a bin should hold: a serial (quantity 1) or an item's quantity (by lot)."""

    item: str
    item_name: str
    serial: str
    lot: str
    quantity: Decimal
    uom: str


@dataclass(frozen=True, slots=True)
class SheetBin:
    bin_id: int
    label: str
    assigned_device: str | None
    assigned_counter: str | None
    lines: list[SheetLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CountSheet:
    count: CountRecord
    bins: list[SheetBin]
    expected_shown: bool  # False for a blind count, or before the snapshot is taken
    next_after: str | None  # the last label of this sheet when more bins follow


class CountSheetReader(Protocol):
    async def bins(
        self, count_id: int, label_from: str, label_to: str, after: str, limit: int
    ) -> Sequence[SheetBin]:
        """Bins of the count in label order with label_from <= label <= label_to ('' for
        open ends), after `after`."""
        ...

    async def expected(self, count_id: int, bin_ids: Sequence[int]) -> dict[int, list[SheetLine]]:
        """The snapshot's contents of these bins (serials and balances), in item order."""
        ...


class SheetsUnitOfWork(CountsUnitOfWork, Protocol):
    @property
    def count_sheets(self) -> CountSheetReader: ...


async def count_sheet(
    uow: SheetsUnitOfWork,
    caller: Caller,
    number: str,
    label_from: str = "",
    label_to: str = "",
    after: str = "",
    limit: int = MAX_SHEET_BINS,
) -> CountSheet:
    limit = max(1, min(limit, MAX_SHEET_BINS))
    async with uow:
        count = await load_count(uow, number)
        check_site(caller, count)
        bins = list(await uow.count_sheets.bins(count.id, label_from, label_to, after, limit + 1))
        more = len(bins) > limit
        bins = bins[:limit]
        # Paper has no role: a blind count's sheet never shows what a bin should hold.
        shown = count.snapshot_token is not None and not count.blind
        expected = (
            await uow.count_sheets.expected(count.id, [b.bin_id for b in bins]) if shown else {}
        )
    sheet_bins = [
        SheetBin(
            b.bin_id, b.label, b.assigned_device, b.assigned_counter, expected.get(b.bin_id, [])
        )
        for b in bins
    ]
    return CountSheet(count, sheet_bins, shown, bins[-1].label if more and bins else None)
