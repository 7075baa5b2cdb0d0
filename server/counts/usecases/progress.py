"""Counts as a supervisor watches them: progress per count (for the list) and the state of
each bin of one count, a page at a time (a count may have 10,000 bins).

Read only. The facts come through the narrow `CountProgressReader` port
(`server.counts.sql.progress`) in set-based queries over the page's counts or bins;
which bins are in conflict is the reconciliation's word (the domain's), read through the
process's cache as the API's reconciliation reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from server.counts.ports import BinCountHeader, CountRecord, CountsUnitOfWork
from server.counts.usecases.counting import check_site, load_count, reconciliation_and_bin_counts
from server.domain.auth import Caller
from server.domain.counting import CountStatus
from server.domain.errors import ValidationFailed

# Counts whose bins are still being counted or reviewed: their conflicts are worth the
# reconciliation (cached per process); the others have none open.
_ACTIVE = frozenset({CountStatus.COUNTING, CountStatus.COUNTED})


@dataclass(frozen=True, slots=True)
class ProgressFacts:
    scope_bins: int
    awaiting: int  # bins with no bin count that stands (never counted, or recount ordered)
    recounts_open: int  # of those, bins whose recount the supervisor ordered
    last_activity: datetime | None  # the latest bin count received or count event


@dataclass(frozen=True, slots=True)
class CountBinFacts:
    label: str
    awaiting: bool
    recount_ordered_at: datetime | None
    assigned_device: str | None
    assigned_counter: str | None


class CountProgressReader(Protocol):
    async def facts(self, count_ids: Sequence[int]) -> dict[int, ProgressFacts]: ...
    async def bins(
        self, count_id: int, offset: int, limit: int, label: str | None
    ) -> tuple[int, Sequence[CountBinFacts]]: ...


class ProgressUnitOfWork(CountsUnitOfWork, Protocol):
    @property
    def count_progress(self) -> CountProgressReader: ...


@dataclass(frozen=True, slots=True)
class CountProgressRecord:
    count: CountRecord
    scope_bins: int
    counted_bins: int
    conflicts: int
    recounts_open: int
    last_activity: datetime | None

    @property
    def percent(self) -> int:
        return 100 if not self.scope_bins else (100 * self.counted_bins) // self.scope_bins


class BinState(StrEnum):
    NOT_COUNTED = "not counted"
    COUNTED = "counted"
    CONFLICT = "conflict"
    RECOUNT = "recount ordered"


@dataclass(frozen=True, slots=True)
class BinCountSide:
    """One bin count of a bin, with its contents: a side of a conflict."""

    header: BinCountHeader
    serials: Sequence[tuple[str, str]]  # (item, serial)
    quantities: Sequence[tuple[str, str, Decimal]]  # (item, lot, quantity)


@dataclass(frozen=True, slots=True)
class BoardBin:
    label: str
    state: BinState
    counted_by: Sequence[BinCountHeader]  # the bin counts that stand (effective first)
    assigned_device: str | None
    assigned_counter: str | None
    conflict: Sequence[BinCountSide] = ()


@dataclass(frozen=True, slots=True)
class CountBoard:
    progress: CountProgressRecord
    bins: Sequence[BoardBin]
    matching_bins: int


def _record(count: CountRecord, facts: ProgressFacts | None, conflicts: int) -> CountProgressRecord:
    if facts is None:
        return CountProgressRecord(count, 0, 0, conflicts, 0, None)
    counted = facts.scope_bins - facts.awaiting if count.snapshot_token is not None else 0
    return CountProgressRecord(
        count, facts.scope_bins, counted, conflicts, facts.recounts_open, facts.last_activity
    )


async def counts_with_progress(
    uow: ProgressUnitOfWork,
    caller: Caller,
    after: int,
    limit: int,
    location: str | None,
    status: str | None,
) -> Sequence[CountProgressRecord]:
    """A page of counts (by number order, after the id `after`) with their progress."""
    if status and status not in {s.value for s in CountStatus}:
        allowed = ", ".join(s.value for s in CountStatus)
        raise ValidationFailed(f"status must be one of {allowed}, not {status!r}")
    async with uow:
        counts = await uow.counts.page(after, limit, location or None, status or None)
        facts = await uow.count_progress.facts([c.id for c in counts])
        conflicts: dict[int, int] = {}
        for count in counts:
            check_site(caller, count)
            if count.status in _ACTIVE and count.snapshot_token is not None:
                recon, _ = await reconciliation_and_bin_counts(uow, count)
                conflicts[count.id] = len(recon.bin_count_conflicts)
    return [_record(c, facts.get(c.id), conflicts.get(c.id, 0)) for c in counts]


async def count_board(
    uow: ProgressUnitOfWork,
    caller: Caller,
    number: str,
    offset: int,
    limit: int,
    label: str | None = None,
) -> CountBoard:
    """A count's progress and a page of its bins (by label; `label`: those starting with
    it), each with its state, who counted it, and a conflict's bin counts side by side."""
    async with uow:
        count = await load_count(uow, number)
        check_site(caller, count)
        facts = (await uow.count_progress.facts([count.id])).get(count.id)
        total, page = await uow.count_progress.bins(count.id, offset, limit, label or None)
        if count.snapshot_token is None:
            progress = _record(count, facts, 0)
            waiting = [
                BoardBin(b.label, BinState.NOT_COUNTED, (), b.assigned_device, b.assigned_counter)
                for b in page
            ]
            return CountBoard(progress, waiting, total)
        recon, standing = await reconciliation_and_bin_counts(uow, count)
        conflicts = {c.bin: c for c in recon.bin_count_conflicts}
        contents = standing.contents
        missing = [
            int(i)
            for b in page
            if b.label in conflicts
            for i in conflicts[b.label].bin_count_ids
            if int(i) not in contents
        ]
        if missing:
            contents = {**contents, **await uow.counts.bin_count_lines(missing)}
    headers = {str(h.id): h for h in standing.headers}
    resolved = standing.resolved
    bins: list[BoardBin] = []
    for b in page:
        conflict = conflicts.get(b.label)
        standing_ids: list[str] = []
        if b.label in resolved.effective:
            standing_ids.append(str(resolved.effective[b.label].id))
            standing_ids += list(resolved.confirmations.get(b.label, ()))
        if conflict is not None:
            state = BinState.CONFLICT
            standing_ids = list(conflict.bin_count_ids)
        elif b.awaiting and b.recount_ordered_at is not None:
            state = BinState.RECOUNT
        elif b.awaiting:
            state = BinState.NOT_COUNTED
        else:
            state = BinState.COUNTED
        sides = [_side(headers[i], contents) for i in standing_ids if conflict and i in headers]
        bins.append(
            BoardBin(
                b.label,
                state,
                [headers[i] for i in standing_ids if i in headers],
                b.assigned_device,
                b.assigned_counter,
                sides,
            )
        )
    return CountBoard(_record(count, facts, len(conflicts)), bins, total)


def _side(
    header: BinCountHeader,
    contents: Mapping[int, tuple[frozenset[tuple[str, str]], Mapping[tuple[str, str], Decimal]]],
) -> BinCountSide:
    serials, quantities = contents.get(header.id, (frozenset(), {}))
    return BinCountSide(
        header,
        sorted(serials),
        sorted((item, lot, qty) for (item, lot), qty in quantities.items()),
    )
