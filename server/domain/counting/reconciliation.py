"""Reconciliation: the snapshot against the effective BinCounts, classified per item and bin.

Every discrepancy becomes a `DiscrepancyLine` with a stable id, so a supervisor can select
or clear it and the choice survives a recomputation. Matched serials produce no line, only
a count per item and bin: a million serials reconcile with integer counting and dict/set
look-ups keyed by (item, serial); Decimal work is done only for the few discrepancies.

The seed's columns on every line:
- Adjustment Quantity: written off (negative) or gained (positive) in the line's bin.
- Stock Transfer Quantity: moved into the line's bin from another bin.
- Adjustment Cost: the actual cost of the serial concerned (average cost for quantities).
- Adjustment Value: Adjustment Quantity x Adjustment Cost, rounded half-up to the cent.
- Stock Transfer Value: the actual cost of the serial transferred, to the cent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter
from typing import NamedTuple

from server.domain.counting.bincounts import BinCountConflict
from server.domain.counting.model import (
    BinCount,
    BinLabel,
    CountItemFacts,
    ItemCode,
    LotKey,
    SerialKey,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
)
from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.masterdata import BinKind, Tracking
from server.domain.money import ZERO, check_quantity, extend, round_value

RELEASED_SUGGESTION = (
    "Released: serial numbers in OUT bins cannot be selected or transferred. Adjust a "
    "previously released item with a credit memo, or generate new serial numbers through "
    "a purchase receipt or a Quantity Adjustment."
)
FOREIGN_NOTE = (
    "The system knows this serial outside this location's stock: move it with the "
    "Inventory Adjustment Journal instead of gaining a duplicate."
)
SERIAL_CONFLICT_NOTE = "Scanned in more than one bin of this count: recount the bins."
BIN_CONFLICT_NOTE = "Concurrent bin counts disagree: pick one or order a recount."
_MAX_PROBLEMS = 100
CONTENTS_REFUSED = "the bin counts do not fit the count's master data"
ONE = Decimal(1)
_NOBODY: frozenset[str] = frozenset()


class LineKind(StrEnum):
    MISSING = "missing"  # serial expected, found nowhere in the count: write-off
    UNKNOWN = "unknown"  # serial the system does not know: gain
    GENERATED = "generated"  # units of an auto-serialized item without serial: gain
    SERIAL_TRANSFER = "serial_transfer_proposal"  # found in another bin than its system bin
    RELEASED = "released"  # system bin is an OUT bin: exception, never adjusted
    FOREIGN = "foreign"  # known to the system outside this location's stock: exception
    SERIAL_CONFLICT = "serial_conflict"  # scanned in two bins of the count
    BIN_COUNT_CONFLICT = "bin_count_conflict"  # concurrent bin counts disagree
    QUANTITY_VARIANCE = "quantity_variance"  # untracked or lot item, per bin and lot


ADJUSTABLE_KINDS = frozenset(
    {
        LineKind.MISSING,
        LineKind.UNKNOWN,
        LineKind.GENERATED,
        LineKind.SERIAL_TRANSFER,
        LineKind.QUANTITY_VARIANCE,
    }
)


def _part(text: str) -> str:
    if "%" not in text and "|" not in text:
        return text
    return text.replace("%", "%25").replace("|", "%7C")


def line_id(kind: LineKind, item: str, key: str, bin_label: str) -> str:
    """A line's identity: the same discrepancy gets the same id on every recomputation."""
    return f"{kind.value}|{_part(item)}|{_part(key)}|{_part(bin_label)}"


@dataclass(frozen=True, slots=True)
class DiscrepancyLine:
    """One discrepancy. `bin` is the bin the line adjusts: the system bin of a missing
    serial, the counted bin of a gain, the destination of a SerialTransferProposal (whose
    source is `from_bin`). `system_quantity`/`counted_quantity` are the item's (and lot's)
    quantities in `bin`. `counters` are the users who counted the bins concerned."""

    id: str
    kind: LineKind
    item: ItemCode
    bin: BinLabel
    lot: str = ""
    serial: str = ""
    from_bin: BinLabel | None = None
    bins: tuple[BinLabel, ...] = ()
    system_quantity: Decimal = ZERO
    counted_quantity: Decimal = ZERO
    adjustment_quantity: Decimal = ZERO
    stock_transfer_quantity: Decimal = ZERO
    adjustment_cost: Decimal = ZERO
    adjustment_value: Decimal = ZERO
    stock_transfer_value: Decimal = ZERO
    counters: frozenset[str] = frozenset()
    note: str = ""

    @property
    def adjustable(self) -> bool:
        return self.kind in ADJUSTABLE_KINDS


@dataclass(frozen=True, slots=True)
class Reconciliation:
    lines: tuple[DiscrepancyLine, ...]
    # Serials found in their system bin, per bin and item (a million serials spread over
    # a million (item, bin) pairs would otherwise be a million pair tuples), the caller's
    # `settled` ones included.
    matched_by_bin: Mapping[BinLabel, Mapping[ItemCode, int]]
    counted_bins: frozenset[BinLabel]
    not_counted_bins: tuple[BinLabel, ...]
    bin_count_conflicts: tuple[BinCountConflict, ...] = ()

    @property
    def matched(self) -> dict[tuple[ItemCode, BinLabel], int]:
        """Serials found in their system bin, per (item, bin)."""
        return {
            (item, label): n
            for label, items in self.matched_by_bin.items()
            for item, n in items.items()
            if n
        }

    def by_id(self) -> dict[str, DiscrepancyLine]:
        return {line.id: line for line in self.lines}

    @property
    def serial_transfer_proposals(self) -> tuple[DiscrepancyLine, ...]:
        return tuple(x for x in self.lines if x.kind is LineKind.SERIAL_TRANSFER)

    @property
    def exceptions(self) -> tuple[DiscrepancyLine, ...]:
        return tuple(x for x in self.lines if not x.adjustable)


class _Pending(NamedTuple):
    """A serial line waiting for its bin's final system and counted quantities."""

    kind: LineKind
    item: ItemCode
    serial: str
    bin: BinLabel
    adjustment: Decimal
    cost: Decimal
    from_bin: BinLabel | None
    note: str
    bins: tuple[BinLabel, ...]


class _Problems:
    """The input problems of one reconcile call, the first `_MAX_PROBLEMS` of them."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def problem(self, where: str, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(FieldProblem(where, message))


class _Builder(_Problems):
    """Accumulates lines, integer counts and input problems during one reconcile call."""

    def __init__(
        self,
        snapshot: Snapshot,
        counters: Mapping[BinLabel, frozenset[str]],
        settled: Mapping[tuple[ItemCode, BinLabel], int],
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.counters = counters
        self.lines: list[DiscrepancyLine] = []
        self.pending: list[_Pending] = []
        # Plain dicts of str to int, not Counters: the cycle collector does not track
        # them (10,000 bins: 10,000 objects fewer for each full collection to walk, for as
        # long as the reconciliation lives).
        self.matched: dict[BinLabel, dict[ItemCode, int]] = {}
        matched = self.matched
        for (item, label), n in settled.items():  # a dict made only for a new bin
            found = matched.get(label)
            if found is None:
                found = matched[label] = {}
            found[item] = found.get(item, 0) + n
        # Serials of an (item, bin) expected there but not found there, and found there but
        # not expected there: with the matched count they give the system and counted
        # quantities of the bin without another pass over every serial.
        self.displaced: dict[tuple[ItemCode, BinLabel], int] = {}
        self.found_in: dict[tuple[ItemCode, BinLabel], int] = {}
        # The users of each combination of bins (the lines of a bin share them).
        self._who: dict[tuple[BinLabel | None, ...], frozenset[str]] = {}

    def who(self, *bins: BinLabel | None) -> frozenset[str]:
        found = self._who.get(bins)
        if found is None:
            counters = self.counters
            found = _NOBODY
            for label in bins:
                if label is None:
                    continue
                users = counters.get(label, _NOBODY)
                # Most lines: one bin's own set, or two bins counted by the same people
                # (that set again, not an equal copy a line for as long as the lines live).
                if not users <= found:
                    found = users if found <= users else found | users
            self._who[bins] = found
        return found

    def kind_of(self, serial: SnapshotSerial) -> BinKind:
        return self.snapshot.bin_kinds.get(serial.bin, serial.bin_kind)

    def serial_line(
        self,
        kind: LineKind,
        item: ItemCode,
        serial: str,
        bin_label: BinLabel,
        *,
        adjustment: Decimal = ZERO,
        cost: Decimal = ZERO,
        from_bin: BinLabel | None = None,
        note: str = "",
        bins: tuple[BinLabel, ...] = (),
    ) -> None:
        self.pending.append(
            _Pending(kind, item, serial, bin_label, adjustment, cost, from_bin, note, bins)
        )

    def finish_serial_lines(self) -> None:
        # Tens of thousands of lines at a million serials: the look-ups are hoisted.
        matched, displaced, found_in = self.matched, self.displaced, self.found_in
        known, who, append = self._who, self.who, self.lines.append
        transfer_kind = LineKind.SERIAL_TRANSFER
        for kind, item, serial, label, adjustment, cost, from_bin, note, bins in self.pending:
            pair = (item, label)
            found = matched.get(label)
            same = found.get(item, 0) if found is not None else 0
            transfer = kind is transfer_kind
            users = known.get((label, from_bin, *bins))
            if users is None:
                users = who(label, from_bin, *bins)
            # Positional, in the fields' order: a third cheaper than by keyword (tens of
            # thousands of lines).
            append(
                DiscrepancyLine(
                    line_id(kind, item, serial, label),  # id
                    kind,
                    item,
                    label,  # bin
                    "",  # lot
                    serial,
                    from_bin,
                    bins,
                    Decimal(same + displaced.get(pair, 0)),  # system_quantity
                    Decimal(same + found_in.get(pair, 0)),  # counted_quantity
                    adjustment,  # adjustment_quantity
                    ONE if transfer else ZERO,  # stock_transfer_quantity
                    cost,  # adjustment_cost
                    extend(adjustment, cost),  # adjustment_value
                    round_value(cost) if transfer else ZERO,  # stock_transfer_value
                    users,  # counters
                    note,
                )
            )


def _bump(counts: dict[tuple[ItemCode, BinLabel], int], pair: tuple[ItemCode, BinLabel]) -> None:
    counts[pair] = counts.get(pair, 0) + 1


def reconcile(
    snapshot: Snapshot,
    effective: Mapping[BinLabel, BinCount],
    *,
    conflicts: Sequence[BinCountConflict] = (),
    counters: Mapping[BinLabel, frozenset[str]] | None = None,
    settled: Mapping[tuple[ItemCode, BinLabel], int] | None = None,
) -> Reconciliation:
    """Classify every difference between the snapshot and the effective BinCounts.

    Bins without an effective count (never counted, or in conflict) are left as the
    system has them: their serials are not missing and their quantities not varied. A
    serial of such a bin that turns up in a counted bin is still a transfer proposal.
    Raises ValidationFailed when a BinCount does not fit the master data (a bin outside
    the scope, an unknown item, a keyed quantity for a serialized item).

    `settled` holds serials per (item, counted bin) that were scanned in their system bin
    and nowhere else, which the caller has left out of both the snapshot and the bin
    counts (a database matched them): they make no line, and count in the system and
    counted quantities of the lines of their item and bin. With `settled` the snapshot
    must still hold every serial scanned outside its system bin or in two bins, and every
    serial not found in its counted system bin; the result is then the same as from the
    whole snapshot and bin counts. The caller gives the pairs its lines need.
    """
    if counters is None:
        counters = {label: frozenset({bc.counter}) for label, bc in effective.items()}
    b = _Builder(snapshot, counters, settled or {})
    for label in effective:
        if label not in snapshot.scope:
            b.problem(f"bins/{label}", "bin is not in the count's scope")

    elsewhere, absent = _compare_bins(b, effective)
    _classify_elsewhere(b, elsewhere, effective)
    _classify_absent(b, absent, elsewhere)
    _quantities(b, effective)
    b.finish_serial_lines()
    for conflict in conflicts:
        b.lines.append(
            DiscrepancyLine(
                id=line_id(LineKind.BIN_COUNT_CONFLICT, "", "", conflict.bin),
                kind=LineKind.BIN_COUNT_CONFLICT,
                item="",
                bin=conflict.bin,
                bins=conflict.bin_count_ids,
                counters=conflict.counters,
                note=BIN_CONFLICT_NOTE,
            )
        )
    if b.problems:
        raise ValidationFailed(CONTENTS_REFUSED, b.problems)

    b.lines.sort(key=lambda x: (x.item, x.bin, x.kind, x.serial, x.lot))  # a StrEnum: its value
    conflicted = {c.bin for c in conflicts}
    return Reconciliation(
        lines=tuple(b.lines),
        matched_by_bin=b.matched,
        counted_bins=frozenset(effective),
        not_counted_bins=tuple(sorted(snapshot.scope - effective.keys() - conflicted)),
        bin_count_conflicts=tuple(conflicts),
    )


def content_problems(
    scope: frozenset[BinLabel],
    contents: Mapping[BinLabel, tuple[AbstractSet[SerialKey], Mapping[LotKey, Decimal]]],
    items: Mapping[ItemCode, CountItemFacts],
) -> list[FieldProblem]:
    """The problems `reconcile` raises for bin counts with these contents (serials,
    quantities) against an empty snapshot of `scope` and `items` (no serials, balances or
    serials known elsewhere), in the same order and as many, without building the lines it
    would throw away: a bin outside the scope, a serial of an unknown or untracked item
    scanned in one bin only (in two it is a conflict line), a keyed quantity that does not
    fit its item."""
    b = _Problems()
    for label in contents:
        if label not in scope:
            b.problem(f"bins/{label}", "bin is not in the count's scope")
    empty: frozenset[SerialKey] = frozenset()
    elsewhere: dict[SerialKey, list[BinLabel]] = {}
    for label, (serials, _) in contents.items():
        for key in serials - empty:  # `_compare_bins`' order, nothing expected
            elsewhere.setdefault(key, []).append(label)
    for (item, serial), bins in elsewhere.items():
        if len(bins) == 1:
            why = _not_a_serial(items.get(item), item)
            if why is not None:
                b.problem(f"bins/{bins[0]}/serials/{serial}", why)
    for label, (_, quantities) in contents.items():
        for (item, lot), quantity in quantities.items():
            _valid_quantity(b, items.get(item), item, lot, quantity, f"bins/{label}/items/{item}")
    return b.problems


def _compare_bins(
    b: _Builder, effective: Mapping[BinLabel, BinCount]
) -> tuple[dict[SerialKey, list[BinLabel]], list[SerialKey]]:
    """Per counted bin, scanned serials against the bin's system serials, as set
    operations: the matched bulk never reaches Python-level code. Returns the serials
    scanned away from their system bin (with the bins they were scanned in) and the
    serials absent from their counted system bin."""
    by_bin = b.snapshot.serials_by_bin
    empty: frozenset[SerialKey] = frozenset()
    elsewhere: dict[SerialKey, list[BinLabel]] = {}
    absent: list[SerialKey] = []
    first_item = itemgetter(0)
    for label, count in effective.items():
        scanned = count.serials
        expected = by_bin.get(label, empty)
        same = scanned & expected
        if same:
            found = b.matched.get(label)
            if found is None:
                found = b.matched[label] = {}
            # Counted in C, then added per item (a bin holds few items).
            for item, n in Counter(map(first_item, same)).items():
                found[item] = found.get(item, 0) + n
        if len(same) != len(scanned):
            for key in scanned - same:
                elsewhere.setdefault(key, []).append(label)
        if len(same) != len(expected):
            absent.extend(expected - same)
    return elsewhere, absent


def _classify_elsewhere(
    b: _Builder,
    elsewhere: dict[SerialKey, list[BinLabel]],
    effective: Mapping[BinLabel, BinCount],
) -> None:
    index, outside = b.snapshot.serial_index, b.snapshot.outside_index
    for key, bins in elsewhere.items():
        item, serial = key
        system = index.get(key) or outside.get(key)
        if system is not None:
            home = effective.get(system.bin)
            if home is not None and key in home.serials:
                # Also scanned where the system has it: a conflict, not a match.
                bins = [*bins, system.bin]
                home_matched = b.matched[system.bin]
                home_matched[item] = home_matched.get(item, 0) - 1
            _bump(b.displaced, (item, system.bin))
        if len(bins) > 1:
            b.serial_line(
                LineKind.SERIAL_CONFLICT,
                item,
                serial,
                "",
                bins=tuple(sorted(bins)),
                note=SERIAL_CONFLICT_NOTE,
            )
            continue
        label = bins[0]
        _bump(b.found_in, (item, label))
        if system is None:
            _unknown(b, item, serial, label)
        elif b.kind_of(system) is BinKind.OUT:
            b.serial_line(
                LineKind.RELEASED,
                item,
                serial,
                label,
                from_bin=system.bin,
                note=RELEASED_SUGGESTION,
            )
        else:
            b.serial_line(
                LineKind.SERIAL_TRANSFER,
                item,
                serial,
                label,
                cost=system.actual_cost,
                from_bin=system.bin,
            )


def _not_a_serial(facts: CountItemFacts | None, item: ItemCode) -> str | None:
    """Why a serial of `item` cannot be scanned, if it cannot."""
    if facts is None:
        return f"unknown item {item!r}"
    if facts.tracking is not Tracking.SERIAL:
        return f"item {item!r} is not serial-tracked"
    return None


def _unknown(b: _Builder, item: ItemCode, serial: str, label: BinLabel) -> None:
    facts = b.snapshot.items.get(item)
    why = _not_a_serial(facts, item)
    if why is not None:
        b.problem(f"bins/{label}/serials/{serial}", why)
        return
    assert facts is not None
    if (item, serial) in b.snapshot.known_elsewhere:
        b.serial_line(LineKind.FOREIGN, item, serial, label, note=FOREIGN_NOTE)
        return
    # The system has no cost for a serial it does not know: the item's average cost at the
    # location (its last cost when that is zero), as for generated serials (seed 000).
    b.serial_line(
        LineKind.UNKNOWN, item, serial, label, adjustment=ONE, cost=facts.default_unit_cost
    )


def _classify_absent(
    b: _Builder, absent: list[SerialKey], elsewhere: dict[SerialKey, list[BinLabel]]
) -> None:
    index = b.snapshot.serial_index
    for key in absent:
        if key in elsewhere:
            continue  # found in another bin: a transfer, release or conflict above
        system = index[key]
        item, serial = key
        _bump(b.displaced, (item, system.bin))
        if b.kind_of(system) is BinKind.OUT:
            # Released stock is not ours to write off: the release document carries it.
            b.serial_line(LineKind.RELEASED, item, serial, system.bin, note=RELEASED_SUGGESTION)
        else:
            b.serial_line(
                LineKind.MISSING, item, serial, system.bin, adjustment=-ONE, cost=system.actual_cost
            )


def _quantities(b: _Builder, effective: Mapping[BinLabel, BinCount]) -> None:
    """Keyed quantities: variances of untracked and lot items, generated serials."""
    items = b.snapshot.items
    system: dict[tuple[ItemCode, BinLabel, str], SnapshotBalance] = {}
    for balance in b.snapshot.balances:
        if balance.bin in effective:
            key = (balance.item, balance.bin, balance.lot)
            if key in system:
                b.problem(f"snapshot/{balance.item}/{balance.bin}", "duplicate balance")
            system[key] = balance
    counted: dict[tuple[ItemCode, BinLabel, str], Decimal] = {}
    # A quantity's validity depends on its item's tracking, whether it has a lot and its
    # value only: tens of thousands of counted quantities hold few distinct ones.
    valid: set[tuple[Tracking, bool, bool, Decimal]] = set()
    for label, count in effective.items():
        for (item, lot), quantity in count.quantities.items():
            facts = items.get(item)
            seen = None
            if facts is not None and quantity.is_finite():
                seen = (facts.tracking, facts.auto_serialized, not lot, quantity)
            if seen is None or seen not in valid:
                where = f"bins/{label}/items/{item}"
                if not _valid_quantity(b, facts, item, lot, quantity, where):
                    continue
                if seen is not None:
                    valid.add(seen)
            assert facts is not None
            if facts.tracking is Tracking.SERIAL:
                if quantity > ZERO:
                    _generated(b, facts, label, quantity)
                continue
            key = (item, label, lot)
            counted[key] = counted.get(key, ZERO) + quantity
    for key, held in system.items():
        quantity = counted.pop(key, ZERO)
        if quantity != held.quantity:
            _variance(b, key, held.quantity, quantity, held.average_cost)
    for key, quantity in counted.items():  # counted where the system has no balance
        if quantity != ZERO:
            _variance(b, key, ZERO, quantity, ZERO)


def _variance(
    b: _Builder,
    key: tuple[ItemCode, BinLabel, str],
    on_hand: Decimal,
    quantity: Decimal,
    cost: Decimal,
) -> None:
    item, label, lot = key
    items = b.snapshot.items
    if cost == ZERO and item in items:
        cost = items[item].default_unit_cost
    variance = quantity - on_hand
    b.lines.append(  # positional, as in finish_serial_lines
        DiscrepancyLine(
            line_id(LineKind.QUANTITY_VARIANCE, item, lot, label),  # id
            LineKind.QUANTITY_VARIANCE,
            item,
            label,  # bin
            lot,
            "",  # serial
            None,  # from_bin
            (),  # bins
            on_hand,  # system_quantity
            quantity,  # counted_quantity
            variance,  # adjustment_quantity
            ZERO,  # stock_transfer_quantity
            cost,  # adjustment_cost
            extend(variance, cost),  # adjustment_value
            ZERO,  # stock_transfer_value
            b.who(label),  # counters
            "",  # note
        )
    )


def _valid_quantity(
    b: _Problems, facts: CountItemFacts | None, item: str, lot: str, quantity: Decimal, where: str
) -> bool:
    if facts is None:
        b.problem(where, f"unknown item {item!r}")
        return False
    try:
        check_quantity(quantity)
    except ValueError as exc:
        b.problem(where, str(exc))
        return False
    if quantity < ZERO:
        b.problem(where, "a counted quantity cannot be negative")
    elif facts.tracking is Tracking.SERIAL and not facts.auto_serialized:
        b.problem(where, "a serialized item is counted by scanning its serials")
    elif facts.tracking is Tracking.SERIAL and (lot or quantity != quantity.to_integral_value()):
        b.problem(where, "units without serial are counted in whole numbers, without lot")
    elif facts.tracking is Tracking.LOT and not lot:
        b.problem(where, "a lot-tracked item is counted per lot")
    elif facts.tracking is Tracking.NONE and lot:
        b.problem(where, "an untracked item has no lot")
    else:
        return True
    return False


def _generated(b: _Builder, facts: CountItemFacts, label: BinLabel, quantity: Decimal) -> None:
    """Units of an auto-serialized item found without a serial: a gain whose serials are
    generated at posting, at the average cost (seed 000's note)."""
    b.found_in[(facts.item, label)] = b.found_in.get((facts.item, label), 0) + int(quantity)
    b.serial_line(
        LineKind.GENERATED, facts.item, "", label, adjustment=quantity, cost=facts.default_unit_cost
    )
