"""What a StockCount reconciles: its snapshot, its BinCounts, its items, its status.

Items, bins and serials are named by their codes (item code, bin label, serial number):
a count belongs to one location, where a bin label is unique, and codes keep line ids
readable and stable across a reload from the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple

from server.domain.errors import Conflict, FieldProblem
from server.domain.masterdata import BinKind, Tracking
from server.domain.money import ZERO

ItemCode = str
BinLabel = str
SerialKey = tuple[ItemCode, str]  # (item, serial number): a serial number is unique per item
LotKey = tuple[ItemCode, str]  # (item, lot); lot "" for an untracked item


class SnapshotSerial(NamedTuple):
    """A serial as the system held it when counting started (a named tuple: cheap to
    build and light to keep, and a snapshot may hold a million)."""

    item: ItemCode
    serial: str
    bin: BinLabel
    actual_cost: Decimal
    bin_kind: BinKind = BinKind.STOCK


@dataclass(frozen=True, slots=True)
class SnapshotBalance:
    """On-hand quantity of an untracked or lot item in a bin when counting started."""

    item: ItemCode
    bin: BinLabel
    lot: str
    quantity: Decimal
    average_cost: Decimal


@dataclass(frozen=True, slots=True)
class CountItemFacts:
    """What reconciliation needs to know of an item at the count's location.

    `average_cost`: the location's average cost; for a serialized item the average of its
    serials on hand (server.domain.costing, its fallbacks applied), the cost of its
    generated and unknown serials."""

    item: ItemCode
    tracking: Tracking
    auto_serialized: bool = False
    average_cost: Decimal = ZERO
    last_cost: Decimal = ZERO

    @property
    def default_unit_cost(self) -> Decimal:
        """The location's average cost, or the item's last cost when that is zero (seed 004)."""
        return self.average_cost if self.average_cost != ZERO else self.last_cost


@dataclass(frozen=True)
class Snapshot:
    """The system stock of a StockCount's scope, frozen when counting started.

    `serials` and `balances` cover the bins in `scope`. `bin_kinds` names every bin of the
    location (in scope or not), so a serial found in a bin is judged by the kind of its
    system bin. `outside_serials` are serials of the same location whose bin lies outside
    the scope: the service may pass only the ones a counter scanned, which keeps the
    lookup small. `known_elsewhere` are serials the system knows but not in this
    location's stock (another location, written off, on a job): a gain would duplicate
    them, so they are reported, never adjusted.
    """

    location: str
    scope: frozenset[BinLabel]
    bin_kinds: Mapping[BinLabel, BinKind]
    items: Mapping[ItemCode, CountItemFacts]
    serials: Collection[SnapshotSerial] = ()
    balances: Sequence[SnapshotBalance] = ()
    outside_serials: Sequence[SnapshotSerial] = ()
    known_elsewhere: Collection[SerialKey] = frozenset()

    @classmethod
    def indexed(
        cls,
        serial_index: Mapping[SerialKey, SnapshotSerial],
        serials_by_bin: Mapping[BinLabel, frozenset[SerialKey]],
        **fields: Any,
    ) -> Snapshot:
        """A snapshot whose indexes a loader built while reading the rows (one pass over
        a million serials instead of three); `serials` is the index's values. The index
        may be any mapping, one that makes each SnapshotSerial when asked for it too:
        reconciliation asks only for the serials of discrepancies."""
        snapshot = cls(serials=serial_index.values(), **fields)
        # cached_property keeps its value in the instance __dict__.
        snapshot.__dict__["serial_index"] = serial_index
        snapshot.__dict__["serials_by_bin"] = serials_by_bin
        return snapshot

    # The indexes are built on first use and kept with the snapshot: reconciliation is
    # recomputed as bin counts arrive, and a frozen snapshot never needs them rebuilt.
    @cached_property
    def serial_index(self) -> Mapping[SerialKey, SnapshotSerial]:
        return {(s.item, s.serial): s for s in self.serials}

    @cached_property
    def serials_by_bin(self) -> Mapping[BinLabel, frozenset[SerialKey]]:
        grouped: dict[BinLabel, list[SerialKey]] = {}
        for key, s in self.serial_index.items():
            grouped.setdefault(s.bin, []).append(key)
        return {label: frozenset(keys) for label, keys in grouped.items()}

    @cached_property
    def outside_index(self) -> dict[SerialKey, SnapshotSerial]:
        return {(s.item, s.serial): s for s in self.outside_serials}


@dataclass(frozen=True, slots=True)
class SubmittedBinCount:
    """A counter's count of one bin as it arrives, before it is checked and recorded
    (server.domain.counting.checks; `record_bin_count`): from the API's bin-count POST,
    or folded from a device's closed bin (server.domain.sync.fold_bin). Serials as
    scanned, once each; quantities as keyed, one line each (checks sum them per lot)."""

    bin: BinLabel
    started_at: datetime
    finished_at: datetime
    serials: Sequence[SerialKey] = ()  # (item, serial number)
    quantities: Sequence[tuple[ItemCode, str, Decimal]] = ()  # (item, lot, quantity)
    counter: str = ""  # the counter signed in on the device when it opened the bin ("": none)


@dataclass(frozen=True, slots=True, eq=False)
class BinCount:
    """One counter's complete count of one bin, built from scan events.

    `serials` holds every (item, serial) scanned. `quantities` holds keyed quantities per
    (item, lot): untracked items with lot "", lot items per lot, and for an
    auto-serialized item the units found without a readable serial (lot ""), for which
    serials are generated. An item of the bin that appears in neither was counted as zero.
    """

    id: str
    bin: BinLabel
    counter: str
    device: str
    started_at: datetime
    finished_at: datetime
    serials: frozenset[SerialKey] = frozenset()
    quantities: Mapping[LotKey, Decimal] = field(default_factory=dict)

    def with_contents(
        self, serials: frozenset[SerialKey], quantities: Mapping[LotKey, Decimal]
    ) -> BinCount:
        """This count with other contents (`dataclasses.replace` without its per-call
        field walk: a reconciliation makes one per counted bin, 10,000 at a time)."""
        return BinCount(
            self.id,
            self.bin,
            self.counter,
            self.device,
            self.started_at,
            self.finished_at,
            serials,
            quantities,
        )

    def same_contents(self, other: BinCount) -> bool:
        """Two counts agree when they found the same serials and the same non-zero quantities."""
        if self.serials != other.serials:
            return False
        mine = {k: q for k, q in self.quantities.items() if q != ZERO}
        theirs = {k: q for k, q in other.quantities.items() if q != ZERO}
        return mine == theirs

    def overlaps(self, other: BinCount) -> bool:
        return self.started_at < other.finished_at and other.started_at < self.finished_at


class CountStatus(StrEnum):
    OPEN = "open"
    COUNTING = "counting_in_process"
    COUNTED = "counted"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_LABELS = {
    CountStatus.OPEN: "Open",
    CountStatus.COUNTING: "Counting in Process",
    CountStatus.COUNTED: "Counted",
    CountStatus.COMPLETED: "Completed",
    CountStatus.CANCELLED: "Cancelled",
}

FINALIZE_WARNING = (
    "The stock count is still Counting in Process. Finalizing now makes the necessary "
    "inventory adjustments and finalizes the count; bins without a count are left as they "
    "are. Confirm to continue, or abort."
)


def status_label(status: CountStatus) -> str:
    return _LABELS[status]


def _refuse(status: CountStatus, action: str, allowed: str) -> Conflict:
    return Conflict(
        f"cannot {action} a stock count that is {status_label(status)}",
        [FieldProblem("status", f"{action} is allowed only when the count is {allowed}")],
        code="count-status",
    )


def start_counting(status: CountStatus) -> CountStatus:
    """Open -> Counting in Process. The service takes the snapshot in the same transaction."""
    if status is not CountStatus.OPEN:
        raise _refuse(status, "start counting", "Open")
    return CountStatus.COUNTING


def mark_counted(
    status: CountStatus,
    scope: Collection[BinLabel],
    counted_bins: Collection[BinLabel],
    *,
    supervisor_override: bool = False,
) -> CountStatus:
    """Counting in Process -> Counted once every bin in scope has an effective count.

    A supervisor may declare the count done with bins still uncounted: finalize then
    leaves those bins as they are and lists them.
    """
    if status is not CountStatus.COUNTING:
        raise _refuse(status, "mark counted", "Counting in Process")
    missing = sorted(set(scope) - set(counted_bins))
    if missing and not supervisor_override:
        raise Conflict(
            f"{len(missing)} bin(s) of the count have no effective bin count",
            [FieldProblem(f"bins/{label}", "not counted") for label in missing[:50]],
            code="count-incomplete",
        )
    return CountStatus.COUNTED


def order_recount(status: CountStatus) -> CountStatus:
    """A recount reopens counting: a Counted count goes back to Counting in Process."""
    if status not in (CountStatus.COUNTING, CountStatus.COUNTED):
        raise _refuse(status, "order a recount of", "Counting in Process or Counted")
    return CountStatus.COUNTING


def cancel(status: CountStatus) -> CountStatus:
    """Cancelled from any status before Completed; the bins are free again."""
    if status in (CountStatus.COMPLETED, CountStatus.CANCELLED):
        raise _refuse(status, "cancel", "Open, Counting in Process or Counted")
    return CountStatus.CANCELLED


@dataclass(frozen=True, slots=True)
class FinalizeDecision:
    """The answer to a finalize request, decided once on the count's status: go on
    (with the seed's warning while counting is in process), or ask for confirmation."""

    status: CountStatus  # the status it was decided on
    proceed: bool
    warning: str | None = None

    def go_ahead(self) -> None:
        """Raises the Conflict (code finalize-needs-confirmation) with the seed's warning
        when the decision does not proceed; nothing has changed then."""
        if not self.proceed:
            raise Conflict(
                self.warning or "finalize needs confirmation",
                [FieldProblem("confirm", "send confirm: true to finalize while counting")],
                code="finalize-needs-confirmation",
            )


def decide_finalize(status: CountStatus, *, confirmed: bool = False) -> FinalizeDecision:
    """Seed 000: finalize is activated in Counted; in Counting in Process the user is warned
    and may continue or abort; any other status is refused (Conflict, code count-status)."""
    if status is CountStatus.COUNTED:
        return FinalizeDecision(status, proceed=True)
    if status is CountStatus.COUNTING:
        return FinalizeDecision(status, proceed=confirmed, warning=FINALIZE_WARNING)
    raise _refuse(status, "finalize", "Counted (or Counting in Process, with confirmation)")


def freezes_bins(status: CountStatus) -> bool:
    """While a count is in process its bins take no postings (the snapshot must hold)."""
    return status in (CountStatus.COUNTING, CountStatus.COUNTED)
