"""Which BinCount of a bin counts.

- A recount the supervisor ordered replaces every count of the bin that started before
  the order: until one started after it arrives, the bin waits for its recount (it has no
  count).
- The same counter counting the bin again replaces their own earlier count.
- Counts of one bin by different counters (a device, or a user counting without one) are
  compared whenever they were made: if they agree they confirm each other, and if any
  two disagree the bin is a conflict until the supervisor picks one or orders a recount.
  A later count of another counter never silently replaces an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from server.domain.counting.model import BinCount, BinLabel


@dataclass(frozen=True, slots=True)
class BinCountConflict:
    """Two or more current BinCounts of one bin, by different counters, that disagree. The
    bin has no effective count until a supervisor picks one or orders a recount."""

    bin: BinLabel
    bin_count_ids: tuple[str, ...]
    counters: frozenset[str]


class CurrentBinCounts(NamedTuple):
    """The bin counts that still stand (per bin, one per counter) and those replaced."""

    current: dict[BinLabel, list[BinCount]]
    replaced: frozenset[str]


class EffectiveBinCounts(NamedTuple):
    effective: dict[BinLabel, BinCount]
    conflicts: list[BinCountConflict]
    # Per bin with an effective count: the ids of the other counters' counts that agree
    # with it (a count confirmed by a second counter).
    confirmations: dict[BinLabel, tuple[str, ...]]


def _order(count: BinCount) -> tuple[object, ...]:
    return (count.finished_at, count.started_at, count.id)


def current_bin_counts(
    bin_counts: Iterable[BinCount], recount_ordered: Mapping[BinLabel, datetime] | None = None
) -> CurrentBinCounts:
    """The bin counts that stand, from their headers alone (no contents needed).

    `recount_ordered` holds, per bin, when the supervisor last ordered its recount: counts
    that started before that are replaced. Of each counter's remaining counts of a bin, the
    latest stands (`BinCount.device` names the counter: a device, or a user without one).
    """
    orders = recount_ordered or {}
    by_bin: dict[BinLabel, dict[str, BinCount]] = {}
    replaced: set[str] = set()
    for count in sorted(bin_counts, key=_order):
        ordered_at = orders.get(count.bin)
        if ordered_at is not None and count.started_at < ordered_at:
            replaced.add(count.id)
            continue
        mine = by_bin.setdefault(count.bin, {})
        earlier = mine.get(count.device)
        if earlier is not None:
            replaced.add(earlier.id)
        mine[count.device] = count
    return CurrentBinCounts(
        {label: sorted(counts.values(), key=_order) for label, counts in by_bin.items()},
        frozenset(replaced),
    )


def effective_bin_counts(
    bin_counts: Iterable[BinCount],
    picked: Mapping[BinLabel, str] | None = None,
    recount_ordered: Mapping[BinLabel, datetime] | None = None,
) -> EffectiveBinCounts:
    """`resolve_bin_counts` over `current_bin_counts`: every bin count with its contents."""
    return resolve_bin_counts(current_bin_counts(bin_counts, recount_ordered).current, picked)


def resolve_bin_counts(
    current: Mapping[BinLabel, list[BinCount]], picked: Mapping[BinLabel, str] | None = None
) -> EffectiveBinCounts:
    """The effective BinCount of every counted bin, the conflicts and the confirmations.

    `current` is `current_bin_counts(...).current`, with contents for every bin that has
    more than one count (the others are not compared). `picked` holds a supervisor's
    resolution (bin -> bin count id): that count is the effective one, until the service
    drops the pick (a new bin count or a recount order).
    """
    picked = picked or {}
    effective: dict[BinLabel, BinCount] = {}
    conflicts: list[BinCountConflict] = []
    confirmations: dict[BinLabel, tuple[str, ...]] = {}
    for label in sorted(current):
        counts = current[label]
        if not counts:
            continue
        chosen_id = picked.get(label)
        chosen = next((c for c in counts if c.id == chosen_id), None)
        latest = chosen if chosen is not None else counts[-1]
        others = [c for c in counts if c is not latest]
        if chosen is None and any(not c.same_contents(latest) for c in others):
            conflicts.append(
                BinCountConflict(
                    bin=label,
                    bin_count_ids=tuple(c.id for c in counts),
                    counters=frozenset(c.counter for c in counts),
                )
            )
            continue
        effective[label] = latest
        agreeing = tuple(c.id for c in others if c.same_contents(latest))
        if agreeing:
            confirmations[label] = agreeing
    return EffectiveBinCounts(effective, conflicts, confirmations)


def counters_by_bin(bin_counts: Iterable[BinCount]) -> dict[BinLabel, frozenset[str]]:
    """Every user who counted each bin in this count, replaced counts included: an auditor
    treats anyone who counted a bin as having a stake in its discrepancies."""
    result: dict[BinLabel, set[str]] = {}
    for count in bin_counts:
        result.setdefault(count.bin, set()).add(count.counter)
    # Bins counted by the same people share one set (10,000 bins, a few counters).
    shared: dict[frozenset[str], frozenset[str]] = {}
    return {
        label: shared.setdefault(users := frozenset(found), users)
        for label, found in result.items()
    }
