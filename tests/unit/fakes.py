"""What the fakes of every feature share (tests/unit/<feature>/fakes.py): the fake
transaction their units of work are built on, and the fake posting writer."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from server.domain.masterdata import Tracking
from server.domain.posting import LocationSide, PostingResult
from server.ports import PostingContext, PostingIds

S = TypeVar("S", bound=Any)


class FakeTransaction(Generic[S]):
    """A transaction over a state object, as cosmicpython's FakeUnitOfWork: the block
    works on a deep copy of the committed state; commit() keeps the copy, leaving the
    block without it drops the copy, as a database transaction would. `commits` counts
    the commits. A unit of work's fakes of its ports read and write `state`: the copy
    inside a block, the committed state outside (where a test sets up and looks)."""

    def __init__(self, state: S) -> None:
        self.committed = state
        self.commits = 0
        self._working: S | None = None

    @property
    def state(self) -> S:
        return self.committed if self._working is None else self._working

    async def __aenter__(self) -> Self:
        self._working = copy.deepcopy(self.committed)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None

    async def commit(self) -> None:
        assert self._working is not None, "commit() outside the unit of work's block"
        self.committed.__dict__.update(copy.deepcopy(self._working).__dict__)
        self.commits += 1


@dataclass
class FakePostings:
    """The PostingPort: bins frozen as given (by (location, bin label)); `apply` keeps
    each result with its context in `applied`."""

    frozen: dict[tuple[str, str], str] = field(default_factory=dict)
    applied: list[tuple[PostingResult, PostingContext]] = field(default_factory=list)

    async def frozen_bins(
        self, location_codes: Collection[str], exempt_count: int | None = None
    ) -> dict[tuple[str, str], str]:
        return {k: n for k, n in self.frozen.items() if k[0] in location_codes}

    async def frozen_bins_at(
        self, bins: Collection[tuple[str, str]], locations: Collection[str] = ()
    ) -> dict[tuple[str, str], str]:
        asked = set(bins)
        return {k: n for k, n in self.frozen.items() if k in asked or k[0] in locations}

    async def frozen_bin_ids(self, bin_ids: Collection[int]) -> dict[int, str]:
        return {}

    async def resolve(
        self,
        results: Sequence[PostingResult],
        *,
        items: Collection[str] = (),
        bins: Collection[tuple[str, str]] = (),
    ) -> PostingIds:
        return posting_ids(results, items, bins)

    async def apply(
        self, result: PostingResult, context: PostingContext, ids: PostingIds | None = None
    ) -> None:
        self.applied.append((result, context))


def posting_ids(
    results: Sequence[PostingResult],
    items: Collection[str] = (),
    bins: Collection[tuple[str, str]] = (),
) -> PostingIds:
    """Ids for every code the results name, numbered in order of their names (a fake's
    `PostingPort.resolve`: every code is known; the fakes' writers read no tracking)."""
    sides = [m.place for r in results for m in r.movements if isinstance(m.place, LocationSide)]
    sides += [
        s for r in results for e in r.serial_effects for s in (e.source, e.target) if s is not None
    ]
    codes = set(items) | {m.item for r in results for m in r.movements}
    codes |= {e.item for r in results for e in r.serial_effects}
    places = set(bins) | {(s.location, s.bin) for s in sides if s.bin is not None}
    locations = {loc for loc, _ in places} | {s.location for s in sides}
    return PostingIds(
        items={c: n for n, c in enumerate(sorted(codes), 1)},
        tracking={c: Tracking.NONE for c in codes},
        locations={c: n for n, c in enumerate(sorted(locations), 1)},
        bins={p: n for n, p in enumerate(sorted(places), 1)},
    )
