"""What the fakes of every feature share (tests/unit/<feature>/fakes.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from server.domain.masterdata import Tracking
from server.domain.posting import LocationSide, PostingResult
from server.ports import PostingIds


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
