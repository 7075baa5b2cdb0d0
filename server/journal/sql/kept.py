"""The master-data rows of journal saves' facts, kept between saves on SQLite.

A save's facts are the stock it moves (read every time) and the master data it names:
its items with their inventory groups, its locations with the bins of its labels, and
the small tables the checks need whole (settings, companies with their GL entities,
accounting periods). On SQLite each kind is a statement of its own, and the master data
changes far less often than saves are made: a quarter of a save's statements' time went
to reading, again, the rows the previous save read.

The rows are kept per engine (one database) beside the database's master-data version
(`master_data_version`: a new random value from SQLite triggers on every write of any
table these rows come from, in the writing transaction). A save reads the version in
its own transaction first, under its write lock (BEGIN IMMEDIATE, so nothing can write
until it ends): the same value as when the rows were kept means the same rows; another
value drops everything kept. Rows are kept and used only in such an open SQLite
transaction, so the version and the rows are read from one snapshot, and only from the
rows as the statements give them: the facts are made from them exactly as before
(`SqlJournalFacts._items` and friends), ids remembered included.

The kept rows are read and changed only by saves holding SQLite's write lock (an open
SQLite transaction on a connection of this module's callers is one that has written or
sent BEGIN IMMEDIATE: Python's sqlite3 opens none before a read), so only one thread at a
time uses a database's `KeptRows`, whichever connection's thread it is.

A code that is not kept (a new item, a bin label not asked before, a code that does not
exist) sends its kind's statement as before, for all of that kind's codes, and keeps
what it gives. Past `MOST` items or bins everything is dropped and kept again as saves
go (a bound, not a policy: a save names a few dozen codes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select

from server.db.tables import MasterDataVersion

VERSION = select(MasterDataVersion.version).where(MasterDataVersion.id == 1)
# Items, or (location, label) pairs, kept at most before everything is dropped.
MOST = 100_000

Row = tuple[Any, ...]


class KeptRows:
    """One database's kept rows at one master-data version (None: a save's own, kept
    nowhere after it)."""

    def __init__(self, version: int | None) -> None:
        self.version = version
        self.items: dict[str, Row] = {}  # code -> its row of kind i
        self.locations: dict[str, Row] = {}  # code -> its row of kind l, bin left out
        # (location, label) -> the bin's id, None when the location has no such bin
        self.bins: dict[tuple[str, str], int | None] = {}
        self.small: list[Row] | None = None  # the rows of kinds s, e, r, as one union

    def item_rows(self, codes: Sequence[str]) -> list[Row] | None:
        """The rows of kind i for `codes`; None unless every one is kept."""
        items = self.items
        if not all(c in items for c in codes):
            return None
        return [items[c] for c in codes]

    def keep_items(self, rows: Sequence[Row]) -> None:
        if len(self.items) + len(rows) > MOST:
            self.items.clear()
        for row in rows:
            self.items[row[1]] = row

    def location_rows(self, codes: Sequence[str], labels: Sequence[str]) -> list[Row] | None:
        """The rows of kind l for `codes` and `labels`, as the statement gives them: each
        location with each of its bins whose label is asked for, or once with no bin;
        None unless every location and every (location, label) is kept."""
        rows: list[Row] = []
        bins = self.bins
        for code in codes:
            place = self.locations.get(code)
            if place is None:
                return None
            found = False
            for label in labels:
                key = (code, label)
                if key not in bins:
                    return None
                bin_id = bins[key]
                if bin_id is not None:
                    rows.append((*place, bin_id, label))
                    found = True
            if not found:
                rows.append((*place, None, None))
        return rows

    def keep_locations(self, rows: Sequence[Row], labels: Sequence[str]) -> None:
        """Keep the rows the statement gave for these labels: each location, its bins
        among the labels, and which labels it has no bin of."""
        if len(self.bins) + len(rows) * max(1, len(labels)) > MOST:
            self.bins.clear()
            self.locations.clear()
        for row in rows:
            location_id, code, company, entity, burden, bin_id, label = row
            self.locations[code] = (location_id, code, company, entity, burden)
            if label is not None:
                self.bins[(code, label)] = bin_id
        for code in {row[1] for row in rows}:
            for label in labels:
                self.bins.setdefault((code, label), None)


_KEPT: WeakKeyDictionary[Engine, KeptRows] = WeakKeyDictionary()
_LOCK = threading.Lock()


def kept_rows(engine: Engine, version: int) -> KeptRows:
    """The rows kept for `engine`'s database at `version`: those kept before when the
    version is the same, else none (the older ones dropped)."""
    with _LOCK:  # saves run on the threads of several connections
        kept = _KEPT.get(engine)
        if kept is None or kept.version != version:
            kept = _KEPT[engine] = KeptRows(version)
        return kept
