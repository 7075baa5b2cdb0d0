"""Which BinCount of a bin counts: recounts replace, concurrent disagreeing counts conflict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from server.domain.counting.model import BinCount, BinLabel


@dataclass(frozen=True, slots=True)
class BinCountConflict:
    """Two or more BinCounts of one bin, from different devices, overlapping in time, that
    disagree. The bin has no effective count until a supervisor picks one or a recount
    (started after all of them finished) replaces them."""

    bin: BinLabel
    bin_count_ids: tuple[str, ...]
    counters: frozenset[str]


class EffectiveBinCounts(NamedTuple):
    effective: dict[BinLabel, BinCount]
    conflicts: list[BinCountConflict]


def _order(count: BinCount) -> tuple[object, ...]:
    return (count.finished_at, count.started_at, count.id)


def effective_bin_counts(
    bin_counts: Iterable[BinCount], picked: Mapping[BinLabel, str] | None = None
) -> EffectiveBinCounts:
    """The effective BinCount of every counted bin, and the conflicts.

    Per bin the latest finished count is the candidate: every count that finished before
    it started is an earlier count it replaces (a recount). Counts from other devices that
    overlap the candidate in time are concurrent: if any of them found something else,
    nobody can say which is true, so the bin is a conflict and has no effective count.
    Where they agree nothing is raised. The same device cannot count one bin twice at
    once, so its overlapping counts are treated as a recount too.

    `picked` holds a supervisor's resolution (bin -> bin count id): that count is the
    effective one whatever else arrived, until the service drops the pick (a new recount).
    """
    by_bin: dict[BinLabel, list[BinCount]] = {}
    for count in bin_counts:
        by_bin.setdefault(count.bin, []).append(count)
    picked = picked or {}
    effective: dict[BinLabel, BinCount] = {}
    conflicts: list[BinCountConflict] = []
    for label in sorted(by_bin):
        counts = sorted(by_bin[label], key=_order)
        chosen_id = picked.get(label)
        if chosen_id is not None:
            chosen = [c for c in counts if c.id == chosen_id]
            if chosen:
                effective[label] = chosen[0]
                continue
        latest = counts[-1]
        rivals = [
            c
            for c in counts[:-1]
            if c.device != latest.device and c.overlaps(latest) and not c.same_contents(latest)
        ]
        if rivals:
            involved = [*rivals, latest]
            conflicts.append(
                BinCountConflict(
                    bin=label,
                    bin_count_ids=tuple(c.id for c in involved),
                    counters=frozenset(c.counter for c in involved),
                )
            )
        else:
            effective[label] = latest
    return EffectiveBinCounts(effective, conflicts)


def counters_by_bin(bin_counts: Iterable[BinCount]) -> dict[BinLabel, frozenset[str]]:
    """Every user who counted each bin in this count, replaced counts included: an auditor
    treats anyone who counted a bin as having a stake in its discrepancies."""
    result: dict[BinLabel, set[str]] = {}
    for count in bin_counts:
        result.setdefault(count.bin, set()).add(count.counter)
    return {label: frozenset(users) for label, users in result.items()}
