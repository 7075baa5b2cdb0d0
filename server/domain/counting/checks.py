"""Checking a BinCount before it is recorded: the count takes bin counts, the bin is the
counter's to count, the times and quantities are sane, and the contents fit the master
data (items known, quantities only where an item is not serial-tracked, lots only where
they belong). Pure: the use case (server.counts.usecases.counting.record_bin_count) reads
the count, the bin and the items' facts, and writes the bin count once these pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from decimal import Decimal
from operator import itemgetter

from server.domain.auth import Caller, CallerKind
from server.domain.counting.model import (
    BinCount,
    CountItemFacts,
    CountStatus,
    ItemCode,
    LotKey,
)
from server.domain.counting.reconciliation import CONTENTS_REFUSED, content_problems
from server.domain.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from server.domain.masterdata import Role, Tracking
from server.domain.money import ZERO, check_quantity


def takes_bin_counts(status: CountStatus) -> CountStatus:
    """Bin counts are taken while Counting in Process and in Counted: a device that
    counted offline and docks after the last bin was counted is heard, not refused."""
    if status not in (CountStatus.COUNTING, CountStatus.COUNTED):
        raise Conflict(
            "bin counts are taken only while the count is Counting in Process or Counted, "
            f"not {status}",
            [FieldProblem("status", status.value)],
            code="count-status",
        )
    return status


def checked_quantities(
    started_at: datetime,
    finished_at: datetime,
    quantities: Iterable[tuple[ItemCode, str, Decimal]],
) -> dict[LotKey, Decimal]:
    """The submitted (item, lot, quantity) entries summed per (item, lot), once the
    times are in order and every quantity is a valid one (ValidationFailed otherwise)."""
    if finished_at < started_at:
        raise ValidationFailed(
            "a bin count finishes after it starts", [FieldProblem("finished_at", "before start")]
        )
    problems: list[FieldProblem] = []
    summed: dict[LotKey, Decimal] = {}
    for item, lot, quantity in quantities:
        try:
            check_quantity(quantity)
        except ValueError as exc:
            problems.append(FieldProblem(f"quantities/{item}", str(exc)))
        summed[(item, lot)] = summed.get((item, lot), ZERO) + quantity
    if problems:
        raise ValidationFailed("the bin count is not valid", problems)
    return summed


def check_counter(
    caller: Caller, label: str, assigned_device: int | None, assigned_counter: str | None
) -> None:
    """A bin assigned to a device or counter is counted by them (supervisors may too)."""
    if caller.kind is CallerKind.USER and caller.role in (Role.ADMIN, Role.SUPERVISOR):
        return
    if assigned_device is None and assigned_counter is None:
        return
    if caller.kind is CallerKind.DEVICE and assigned_device == caller.device_id:
        return
    if caller.kind is CallerKind.USER and assigned_counter == caller.name:
        return
    raise PermissionDenied(
        f"bin {label} is assigned to another counter or device", [FieldProblem("bin", label)]
    )


def check_contents(
    bin_count: BinCount, location: str, facts: Mapping[ItemCode, CountItemFacts]
) -> None:
    """The reconciliation's own checks of a bin count against the master data (unknown
    items, quantities for serialized items, lots where none belong), run on this bin
    alone against an empty snapshot. A scanned serial of a known serial-tracked item can
    raise no problem there (it is only an unknown-serial line): only the others are
    handed over, so a bin of a hundred good serials builds no hundred lines to throw away."""
    check_contents_of_many([bin_count], location, facts)


def check_contents_of_many(
    bin_counts: Sequence[BinCount],
    location: str,
    facts: Mapping[ItemCode, CountItemFacts],
    serial_items: Sequence[AbstractSet[ItemCode]] | None = None,
) -> None:
    """`check_contents` of many bin counts of different bins at once: the problems one
    reconciliation of them all against an empty snapshot raises (`content_problems`,
    without its lines; the checks are per bin, so each bin count meets the same checks as
    alone; the refusal names the problems of every bin count that has one). Bin counts of
    one bin are checked one by one. `serial_items`: the items of each bin count's serials,
    when the caller has them."""
    labels = [bc.bin for bc in bin_counts]
    if len(set(labels)) != len(labels):
        for bc in bin_counts:
            check_contents_of_many([bc], location, facts)
        return
    serialized = {code for code, f in facts.items() if f.tracking is Tracking.SERIAL}
    if serial_items is None:
        serial_items = [set(map(itemgetter(0), bc.serials)) for bc in bin_counts]
    nothing: frozenset[tuple[ItemCode, str]] = frozenset()

    def suspect(bc: BinCount, items: AbstractSet[ItemCode]) -> frozenset[tuple[ItemCode, str]]:
        # Items first: a bin of a hundred serials holds a few items.
        if items <= serialized:
            return nothing
        return frozenset(k for k in bc.serials if k[0] not in serialized)

    problems = content_problems(
        frozenset(labels),
        {
            bc.bin: (suspect(bc, items), bc.quantities)
            for bc, items in zip(bin_counts, serial_items, strict=True)
        },
        facts,
    )
    if problems:
        raise ValidationFailed(CONTENTS_REFUSED, problems)
